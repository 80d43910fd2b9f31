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
