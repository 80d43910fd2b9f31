"""Bulk-made sites for the in-process benchmarks: a migrated throw-away SQLite database
and uploads inserted in batches with their counters set. No files are written: pages and
API bodies only name files (nothing opens storage to render them)."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5000


def setup_site(var: Path) -> None:
    """Django on a throw-away SQLite database (the embedded default), migrated."""
    os.environ.pop("DATABASE_URL", None)
    os.environ["CHEVERETO_VAR_DIR"] = str(var)
    os.environ["DJANGO_SETTINGS_MODULE"] = "chevereto.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def bulk_images(owner: Any, count: int, *, album: Any = None) -> None:
    """`count` uploads of `owner` (one a minute), in batches, counters set."""
    from django.db import connection, transaction
    from django.db.models import F

    from uploads.models import Image

    # A throw-away database: no need to wait for the disk between batches.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    tag = secrets.token_hex(4)
    for first in range(0, count, BATCH):
        with transaction.atomic():
            numbers = range(first, min(first + BATCH, count))
            Image.objects.bulk_create(_image(owner, album, f"{tag}-{n}", n) for n in numbers)
    type(owner).objects.filter(pk=owner.pk).update(image_count=F("image_count") + count)
    if album is not None:
        type(album).objects.filter(pk=album.pk).update(image_count=F("image_count") + count)


def _image(owner: Any, album: Any, name: str, n: int) -> Any:
    from uploads.models import Image

    return Image(
        user=owner,
        album=album,
        path=f"images/bench/{name}.jpg",
        original_filename=f"photo-{n}.jpg",
        mime="image/jpeg",
        size=123_456,
        width=1600,
        height=1200,
        md5=f"{n:032x}",
        title=f"Photo {n}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        thumb_width=160,
        thumb_height=160,
        medium_width=500,
        medium_height=375,
        chain=Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM,
    )
