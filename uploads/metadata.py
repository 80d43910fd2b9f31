"""Stripping metadata from originals without touching their pixels.

A JPEG is never re-encoded: its segments are copied, minus the metadata ones, and the
compressed image data is copied byte for byte. The EXIF orientation survives as a minimal
EXIF block, or the picture would turn on its side.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


class MetadataError(Exception):
    """The input is not a well-formed file of the given format."""


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
    while True:
        while (
            pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF
        ):
            pos += 1  # fill bytes
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise MetadataError("malformed JPEG segment")
        marker = data[pos + 1]
        if marker == 0xD9:
            raise MetadataError("JPEG ends before its image data")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise MetadataError("JPEG segment overruns the file")
        if not inserted and marker != 0xE0:
            exif = b"Exif\0\0" + orientation_exif(orientation)
            out.append(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
            inserted = True
        if marker == 0xDA:
            out.append(data[pos:])  # scan data onwards: copied untouched
            break
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
        if kind not in _PNG_DROP:
            dst.write(data[pos:end])
        pos = end
        if kind == b"IEND":
            return
    raise MetadataError("PNG without IEND")


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
        if kind not in {b"EXIF", b"XMP "}:
            chunks.append(chunk)
        pos = end
    body = b"WEBP" + b"".join(chunks)
    dst.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def strip_metadata(src_path: str, dst: BinaryIO, *, fmt: str, orientation: int = 1) -> bool:
    """Write a metadata-free copy of `src_path` to `dst`; False when `fmt` is not handled."""
    if fmt not in {"jpeg", "png", "webp"}:
        return False
    with open(src_path, "rb") as handle:
        data = handle.read()
    if fmt == "jpeg":
        _strip_jpeg(data, dst, orientation)
    elif fmt == "png":
        _strip_png(data, dst, orientation)
    else:
        _strip_webp(data, dst)
    return True
