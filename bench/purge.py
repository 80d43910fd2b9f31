"""Benchmark: purging 10,000 expired uploads (rows and files). Target: under 30 s, flat memory.

The uploads are made in one process; the purge runs in another, which reports its time
and how much its peak memory grew while purging.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COUNT = int(os.environ.get("BENCH_PURGE_COUNT", "10000"))


def setup_django(var: str) -> None:
    os.environ["CHEVERETO_VAR_DIR"] = var
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def seed(var: str) -> None:
    setup_django(var)
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from chevereto.settings import MEDIA_ROOT
    from uploads.models import Image

    call_command("migrate", verbosity=0)
    now = timezone.now()
    folder = Path(MEDIA_ROOT) / "images/2026/01/01"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in range(COUNT):
        (folder / f"up{n}.jpg").write_bytes(b"\xff\xd8original\xff\xd9")
        (folder / f"up{n}.th.jpg").write_bytes(b"\xff\xd8thumb\xff\xd9")
        rows.append(
            Image(
                path=f"images/2026/01/01/up{n}.jpg",
                mime="image/jpeg",
                size=12,
                width=10,
                height=10,
                md5=f"{n:032x}",
                created_at=now - timedelta(hours=2),
                expires_at=now - timedelta(minutes=1),
                chain=Image.CHAIN_IMAGE | Image.CHAIN_THUMB,
            )
        )
    Image.objects.bulk_create(rows, batch_size=1000)


def purge(var: str) -> None:
    setup_django(var)
    from chevereto.settings import MEDIA_ROOT
    from uploads.expiry import images_purge_expired
    from uploads.models import Image

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    deleted = images_purge_expired()
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    files_left = sum(1 for p in Path(MEDIA_ROOT).rglob("*") if p.is_file())
    print(f"purged {deleted} expired uploads ({2 * deleted} files) in {took:.1f} s (target < 30 s)")
    growth = (after - before) / 1024
    print(f"  peak memory {before / 1024:.0f} MB -> {after / 1024:.0f} MB (+{growth:.1f} MB)")
    print(f"  rows left: {Image.objects.count()}, files left: {files_left}")
    from bench.results import record

    figure = f"purge {deleted} expired uploads"
    record("purge", figure, round(took, 1), "s", target="< 30", ok=took < 30)
    record("purge", "peak RSS growth", round(growth, 1), "MB")


def main() -> None:
    if len(sys.argv) == 3:
        {"seed": seed, "purge": purge}[sys.argv[1]](sys.argv[2])
        return
    with tempfile.TemporaryDirectory(prefix="chv-purge-") as var:
        subprocess.run([sys.executable, __file__, "seed", var], check=True)
        subprocess.run([sys.executable, __file__, "purge", var], check=True)


if __name__ == "__main__":
    main()
