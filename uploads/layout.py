"""The structure of an image file, read without decoding it: every frame's extent, the
frame count, and (for PNG) the metadata chunks.

GIF image descriptors, APNG fcTL chunks and WebP ANMF chunks are walked block by block
without decompressing anything, so a frame larger than the picture it belongs to, or ten
thousand frames, are refused before any decoder sees them. The probe (uploads.probe) builds
on this; the errors here are the probe's errors.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif


class ProbeError(Exception):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFormat(ProbeError):
    code = 613


class CorruptFile(ProbeError):
    code = 400


class TooManyPixels(ProbeError):
    code = 400


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    max_frames: int
    max_total_pixels: int


class Frames:
    """Every frame's extent and their count, checked against the limits as they are read."""

    def __init__(self, limits: Limits, width: int, height: int, *, grows: bool = False) -> None:
        self.limits = limits
        self.width, self.height = width, height
        self.grows = grows  # GIF decoders grow the canvas; APNG and WebP frames must fit
        self.count = 0
        self._check_canvas()

    def _check_canvas(self) -> None:
        width, height = self.width, self.height
        if width * height > self.limits.max_pixels:
            raise TooManyPixels(
                f"Image too large: {width}x{height} pixels exceeds the "
                f"{self.limits.max_pixels} pixel limit"
            )

    def add(self, left: int, top: int, width: int, height: int) -> None:
        self.count += 1
        if self.count > self.limits.max_frames:
            raise TooManyPixels(
                f"Image too large: more than {self.limits.max_frames} animation frames"
            )
        right, bottom = left + width, top + height
        if right > self.width or bottom > self.height:
            if right * bottom > self.limits.max_pixels:
                raise TooManyPixels(
                    f"Image too large: a frame reaches {right}x{bottom} pixels, over the "
                    f"{self.limits.max_pixels} pixel limit"
                )
            if not self.grows:
                raise CorruptFile("Invalid image: an animation frame lies outside the picture")
            # GIF decoders grow the canvas to hold a frame that overflows it: so do we.
            self.width, self.height = max(self.width, right), max(self.height, bottom)

    def check_total(self, frames: int | None = None) -> None:
        frames = self.count if frames is None else frames
        total = max(1, frames) * self.width * self.height
        if total > self.limits.max_total_pixels:
            raise TooManyPixels(
                f"Image too large: {frames} frames of {self.width}x{self.height} pixels exceed "
                f"the {self.limits.max_total_pixels} pixel limit for a whole animation"
            )


@dataclass
class Layout:
    """What the walkers read from a file's structure, before any decoder opens it."""

    width: int
    height: int
    frames: int = 1
    exif: bytes | None = None  # raw EXIF (PNG only: other formats give it without decoding)
    xmp: bytes = b""


def _skip_gif_blocks(data: memoryview, pos: int) -> int:
    size = len(data)
    while pos < size:
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos
    return pos


def _gif_layout(handle: BinaryIO, limits: Limits) -> Layout:
    data = memoryview(handle.read())
    if len(data) < 13:
        raise CorruptFile("Invalid image: the GIF header is truncated")
    width, height = struct.unpack_from("<HH", data, 6)
    frames = Frames(limits, width, height, grows=True)
    shown = (width, height)
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x2C:  # image descriptor: one frame
            if pos + 10 > len(data):
                break
            left, top, w, h = struct.unpack_from("<HHHH", data, pos + 1)
            frames.add(left, top, w, h)
            if frames.count == 1:
                shown = (frames.width, frames.height)
            local = data[pos + 9]
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            pos = _skip_gif_blocks(data, pos + 1)  # LZW code size, then the data sub-blocks
        elif block == 0x21:  # extension: its sub-blocks are skipped, never decoded
            pos = _skip_gif_blocks(data, pos + 2)
        else:
            pos += 1  # stray byte: Pillow skips it too, so the two agree on the frames
    if frames.count == 0:
        raise CorruptFile("Invalid image: the GIF has no picture")
    frames.check_total()
    # The picture's size is the screen grown to hold the first frame, as Pillow opens it
    # (and the renderer draws it); later frames are clipped to it, but their whole extent
    # counted above against the limits.
    return Layout(*shown, frames.count)


_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_TEXT_LIMIT = 1024 * 1024  # metadata larger than this is not read (it is not needed)


def _png_text(kind: bytes, payload: bytes) -> tuple[bytes, bytes] | None:
    """(keyword, text) of a text chunk; compressed text is inflated up to a bound."""
    key, sep, rest = payload.partition(b"\0")
    if not sep:
        return None
    try:
        if kind == b"tEXt":
            return key, rest
        if kind == b"zTXt":
            return key, zlib.decompressobj().decompress(rest[1:], _TEXT_LIMIT)
        compressed, _method = rest[:1], rest[1:2]
        _lang, _, rest = rest[2:].partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        if compressed == b"\1":
            text = zlib.decompressobj().decompress(text, _TEXT_LIMIT)
        return key, text
    except zlib.error:
        return None


def _raw_profile(text: bytes) -> bytes | None:
    """ImageMagick's "Raw profile type exif": a name, a length, then hex digits."""
    parts = text.split(b"\n", 3)
    if len(parts) < 4:
        return None
    with contextlib.suppress(ValueError):
        return bytes.fromhex(parts[3].decode("ascii", "ignore").replace("\n", ""))
    return None


def _png_layout(handle: BinaryIO, limits: Limits) -> Layout:
    handle.seek(8)
    header = handle.read(8 + 13)
    if len(header) < 21 or header[4:8] != b"IHDR":
        raise CorruptFile("Invalid image: the PNG has no header")
    width, height = struct.unpack_from(">II", header, 8)
    frames = Frames(limits, width, height)
    layout = Layout(width, height)
    handle.seek(4, os.SEEK_CUR)  # IHDR's CRC
    declared = 0
    while True:
        head = handle.read(8)
        if len(head) < 8:
            break
        (length,) = struct.unpack(">I", head[:4])
        kind = head[4:]
        if kind == b"IEND":
            break
        if kind in {b"acTL", b"fcTL", b"eXIf"} | _PNG_TEXT and length <= _TEXT_LIMIT:
            payload = handle.read(length)
            handle.seek(4, os.SEEK_CUR)
            if kind == b"acTL" and len(payload) >= 4:
                (declared,) = struct.unpack_from(">I", payload)
                if declared > limits.max_frames:
                    raise TooManyPixels(
                        f"Image too large: more than {limits.max_frames} animation frames"
                    )
            elif kind == b"fcTL" and len(payload) >= 20:
                w, h, left, top = struct.unpack_from(">IIII", payload, 4)
                frames.add(left, top, w, h)
            elif kind == b"eXIf":
                layout.exif = payload
            elif (text := _png_text(kind, payload)) is not None:
                key, value = text
                if key == b"XML:com.adobe.xmp":
                    layout.xmp = value
                elif key == b"Raw profile type exif" and layout.exif is None:
                    layout.exif = _raw_profile(value)
        else:
            handle.seek(length + 4, os.SEEK_CUR)  # pixel data is never read
    # Pillow counts the frames acTL declares; the pixel budget counts what is there too.
    layout.frames = max(1, declared) if declared else 1
    frames.check_total(max(layout.frames, frames.count))
    layout.width, layout.height = frames.width, frames.height
    return layout


def _u24(data: bytes, at: int) -> int:
    return data[at] | data[at + 1] << 8 | data[at + 2] << 16


def _webp_layout(handle: BinaryIO, limits: Limits) -> Layout:
    handle.seek(12)
    frames: Frames | None = None
    still: tuple[int, int] | None = None
    while True:
        head = handle.read(8)
        if len(head) < 8:
            break
        kind = head[:4]
        (length,) = struct.unpack("<I", head[4:])
        padded = length + (length & 1)
        if kind == b"VP8X" and length >= 10:
            payload = handle.read(10)
            handle.seek(padded - 10, os.SEEK_CUR)
            frames = Frames(limits, _u24(payload, 4) + 1, _u24(payload, 7) + 1)
        elif kind == b"ANMF" and length >= 16:
            payload = handle.read(16)
            handle.seek(padded - 16, os.SEEK_CUR)
            if frames is None:
                raise CorruptFile("Invalid image: a WebP animation without a canvas")
            frames.add(
                _u24(payload, 0) * 2,
                _u24(payload, 3) * 2,
                _u24(payload, 6) + 1,
                _u24(payload, 9) + 1,
            )
        elif kind == b"VP8 " and length >= 10 and still is None:
            payload = handle.read(10)
            handle.seek(padded - 10, os.SEEK_CUR)
            if payload[3:6] != b"\x9d\x01\x2a":
                raise CorruptFile("Invalid image: the WebP picture header is broken")
            w, h = struct.unpack_from("<HH", payload, 6)
            still = (w & 0x3FFF, h & 0x3FFF)
        elif kind == b"VP8L" and length >= 5 and still is None:
            payload = handle.read(5)
            handle.seek(padded - 5, os.SEEK_CUR)
            bits = int.from_bytes(payload[1:5], "little")
            still = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        else:
            handle.seek(padded, os.SEEK_CUR)
    if frames is None:
        if still is None:
            raise CorruptFile("Invalid image: the WebP has no picture")
        frames = Frames(limits, *still)
    elif still is not None:
        frames.add(0, 0, *still)  # the still picture of an extended file
    frames.check_total()
    return Layout(frames.width, frames.height, max(1, frames.count))


def read_layout(path: str, fmt: str, limits: Limits) -> Layout | None:
    walkers = {"gif": _gif_layout, "png": _png_layout, "webp": _webp_layout}
    walker = walkers.get(fmt)
    if walker is None:
        return None
    with open(path, "rb") as handle:
        return walker(handle, limits)


def heif_frames(path: str, limits: Limits) -> int:
    """Every top-level picture of a HEIC file, sized from its header (nothing is decoded)."""
    heif = pillow_heif.open_heif(path, convert_hdr_to_8bit=False)
    frames = Frames(limits, *heif.size)
    for picture in heif:
        frames.add(0, 0, *picture.size)
    frames.check_total()
    return 1  # the other pictures are thumbnails, bursts or depth maps: not an animation
