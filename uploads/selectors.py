"""Reads for uploads."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from uploads.files import StoredFile, parse_derivative, variant_file
from uploads.models import Image


def images_live() -> QuerySet[Image]:
    """Uploads that have not expired: an expired upload is gone at once, purged or not."""
    return Image.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def image_get_by_encoded_id(encoded: str) -> Image | None:
    try:
        pk = decode_id(encoded)
    except InvalidEncodedId:
        return None
    return images_live().select_related("user", "album").filter(pk=pk).first()


def image_slug(image: Image) -> str:
    return slugify(image.title)[:100].strip("-")


def image_viewer_path(image: Image) -> str:
    kind = "video" if image.is_video else "image"
    slug = image_slug(image)
    encoded = encode_id(image.pk)
    return f"/{kind}/{slug}.{encoded}" if slug else f"/{kind}/{encoded}"


def image_short_path(image: Image) -> str:
    return f"/{'video' if image.is_video else 'image'}/{encode_id(image.pk)}"


def image_for_storage_name(name: str) -> tuple[Image, StoredFile] | None:
    """The live upload and variant behind a storage name (`images/2024/01/02/cat.th.jpg`)."""
    image = images_live().filter(path=name).first()
    if image is not None:
        return image, StoredFile("image", image.path, image.mime)
    folder, _, filename = name.rpartition("/")
    parsed = parse_derivative(filename)
    if parsed is None:
        return None
    stem, variant = parsed
    prefix = f"{folder}/{stem}." if folder else f"{stem}."
    for candidate in images_live().filter(path__startswith=prefix):
        if "." in candidate.path[len(prefix) :]:
            continue  # a longer stem that merely starts the same way
        stored = variant_file(candidate, variant)
        if stored is not None and stored.name == name:
            return candidate, stored
    return None
