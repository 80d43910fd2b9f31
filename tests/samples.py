"""Real media files made in memory for tests: every accepted format, and the bad ones."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime
from fractions import Fraction

import av
import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

XMP_360 = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:GPano="http://ns.google.com/photos/1.0/panorama/" '
    b'GPano:ProjectionType="equirectangular"/></rdf:RDF></x:xmpmeta>'
)


def _picture(
    width: int, height: int, color: tuple[int, int, int], mode: str = "RGB"
) -> Image.Image:
    """A gradient with a coloured block: enough detail to tell orientation and crops apart."""
    im = Image.linear_gradient("L").resize((width, height)).convert(mode)
    block = Image.new(
        mode, (max(1, width // 3), max(1, height // 3)), color if mode != "L" else 128
    )
    im.paste(block, (0, 0))
    return im


def jpeg_bytes(
    width: int = 64,
    height: int = 48,
    *,
    color: tuple[int, int, int] = (200, 30, 30),
    exif_orientation: int | None = None,
    exif_title: str | None = None,
    exif_description: str | None = None,
    date_taken: datetime | None = None,
    quality: int = 90,
    xmp_360: bool = False,
    mode: str = "RGB",
) -> bytes:
    im = _picture(width, height, color, mode="RGB").convert(mode)
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    if exif_description:
        exif[0x010E] = exif_description
    if exif_title:
        exif[0x9C9B] = exif_title.encode("utf-16le") + b"\0\0"
    if date_taken:
        exif.get_ifd(0x8769)[0x9003] = date_taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x010F] = "TestCam"
    out = io.BytesIO()
    extra: dict[str, object] = {"exif": exif.tobytes(), "quality": quality}
    if xmp_360:
        extra["xmp"] = XMP_360
    im.save(out, "JPEG", **extra)
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48, *, mode: str = "RGBA") -> bytes:
    im = _picture(width, height, (20, 160, 40), mode="RGB").convert(mode)
    if mode == "RGBA":
        im.putalpha(Image.linear_gradient("L").resize((width, height)))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _frames(width: int, height: int, count: int) -> list[Image.Image]:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    return [Image.new("RGB", (width, height), colours[i % len(colours)]) for i in range(count)]


def gif_bytes(width: int = 64, height: int = 48, *, frames: int = 1) -> bytes:
    images = _frames(width, height, frames)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=frames > 1, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def webp_bytes(width: int = 64, height: int = 48, *, frames: int = 1) -> bytes:
    images = _frames(width, height, frames)
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=frames > 1, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def avif_bytes(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    _picture(width, height, (90, 30, 200)).save(out, "AVIF", quality=60)
    return out.getvalue()


def bmp_bytes(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    _picture(width, height, (30, 30, 200)).save(out, "BMP")
    return out.getvalue()


def heic_bytes(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    _picture(width, height, (200, 100, 0)).save(out, "HEIF", quality=70)
    return out.getvalue()


def _video(fmt: str, codec: str, width: int, height: int, seconds: float, fps: int) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for i in range(round(seconds * fps)):
            shade = int(255 * i / max(1, seconds * fps))
            frame = av.VideoFrame.from_image(
                Image.new("RGB", (width, height), (shade, 80, 255 - shade))
            )
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def mp4_bytes(width: int = 64, height: int = 48, seconds: float = 2.0, fps: int = 10) -> bytes:
    return _video("mp4", "libx264", width, height, seconds, fps)


def webm_bytes(width: int = 64, height: int = 48, seconds: float = 2.0, fps: int = 10) -> bytes:
    return _video("webm", "libvpx", width, height, seconds, fps)


def mov_bytes(width: int = 64, height: int = 48, seconds: float = 2.0, fps: int = 10) -> bytes:
    return _video("mov", "libx264", width, height, seconds, fps)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb_bytes(side: int = 30000) -> bytes:
    """A 1-bit PNG declaring side x side pixels (900 megapixels) in a few kilobytes."""
    row = b"\0" + b"\0" * (side // 8 + 1)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def truncated_jpeg_bytes() -> bytes:
    whole = jpeg_bytes(400, 300)
    return whole[: len(whole) // 2]


def truncated_png_bytes() -> bytes:
    whole = png_bytes(200, 150, mode="RGB")
    return whole[: len(whole) // 2]


def svg_bytes() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
    )


def html_bytes() -> bytes:
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def undecodable_jpeg_bytes(width: int = 900, height: int = 700) -> bytes:
    """A JPEG whose headers are fine (it probes) but whose Huffman table is bogus."""
    data = bytearray(jpeg_bytes(width, height))
    table = data.index(b"\xff\xc4")
    data[table + 5 : table + 21] = b"\xff" * 16
    return bytes(data)


def undecodable_webp_bytes(width: int = 300, height: int = 200) -> bytes:
    """A WebP whose headers are fine (it probes) but whose compressed data is damaged
    (libwebp decodes all or nothing)."""
    data = bytearray(webp_bytes(width, height))
    for offset in range(40, len(data), 7):
        data[offset] ^= 0x5A
    return bytes(data)


# --- Every kind of picture the probe accepts, for "every accepted image renders" ---------


def png_mode_bytes(
    width: int = 640, height: int = 400, *, mode: str = "L", transparency: object = None
) -> bytes:
    """A PNG in `mode` ("1", "L", "LA", "P", "I;16", "RGB"...), optionally with a tRNS key."""
    grey = Image.linear_gradient("L").resize((width, height))
    if mode == "I;16":
        im = grey.convert("I").point(lambda v: v * 257).convert("I;16")
    elif mode == "P":
        im = _picture(width, height, (20, 160, 40)).quantize(16)
    elif mode == "LA":
        im = Image.merge("LA", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    else:
        im = _picture(width, height, (20, 160, 40)).convert(mode)
    out = io.BytesIO()
    extra: dict[str, object] = {}
    if transparency is not None:
        extra["transparency"] = transparency
    im.save(out, "PNG", **extra)
    return out.getvalue()


def png_16bit_bytes(width: int = 640, height: int = 400, *, alpha: bool = False) -> bytes:
    """A 16-bit-per-channel RGB(A) PNG, written by hand (Pillow only writes 8-bit colour)."""
    channels = 4 if alpha else 3
    rows = []
    for y in range(height):
        row = bytearray(b"\0")
        for x in range(width):
            value = (x * 65535 // max(1, width - 1), y * 65535 // max(1, height - 1), 30000)
            row += struct.pack(">HHH", *value) + (struct.pack(">H", 40000) if alpha else b"")
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 16, 6 if alpha else 2, 0, 0, 0)
    assert len(rows[0]) == 1 + width * channels * 2
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _png_chunk(b"IEND", b"")
    )


def png_late_exif_bytes(width: int = 64, height: int = 48, *, orientation: int = 6) -> bytes:
    """A PNG whose eXIf chunk comes after the image data (where Pillow must decode to read it)."""
    whole = png_bytes(width, height, mode="RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "LateCam"
    end = whole.rindex(b"IEND") - 4
    return whole[:end] + _png_chunk(b"eXIf", exif.tobytes()) + whole[end:]


def progressive_jpeg_bytes(width: int = 900, height: int = 600) -> bytes:
    out = io.BytesIO()
    _picture(width, height, (200, 30, 30)).save(out, "JPEG", quality=85, progressive=True)
    return out.getvalue()


def ultra_hdr_jpeg_bytes(width: int = 900, height: int = 600) -> bytes:
    """An Ultra HDR-like JPEG: EXIF and an MPF index in the primary picture, and a grey
    gain-map JPEG appended after the primary's EOI (Pillow opens it as an MPO)."""
    primary = _picture(width, height, (200, 120, 30))
    gain = Image.linear_gradient("L").resize((width // 4, height // 4))
    exif = Image.Exif()
    exif[0x010F] = "Pixel"
    out = io.BytesIO()
    primary.save(
        out,
        "MPO",
        save_all=True,
        append_images=[gain],
        exif=exif.tobytes(),
        quality=90,
    )
    return out.getvalue()


def apng_bytes(width: int = 64, height: int = 48, *, frames: int = 3) -> bytes:
    images = _frames(width, height, frames)
    out = io.BytesIO()
    images[0].save(out, "PNG", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


# --- Hostile files: cheap to send, expensive to decode --------------------------------


def _gif_image(left: int, top: int, width: int, height: int, data: bytes) -> bytes:
    """An image descriptor (no local palette) and `data` as LZW sub-blocks (code size 2)."""
    blocks = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0) + b"\x02" + blocks + b"\0"


def _gif_screen(width: int, height: int) -> bytes:
    palette = b"\0\0\0\xff\xff\xff\xff\0\0\0\xff\0"  # 4 colours: a 2-bit global table
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0x81, 0, 0) + palette


def gif_frame_bomb_bytes(screen: int = 100, frame: int = 14000) -> bytes:
    """A GIF whose screen is `screen` square but whose second frame is `frame` square.

    The frame's data is a few bytes: the probe must refuse it from the descriptor alone.
    """
    small = _gif_image(0, 0, 1, 1, b"\x44\x01")
    return _gif_screen(screen, screen) + small + _gif_image(0, 0, frame, frame, b"\x44\x01") + b";"


def gif_many_frames_bytes(frames: int, size: int = 8) -> bytes:
    """A GIF of `frames` tiny frames (each a few bytes), built without an encoder."""
    one = _gif_image(0, 0, 1, 1, b"\x44\x01")
    return _gif_screen(size, size) + one * frames + b";"


def gif_growing_frame_bytes(screen: int = 10, frame: int = 300) -> bytes:
    """A decodable GIF whose second frame is larger than its logical screen."""
    big = io.BytesIO()
    Image.new("P", (frame, frame), 1).save(big, "GIF")
    data = big.getvalue()
    flags = data[10]
    start = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    while data[start] == 0x21:  # skip extensions up to the image descriptor
        start += 2
        while data[start]:
            start += data[start] + 1
        start += 1
    descriptor = data[start:-1]  # the image, without the trailer
    first = io.BytesIO()
    Image.new("P", (screen, screen), 0).save(first, "GIF")
    head = first.getvalue()[:-1]
    return head + descriptor + b";"
