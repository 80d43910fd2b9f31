"""With "keep EXIF" off, no stored image keeps its metadata, whatever its format: uploaded
through API V1, the file on disk has no EXIF, XMP or GPS, and it still decodes at full size."""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
import pytest
from django.test import Client
from PIL import Image as PILImage

from tests.uploads.test_serving import upload
from uploads.models import Image

pillow_heif.register_heif_opener()

SECRET_MAKE = "SecretCam-9000"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.5N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
MARKERS = (SECRET_MAKE.encode(), b"xmpmeta", b"GPSLatitude", b"Exif\x00\x00")


def _exif() -> bytes:
    exif = PILImage.Exif()
    exif[0x010F] = SECRET_MAKE  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPS IFD
    return exif.tobytes()


def _photo(fmt: str) -> bytes:
    im = PILImage.linear_gradient("L").resize((160, 120)).convert("RGB")
    out = io.BytesIO()
    if fmt == "gif":
        # GIF has no EXIF: its metadata is comments and XMP application blocks.
        im.convert("P").save(out, "GIF", comment=SECRET_MAKE.encode(), xmp=XMP)
    elif fmt == "heic":
        im.save(out, "HEIF", exif=_exif(), xmp=XMP, quality=90)
    else:
        im.save(out, fmt.upper(), exif=_exif(), xmp=XMP)
    data = out.getvalue()
    assert SECRET_MAKE.encode() in data or (fmt == "gif" and b"xmpmeta" in data)
    return data


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif", "avif", "heic"])
def test_no_stored_image_keeps_exif_xmp_or_gps_when_keep_exif_is_off(
    client: Client, api_key: str, site, media_root: Path, fmt: str
) -> None:
    site.keep_exif = False
    site.save()
    original = _photo(fmt)
    image = upload(client, api_key, original, f"phone.{fmt}")
    stored = (media_root / Image.objects.get().path).read_bytes()
    for marker in MARKERS:
        assert marker not in stored, (fmt, marker)
    reopened = PILImage.open(io.BytesIO(stored))
    assert reopened.size == (160, 120)
    reopened.load()
    assert not dict(reopened.getexif())
    assert image["original_exifdata"] is None


@pytest.mark.parametrize("fmt", ["jpeg", "heic"])
def test_metadata_is_kept_when_the_site_keeps_exif(
    client: Client, api_key: str, site, media_root: Path, fmt: str
) -> None:
    site.keep_exif = True
    site.save()
    original = _photo(fmt)
    upload(client, api_key, original, f"phone.{fmt}")
    assert (media_root / Image.objects.get().path).read_bytes() == original
