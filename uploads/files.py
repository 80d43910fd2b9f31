"""The files of an upload: storage names of the original and its derivatives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from chevereto.core.formats import FORMAT_BY_MIME
from chevereto.core.securityheaders import media_object_parameters
from uploads.models import Image
from uploads.naming import derivative_name
from uploads.processing import output_format

VIDEO_STILL = ("jpeg", "image/jpeg")
T = TypeVar("T")

Variant = str  # "image" | "thumb" | "medium" | "frame"
MARKERS = {"thumb": "th", "medium": "md", "frame": "fr"}
BITS = {
    "image": Image.CHAIN_IMAGE,
    "thumb": Image.CHAIN_THUMB,
    "medium": Image.CHAIN_MEDIUM,
    "frame": Image.CHAIN_FRAME,
}


@dataclass(frozen=True)
class StoredFile:
    variant: Variant
    name: str  # storage name
    mime: str

    @property
    def filename(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return self.filename.rsplit(".", 1)[0]

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1]


def source_format(image: Image) -> str:
    return FORMAT_BY_MIME.get(image.mime, "jpeg")


def has_medium(image: Image) -> bool:
    """Whether the upload gets a medium size at all (wider than medium, or animated)."""
    return not image.is_video and image.medium_width > 0


def variant_file(image: Image, variant: Variant) -> StoredFile | None:
    if variant == "image":
        return StoredFile("image", image.path, image.mime)
    if image.is_video:
        if variant not in {"thumb", "frame"}:
            return None
        ext, mime = VIDEO_STILL
    else:
        if variant == "frame" or (variant == "medium" and not has_medium(image)):
            return None
        _, mime, ext = output_format(source_format(image))
    return StoredFile(variant, derivative_name(image.path, MARKERS[variant], ext), mime)


def all_files(image: Image) -> list[StoredFile]:
    files = [variant_file(image, v) for v in ("image", "thumb", "medium", "frame")]
    return [f for f in files if f is not None]


def parse_derivative(filename: str) -> tuple[str, Variant] | None:
    """`cat.th.jpg` → ("cat", "thumb"); None when the name is not a derivative's."""
    parts = filename.rsplit(".", 2)
    if len(parts) != 3:
        return None
    stem, marker, _ext = parts
    for variant, mark in MARKERS.items():
        if marker == mark and stem:
            return stem, variant
    return None


def typed(content: T, *, mime: str, filename: str, md5: str = "") -> T:
    """`content` marked with the type and disposition its stored object must carry, from
    the upload's row: an S3 bucket (uploads.s3) then serves it as the site would, instead
    of guessing from the name. ``md5`` (hex), when the caller knows it, is checked by the
    bucket against the bytes it receives. Local storage ignores the marks."""
    content.object_parameters = media_object_parameters(mime=mime, filename=filename)  # type: ignore[attr-defined]
    content.content_md5 = md5  # type: ignore[attr-defined]
    return content
