"""Stripping metadata from originals, failing closed.

JPEG, PNG, WebP and GIF are never re-encoded: their segments, chunks or blocks are
copied, minus the metadata ones, and the compressed image data is copied byte for byte.
The EXIF orientation survives as a minimal EXIF block, or the picture would turn on its
side. HEIC and AVIF keep their metadata in items of the container's `meta` box that the
picture's own items point into; no library rewrites those safely, so they are decoded
and encoded again, losslessly (HEIC) or at the highest quality with full-resolution
colour (AVIF, differences of at most one level), upright, keeping the colour profile.

Whatever cannot be stripped raises MetadataError: a caller never gets the original back.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageOps

from chevereto.core.formats import PILLOW_FORMAT

pillow_heif.register_heif_opener()
warnings.simplefilter("error", Image.DecompressionBombWarning)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Ancillary chunks that say how to show the pixels; every other ancillary chunk (text,
# eXIf, tIME, C2PA, private chunks) is dropped. Critical chunks are always kept.
_PNG_KEEP = {
    b"tRNS",
    b"gAMA",
    b"cHRM",
    b"sRGB",
    b"iCCP",
    b"sBIT",
    b"bKGD",
    b"pHYs",
    b"acTL",
    b"fcTL",
    b"fdAT",
    b"cICP",
    b"mDCv",
    b"cLLi",
}


class MetadataError(Exception):
    """The metadata cannot be removed (malformed input, unknown format): refuse the file."""


def orientation_exif(orientation: int) -> bytes:
    """A TIFF block with a single IFD0 entry: Orientation (SHORT)."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    return (
        b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + struct.pack(">I", 0)
    )


def _jpeg_keep(marker: int, payload: bytes) -> bool:
    if marker == 0xE0 or marker == 0xEE:  # JFIF, Adobe (needed to read CMYK/YCCK right)
        return True
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\0")
    # Other APPn segments and comments are metadata; everything else is image structure.
    return not (0xE1 <= marker <= 0xEF or marker == 0xFE)


def _strip_jpeg(data: bytes, dst: BinaryIO, orientation: int) -> None:
    if not data.startswith(b"\xff\xd8"):
        raise MetadataError("not a JPEG")
    out = [b"\xff\xd8"]
    pos = 2
    inserted = orientation == 1
    scanned = False
    while True:
        while (
            pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF
        ):
            pos += 1  # fill bytes
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise MetadataError("malformed JPEG segment")
        marker = data[pos + 1]
        if marker == 0xD9:
            if not scanned:
                raise MetadataError("JPEG ends before its image data")
            # The end of the picture. Whatever follows (an Ultra HDR gain map, whose
            # pointers were in the dropped MPF and XMP segments, or any appended file)
            # is not part of it and is not copied.
            out.append(b"\xff\xd9")
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > len(data):
            raise MetadataError("malformed JPEG segment")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise MetadataError("JPEG segment overruns the file")
        if not inserted and marker != 0xE0:
            exif = b"Exif\0\0" + orientation_exif(orientation)
            out.append(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
            inserted = True
        if marker == 0xDA:
            # Entropy-coded data, copied untouched up to the next marker (0xFF followed by
            # neither a stuffed zero nor a restart marker): a progressive JPEG has more
            # tables and scans after it, and metadata segments could hide between them.
            scan = end
            while True:
                scan = data.find(b"\xff", scan)
                if scan < 0 or scan + 1 >= len(data):
                    raise MetadataError("JPEG data ends inside a scan")
                following = data[scan + 1]
                if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    scan += 1 if following == 0xFF else 2
                    continue
                break
            out.append(data[pos:scan])
            pos = scan
            scanned = True
            continue
        if _jpeg_keep(marker, data[pos + 4 : end]):
            out.append(data[pos:end])
        pos = end
    for part in out:
        dst.write(part)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def _strip_png(data: bytes, dst: BinaryIO, orientation: int) -> None:
    if not data.startswith(_PNG_SIGNATURE):
        raise MetadataError("not a PNG")
    dst.write(_PNG_SIGNATURE)
    pos = len(_PNG_SIGNATURE)
    wrote_exif = orientation == 1
    while pos < len(data):
        if pos + 12 > len(data):
            raise MetadataError("truncated PNG chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise MetadataError("PNG chunk overruns the file")
        if kind == b"IDAT" and not wrote_exif:
            dst.write(_png_chunk(b"eXIf", orientation_exif(orientation)))
            wrote_exif = True
        if kind in _PNG_KEEP or kind[0] & 0x20 == 0:  # bit 5 clear: a critical chunk
            dst.write(data[pos:end])
        pos = end
        if kind == b"IEND":
            return
    raise MetadataError("PNG without IEND")


# The chunks of the picture itself; EXIF, XMP and any unknown chunk are dropped.
_WEBP_KEEP = {b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}


def _strip_webp(data: bytes, dst: BinaryIO) -> None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MetadataError("not a WebP")
    chunks: list[bytes] = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + length + (length & 1)
        if pos + 8 + length > len(data):
            raise MetadataError("WebP chunk overruns the file")
        chunk = data[pos:end]
        if kind == b"VP8X":
            # Clear the EXIF (0x08) and XMP (0x04) flags: those chunks are gone.
            chunk = chunk[:8] + bytes([chunk[8] & ~0x0C & 0xFF]) + chunk[9:]
        if kind in _WEBP_KEEP:
            chunks.append(chunk)
        pos = end
    body = b"WEBP" + b"".join(chunks)
    dst.write(b"RIFF" + struct.pack("<I", len(body)) + body)


_GIF_TRAILER = 0x3B
_GIF_LOOPING = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _gif_sub_blocks(data: bytes, pos: int) -> int:
    """Position after the sub-blocks starting at `pos` (each a length byte, then data)."""
    while True:
        if pos >= len(data):
            raise MetadataError("GIF data ends inside a block")
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos


def _strip_gif(data: bytes, dst: BinaryIO) -> None:
    """Keep the screen, the pictures, their timing (graphic control) and the loop count;
    drop comments, plain-text and every other application extension (XMP among them)."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise MetadataError("not a GIF")
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    out = [data[:pos]]
    while True:
        if pos >= len(data):
            raise MetadataError("GIF without a trailer")
        block = data[pos]
        if block == _GIF_TRAILER:
            out.append(b"\x3b")
            break
        if block == 0x2C:
            if pos + 10 > len(data):
                raise MetadataError("truncated GIF image descriptor")
            local = data[pos + 9]
            start = pos
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            pos = _gif_sub_blocks(data, pos + 1)
            out.append(data[start:pos])
        elif block == 0x21 and pos + 2 <= len(data):
            label = data[pos + 1]
            start = pos
            pos = _gif_sub_blocks(data, pos + 2)
            if label == 0xF9:  # graphic control: delay, disposal, transparency
                out.append(data[start:pos])
            elif (
                label == 0xFF
                and data[start + 2] == 11
                and data[start + 3 : start + 14] in _GIF_LOOPING
            ):
                loop = data[start + 14 : start + 18]
                if len(loop) == 4 and loop[0] == 3 and loop[1] == 1:
                    # Rebuilt with only the loop count: nothing else can ride along.
                    out.append(b"\x21\xff\x0b" + data[start + 3 : start + 14] + loop + b"\0")
        else:
            raise MetadataError("unknown GIF block")
    for part in out:
        dst.write(part)


_REENCODE = {
    "heic": ("HEIF", {"quality": -1}),
    "avif": ("AVIF", {"quality": 100, "subsampling": "4:4:4"}),
}


def _reencode(src_path: str, dst: BinaryIO, fmt: str) -> None:
    """Decode and encode again with no metadata but the colour profile, upright."""
    pil_format, options = _REENCODE[fmt]
    try:
        with Image.open(src_path, formats=[PILLOW_FORMAT[fmt]]) as im:
            icc = im.info.get("icc_profile")
            frames: list[Image.Image] = []
            durations: list[int] = []
            for index in range(getattr(im, "n_frames", 1) if fmt == "avif" else 1):
                im.seek(index)
                # HEIC pictures come upright from libheif (their EXIF orientation is
                # reset); an AVIF's orientation is applied here.
                frame = ImageOps.exif_transpose(im) if fmt == "avif" else im.copy()
                frame = frame or im.copy()
                if frame.mode not in {"RGB", "RGBA", "L", "LA"}:
                    frame = frame.convert("RGBA" if "A" in frame.mode else "RGB")
                durations.append(int(im.info.get("duration", 0) or 0))
                frame.info = {}  # the encoders copy whatever info holds: EXIF, XMP
                frames.append(frame)
            out = io.BytesIO()
            extra: dict[str, object] = dict(options)
            if icc:
                extra["icc_profile"] = icc
            if len(frames) > 1:
                extra.update(save_all=True, append_images=frames[1:], duration=durations)
            frames[0].save(out, pil_format, **extra)
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        raise MetadataError(f"cannot re-encode the {fmt.upper()} file") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MetadataError("the picture is too large to re-encode") from exc
    data = out.getvalue()
    for marker in (b"Exif\0\0", b"xmpmeta", b"<rdf:"):
        if marker in data:
            raise MetadataError(f"the re-encoded {fmt.upper()} file still holds metadata")
    dst.write(data)


def strip_metadata(src_path: str, dst: BinaryIO, *, fmt: str, orientation: int = 1) -> bool:
    """Write a metadata-free copy of `src_path` to `dst` and return True.

    Every stored image format is handled (jpeg, png, webp, gif by their structure; heic,
    avif by a lossless or near-lossless re-encode); anything else, or a file that cannot
    be stripped, raises MetadataError, so the caller never stores the original instead.
    Pixels and size are kept; JPEG and PNG keep `orientation` as a minimal EXIF block,
    HEIC and AVIF come out upright.
    """
    if fmt in _REENCODE:
        _reencode(src_path, dst, fmt)
        return True
    if fmt not in {"jpeg", "png", "webp", "gif"}:
        raise MetadataError(f"metadata of {fmt} files cannot be removed")
    with open(src_path, "rb") as handle:
        data = handle.read()
    if fmt == "jpeg":
        _strip_jpeg(data, dst, orientation)
    elif fmt == "png":
        _strip_png(data, dst, orientation)
    elif fmt == "gif":
        _strip_gif(data, dst)
    else:
        _strip_webp(data, dst)
    return True
