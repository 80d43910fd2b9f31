"""Every file format the site knows, in one table: what uploads accept, how they are named
and served, and what their derivatives are made as.

The probe, the renderer, file serving and the dashboard's format choices all read these
tables, so a format is added (or its MIME type corrected) in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str  # our name for it (the probe's `format`)
    kind: str  # "image" | "video"
    mime: str
    extension: str  # the extension of stored files, and the dashboard's choice
    # What derivatives (thumb, medium) of an original in this format are made as:
    # (Pillow format, MIME type, extension). Browsers cannot show HEIC, and BMP is
    # stored as PNG, hence the exceptions. Videos get JPEG frames.
    derivative: tuple[str, str, str] = ("JPEG", "image/jpeg", "jpg")
    # The one Pillow plugin allowed to open it (None: not a picture Pillow opens).
    pillow: str | None = None


_JPEG_OUT = ("JPEG", "image/jpeg", "jpg")
_PNG_OUT = ("PNG", "image/png", "png")

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("jpeg", "image", "image/jpeg", "jpg", _JPEG_OUT, "JPEG"),
        Format("png", "image", "image/png", "png", _PNG_OUT, "PNG"),
        Format("gif", "image", "image/gif", "gif", ("GIF", "image/gif", "gif"), "GIF"),
        Format("webp", "image", "image/webp", "webp", ("WEBP", "image/webp", "webp"), "WEBP"),
        Format("avif", "image", "image/avif", "avif", ("AVIF", "image/avif", "avif"), "AVIF"),
        Format("bmp", "image", "image/bmp", "bmp", _PNG_OUT, "BMP"),
        Format("heic", "image", "image/heic", "heic", _JPEG_OUT, "HEIF"),
        Format("mp4", "video", "video/mp4", "mp4"),
        Format("webm", "video", "video/webm", "webm"),
        Format("mov", "video", "video/quicktime", "mov"),
    )
}

IMAGE_FORMATS: frozenset[str] = frozenset(n for n, f in FORMATS.items() if f.kind == "image")
VIDEO_FORMATS: frozenset[str] = frozenset(n for n, f in FORMATS.items() if f.kind == "video")

# (Pillow format, MIME type, extension) of derivatives, by the original's format.
DERIVATIVE_OUTPUT: dict[str, tuple[str, str, str]] = {
    n: f.derivative for n, f in FORMATS.items() if f.kind == "image"
}

# The Pillow plugin of each image format: a file is never handed to another format's
# decoder (a file sniffed as PNG is decoded as a PNG or not at all).
PILLOW_FORMAT: dict[str, str] = {n: f.pillow for n, f in FORMATS.items() if f.pillow}

# Our format name of a stored image, by its MIME type (image/heif is HEIC's other name).
FORMAT_BY_MIME: dict[str, str] = {
    **{f.mime: n for n, f in FORMATS.items() if f.kind == "image"},
    "image/heif": "heic",
}

# The formats a site admin can enable, named as the dashboard (and Chevereto) names them.
FORMAT_CHOICES: tuple[str, ...] = tuple(f.extension for f in FORMATS.values())
