"""What a file really is, read from its content: type, dimensions, animation, metadata.

Runs inside the upload request, so it never decodes pixel data (it never calls `load()`):
headers, metadata and a cheap structural check for truncation are enough to accept or
refuse a file. Animated files are walked block by block without decompressing anything
(uploads.layout), so a frame that is larger than the picture it belongs to, or ten
thousand frames, are refused before any decoder sees them. Full decoding happens later, on
a worker, when derivatives are made.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import av
import pillow_heif
from PIL import ExifTags, Image, TiffImagePlugin, UnidentifiedImageError

from chevereto.core.formats import FORMATS, PILLOW_FORMAT
from uploads.layout import (
    CorruptFile,
    Frames,
    Layout,
    Limits,
    ProbeError,
    TooManyPixels,
    UnsupportedFormat,
    heif_frames,
    read_layout,
)

# The probe's errors are raised by the layout walkers too; callers catch them from here.
__all__ = [
    "CorruptFile",
    "Probe",
    "ProbeError",
    "TooManyPixels",
    "UnsupportedFormat",
    "probe_file",
    "sniff",
]

pillow_heif.register_heif_opener()
# Pillow only warns between MAX_IMAGE_PIXELS and twice that: a warning is not a limit.
warnings.simplefilter("error", Image.DecompressionBombWarning)

DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_FRAMES = 1000
# All frames of an animation together: the renderer composes every frame on the whole
# canvas, so its work (and the time a worker spends) grows with frames x canvas.
TOTAL_PIXELS_FACTOR = 4


@dataclass(frozen=True)
class Probe:
    kind: str
    format: str
    mime: str
    extension: str
    width: int
    height: int
    orientation: int = 1
    is_animated: bool = False
    frames: int = 1
    bits: int = 8
    channels: int | None = None
    exif: dict[str, Any] | None = None
    title: str | None = None
    description: str | None = None
    date_taken: datetime | None = None
    is_360: bool = False
    duration: float | None = None


_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MOV_BRANDS = {b"qt  "}
_TAIL = 64 * 1024
_CHANNELS = {
    **dict.fromkeys(["1", "L", "P", "I;16", "I", "F"], 1),
    **dict.fromkeys(["LA", "PA"], 2),
    **dict.fromkeys(["RGB", "YCbCr", "LAB", "HSV"], 3),
    **dict.fromkeys(["RGBA", "CMYK"], 4),
}
_GPANO = re.compile(rb"GPano:ProjectionType\s*(?:=\s*[\"']|>)\s*equirectangular", re.IGNORECASE)
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_MAKER_NOTE = 0x927C
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


def sniff(head: bytes) -> str | None:
    """The format named by a file's first bytes, or None when it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        major = head[8:12]
        size = int.from_bytes(head[:4], "big")
        brands = {major} | {head[i : i + 4] for i in range(16, min(size, len(head)), 4)}
        if major in _AVIF_BRANDS:
            return "avif"
        if major in _HEIC_BRANDS or (major not in _MOV_BRANDS and brands & {b"heic", b"heix"}):
            return "heic"
        if major in _MOV_BRANDS:
            return "mov"
        if brands & _AVIF_BRANDS and not brands & {b"isom", b"mp41", b"mp42"}:
            return "avif"
        return "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip") and head[:4] != b"\0\0\0\0":
        return "mov"
    return None


def _check_structure(path: str, fmt: str, size: int) -> None:
    """Refuse truncated files without decoding them: each format has a known ending."""
    with open(path, "rb") as handle:
        handle.seek(max(0, size - _TAIL))
        tail = handle.read()
        if fmt == "webp":
            handle.seek(4)
            riff_size = int.from_bytes(handle.read(4), "little")
    if fmt == "jpeg" and b"\xff\xd9" not in tail:
        raise CorruptFile("Invalid image: the JPEG data is truncated")
    if fmt == "png" and b"IEND" not in tail:
        raise CorruptFile("Invalid image: the PNG data is truncated")
    if fmt == "gif" and b"\x3b" not in tail:
        raise CorruptFile("Invalid image: the GIF data is truncated")
    if fmt == "webp" and riff_size + 8 > size:
        raise CorruptFile("Invalid image: the WebP data is truncated")


def _json_safe(value: Any) -> Any:
    if isinstance(value, TiffImagePlugin.IFDRational):
        return float(value) if value.denominator else None
    if isinstance(value, bytes):
        if len(value) > 64:
            return None
        text = value.rstrip(b"\0").decode("utf-8", "replace")
        return text if text.isprintable() else None
    if isinstance(value, tuple | list):
        items = [_json_safe(v) for v in value]
        return items if len(items) <= 64 else None
    if isinstance(value, str):
        return value.rstrip("\0")
    if isinstance(value, int | float | bool) or value is None:
        return value
    return None


def _clean(exc: BaseException, path: str) -> str:
    """An exception's message fit for a client: no server path in it, however it got there."""
    text = str(exc) or type(exc).__name__
    if path:
        text = text.replace(path, "the file").replace(os.path.basename(path), "the file")
    # Paths of other files (a decoder's temporary copy) are cut out too.
    text = re.sub(r"""['"]?(?:[A-Za-z]:)?[\\/][^\s'",;:]*['"]?""", "the file", text)
    return text[:200]


def _read_exif(raw: Image.Exif) -> tuple[dict[str, Any] | None, int]:
    tags: dict[str, Any] = {}
    try:
        items: list[tuple[int, Any]] = list(raw.items())
    except Exception:  # malformed EXIF must not make a good picture unusable
        return None, 1
    # A broken sub-IFD leaves the main one usable.
    with contextlib.suppress(Exception):
        items += list(raw.get_ifd(_EXIF_IFD).items())
    for tag, value in items:
        if tag in (_MAKER_NOTE, _EXIF_IFD, 0x8825):
            continue
        name = ExifTags.TAGS.get(tag, f"Tag{tag:04X}")
        if name.startswith("XP") and isinstance(value, bytes | tuple):
            # Windows' XP* tags are UTF-16LE text stored as bytes.
            raw_bytes = bytes(value) if isinstance(value, tuple) else value
            value = raw_bytes.decode("utf-16le", "replace").rstrip("\0")
        safe = _json_safe(value)
        if safe is not None and safe != "":
            tags[name] = safe
    orientation = raw.get(_ORIENTATION, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    if not tags:
        return None, orientation
    try:
        json.dumps(tags)
    except (TypeError, ValueError):
        return None, orientation
    return tags, orientation


_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')


def _exif_of(im: Image.Image, layout: Layout | None, xmp: bytes) -> Image.Exif:
    """The EXIF block, read without decoding pixels.

    Pillow reads a PNG's EXIF by decoding the whole bitmap when it sits after the image
    data (`getexif()` calls `load()`), so for PNG it comes from our own chunk walk. Other
    formats give it from their headers.
    """
    if im.format != "PNG":
        try:
            return im.getexif()
        except Exception:
            return Image.Exif()
    exif = Image.Exif()
    if layout is not None and layout.exif:
        with contextlib.suppress(Exception):
            exif.load(layout.exif)
    # As Pillow does: an orientation only in XMP still turns the picture.
    if _ORIENTATION not in exif and (match := _XMP_ORIENTATION.search(xmp)):
        exif[_ORIENTATION] = int(match.group(1))
    return exif


def _xmp_bytes(im: Image.Image, layout: Layout | None) -> bytes:
    if layout is not None and layout.xmp:
        return layout.xmp
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    return xmp.encode("utf-8", "replace") if isinstance(xmp, str) else bytes(xmp)


def _xmp_text(xmp: bytes, tag: str) -> str | None:
    match = re.search(rb"<dc:" + tag.encode() + rb">.*?<rdf:li[^>]*>(.*?)</rdf:li>", xmp, re.DOTALL)
    if not match:
        return None
    text = match.group(1).decode("utf-8", "replace").strip()
    return text or None


def _date_taken(exif: dict[str, Any] | None) -> datetime | None:
    for key in ("DateTimeOriginal", "DateTimeDigitized", "DateTime"):
        value = (exif or {}).get(key)
        if isinstance(value, str):
            try:
                return datetime.strptime(value.strip()[:19], "%Y:%m:%d %H:%M:%S")
            except ValueError:
                continue
    return None


# Pillow's plugin for each format: a file is never handed to another format's decoder.


def _probe_image(path: str, fmt: str, limits: Limits) -> Probe:
    spec = FORMATS[fmt]
    try:
        layout = read_layout(path, fmt, limits)
        with Image.open(path, formats=[PILLOW_FORMAT[fmt]]) as im:
            width, height = im.size
            if width < 1 or height < 1:
                raise CorruptFile("Invalid image: no pixels")
            frames = 1
            if layout is not None:
                frames = layout.frames
            if fmt == "heic":
                frames = heif_frames(path, limits)
            canvas = Frames(limits, width, height)
            if fmt == "avif":
                # Every picture of an AVIF sequence has the canvas size.
                frames = getattr(im, "n_frames", 1)
                for _ in range(frames):
                    canvas.add(0, 0, width, height)
            canvas.check_total(frames)
            xmp = _xmp_bytes(im, layout)
            exif, orientation = _read_exif(_exif_of(im, layout, xmp))
            mode = im.mode
            bits = 16 if mode.startswith("I;16") or mode == "I" else 8
            title = (exif or {}).get("XPTitle") or _xmp_text(xmp, "title")
            description = (exif or {}).get("ImageDescription") or _xmp_text(xmp, "description")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (set from UPLOAD_MAX_PIXELS when the app starts).
        raise TooManyPixels(
            f"Image too large: over the {Image.MAX_IMAGE_PIXELS} pixel limit"
        ) from None
    except (
        UnidentifiedImageError,
        SyntaxError,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
    ) as exc:
        raise CorruptFile(f"Invalid image: {_clean(exc, path)}") from None
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return Probe(
        kind=spec.kind,
        format=fmt,
        mime=spec.mime,
        extension=spec.extension,
        width=width,
        height=height,
        orientation=orientation,
        is_animated=frames > 1,
        frames=frames,
        bits=bits,
        channels=_CHANNELS.get(mode),
        exif=exif,
        title=str(title)[:100] if title else None,
        description=str(description) if description else None,
        date_taken=_date_taken(exif),
        is_360=bool(_GPANO.search(xmp)),
    )


def _probe_video(path: str, fmt: str, limits: Limits) -> Probe:
    spec = FORMATS[fmt]
    try:
        with av.open(path, metadata_errors="ignore") as container:
            streams = container.streams.video
            if not streams:
                raise CorruptFile("Invalid video: no video stream")
            stream = streams[0]
            if stream.codec_context is None:
                raise CorruptFile("Invalid video: unknown video codec")
            width, height = stream.codec_context.width, stream.codec_context.height
            duration: float | None = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            frames = stream.frames or 0
            if not width or not height:
                raise CorruptFile("Invalid video: no picture size")
            if width * height > limits.max_pixels:
                raise TooManyPixels(f"Video too large: {width}x{height} pixels")
            first = _first_frame(container, stream)
    except av.FFmpegError as exc:
        raise CorruptFile(f"Invalid video: {_clean(exc, path)}") from None
    if first is None:
        # Nothing to show, and no frame for the poster (.fr): not a video anyone can watch.
        raise CorruptFile("Invalid video: no decodable frame")
    if (first.width, first.height) != (width, height) and first.width * first.height:
        # The container's header lied about the size: the pictures are what a player shows.
        width, height = first.width, first.height
        if width * height > limits.max_pixels:
            raise TooManyPixels(f"Video too large: {width}x{height} pixels")
    if duration is not None and not (math.isfinite(duration) and 0 <= duration < _MAX_DURATION):
        duration = None  # a header claiming centuries: unknown, rather than a lie
    return Probe(
        kind=spec.kind,
        format=fmt,
        mime=spec.mime,
        extension=spec.extension,
        width=width,
        height=height,
        frames=frames,
        is_animated=False,
        channels=3,
        duration=duration,
    )


# Packets read for a video's first picture: a codec needs a few before its first frame,
# and a file that gives none within these is not worth more of the request's time.
_FIRST_FRAME_PACKETS = 64
_MAX_DURATION = 366 * 24 * 3600.0


def _first_frame(container: Any, stream: Any) -> Any:
    """The first decodable picture of `stream`, or None (its size was checked already).

    One frame is decoded inside the request: a container can hold a stream with no frame
    or frames its codec cannot decode, and an upload nobody can play must be refused here.
    """
    stream.thread_type = "NONE"
    for count, packet in enumerate(container.demux(stream)):
        if count >= _FIRST_FRAME_PACKETS:
            return None
        try:
            for frame in packet.decode():
                return frame
        except av.FFmpegError:
            continue  # a damaged packet; a later key frame may still decode
    return None


def _setting(name: str, default: int) -> int:
    """A limit from Django's settings when they are configured (the probe also runs alone)."""
    try:
        from django.conf import settings

        return int(getattr(settings, name, default))
    except Exception:  # settings not configured: a plain script or a benchmark child
        return default


def probe_file(
    path: str,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int | None = None,
    max_total_pixels: int | None = None,
) -> Probe:
    """Probe `path`; refuses with TooManyPixels when a frame's extent (left + width,
    top + height) or the canvas is over `max_pixels`, when there are more than
    `max_frames` frames (default: settings.UPLOAD_MAX_FRAMES), or when frames x canvas is
    over `max_total_pixels` (default: TOTAL_PIXELS_FACTOR x max_pixels)."""
    limits = Limits(
        max_pixels=max_pixels,
        max_frames=max_frames or _setting("UPLOAD_MAX_FRAMES", DEFAULT_MAX_FRAMES),
        max_total_pixels=max_total_pixels or TOTAL_PIXELS_FACTOR * max_pixels,
    )
    size = os.path.getsize(path)
    if size == 0:
        raise CorruptFile("Empty file")
    with open(path, "rb") as handle:
        head = handle.read(64)
    fmt = sniff(head)
    if fmt is None:
        raise UnsupportedFormat("Unsupported file type: only images and videos are accepted")
    if FORMATS[fmt].kind == "video":
        return _probe_video(path, fmt, limits)
    _check_structure(path, fmt, size)
    return _probe_image(path, fmt, limits)
