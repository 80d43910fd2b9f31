"""Benchmark: imports and the big delete.

1. `import_folder` on 1,000 generated JPEGs (a tenth at the top, the rest in nine
   subfolders, so albums are made too) against a plain loop calling the upload service on
   the same files into the same albums: files/s of each and their ratio (the import's own
   bookkeeping, its walk, items, progress and album lookups, should cost little: target
   ratio at least 0.8). The two alternate for BENCH_IMPORT_ROUNDS (3) rounds, each on a
   fresh site, and the fastest run of each side is compared.
2. Deleting 10,000 uploads of one user: `moderation.services.purge_start` (rows hidden at
   once) then `purge_run` to the end (rows and files in batches). Target: under 60 s.
3. `import_chevereto` of 10,000 image rows, when bench/import_chevereto.py is there.

Each phase runs in a fresh process on a fresh site (SQLite, local media, no worker: the
derivative tasks are only queued, the same for both sides of the ratio) and reports how
far its peak RSS (resource.getrusage) grew: memory must stay flat.

Sizes: BENCH_IMPORT_FILES (1000), BENCH_DELETE_COUNT (10000).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FILES = int(os.environ.get("BENCH_IMPORT_FILES", "1000"))
DELETE_COUNT = int(os.environ.get("BENCH_DELETE_COUNT", "10000"))
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "3"))


def setup_django(var: str) -> None:
    os.environ["CHEVERETO_VAR_DIR"] = var
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def make_photos(folder: str) -> None:
    """FILES distinct photo-like 1024x768 JPEGs (~100 KB each)."""
    from PIL import Image

    base = Image.linear_gradient("L").resize((1024, 768)).convert("RGB")
    noise = Image.effect_noise((1024, 768), 32).convert("RGB")
    photo = Image.blend(base, noise, 0.4)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    jpeg = out.getvalue()
    root = Path(folder)
    for n in range(FILES):
        sub = root if n % 10 == 0 else root / f"set-{n % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        # A comment segment makes each file unique (a new md5, no duplicate answers).
        comment = f"bench photo {n}".encode()
        size = (len(comment) + 2).to_bytes(2, "big")
        (sub / f"photo-{n:05d}.jpg").write_bytes(jpeg[:2] + b"\xff\xfe" + size + comment + jpeg[2:])


def _owner() -> object:
    from accounts.models import User
    from chevereto.core.models import SiteSettings

    site = SiteSettings.load()
    # The plain loop is a client's uploads: lift the flood limit so it is not refused (the
    # import skips it by itself).
    site.flood_protection = False
    site.save()
    SiteSettings.clear_cache()
    return User.objects.create_user(username="bench", password="bench-pass-1")


def phase_import(var: str, photos: str) -> dict[str, float]:
    setup_django(var)
    from imports.models import ImportJob
    from imports.runner import job_run
    from imports.services import import_job_create

    _owner()
    before = peak_kb()
    started = time.perf_counter()
    job = import_job_create(
        kind="folder", options={"path": photos, "user": "bench"}, actor=None, enqueue=False
    )
    job = job_run(job.pk)
    took = time.perf_counter() - started
    assert job.status == ImportJob.Status.DONE and job.imported == FILES, (job, job.error)
    return {
        "seconds": took,
        "files": job.imported,
        "rss_before_kb": before,
        "rss_after_kb": peak_kb(),
    }


def phase_loop(var: str, photos: str) -> dict[str, float]:
    """The same files through `image_upload` in a plain loop, into the same albums (one per
    subfolder, made up front): a copy to a temp file (the pipeline may move its source),
    then the service; no items, progress or resumability."""
    setup_django(var)
    from django.conf import settings

    from albums.services import album_create
    from uploads.services import image_upload
    from uploads.sources import SourceFile, md5_of_path

    owner = _owner()
    root = Path(photos)
    paths = sorted(root.rglob("*.jpg"))
    albums = {
        folder: album_create(owner=owner, name=folder.name).pk  # type: ignore[arg-type]
        for folder in sorted({p.parent for p in paths} - {root})
    }
    before = peak_kb()
    started = time.perf_counter()
    for path in paths:
        fd, temp = tempfile.mkstemp(dir=settings.FILE_UPLOAD_TEMP_DIR)
        os.close(fd)
        shutil.copyfile(path, temp)
        source = SourceFile(
            path=temp, size=os.path.getsize(temp), md5=md5_of_path(temp), original_name=path.name
        )
        with source:
            image_upload(
                source=source,
                user=owner,  # type: ignore[arg-type]
                ip="127.0.0.1",
                album_id=albums.get(path.parent),
            )
    took = time.perf_counter() - started
    return {
        "seconds": took,
        "files": len(paths),
        "rss_before_kb": before,
        "rss_after_kb": peak_kb(),
    }


def phase_delete(var: str) -> dict[str, float]:
    """DELETE_COUNT uploads of one user (rows, an original and a thumb each, counters set),
    then purge_start + purge_run to the end, timed."""
    setup_django(var)
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from accounts.models import User
    from moderation.services import purge_run, purge_start
    from uploads.models import Image

    owner = User.objects.create_user(username="spammer", password="bench-pass-1")
    admin = User.objects.create_superuser(
        username="boss", email="b@example.com", password="x-pass-1"
    )
    folder = Path(settings.MEDIA_ROOT) / "images/2026/01/01"
    folder.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    rows = []
    for n in range(DELETE_COUNT):
        (folder / f"up{n}.jpg").write_bytes(b"\xff\xd8original\xff\xd9")
        (folder / f"up{n}.th.jpg").write_bytes(b"\xff\xd8thumb\xff\xd9")
        rows.append(
            Image(
                user=owner,
                path=f"images/2026/01/01/up{n}.jpg",
                mime="image/jpeg",
                size=12,
                width=10,
                height=10,
                md5=f"{n:032x}",
                created_at=now - timedelta(hours=1),
                chain=Image.CHAIN_IMAGE | Image.CHAIN_THUMB,
            )
        )
    Image.objects.bulk_create(rows, batch_size=1000)
    User.objects.filter(pk=owner.pk).update(image_count=DELETE_COUNT)
    before = peak_kb()
    started = time.perf_counter()
    job = purge_start(actor=admin, user=owner, source="command")
    hidden = time.perf_counter() - started
    job = purge_run(job_id=job.pk)
    took = time.perf_counter() - started
    assert job is not None and job.status == "done", job
    files_left = sum(1 for p in folder.iterdir())
    return {
        "seconds": took,
        "hide_seconds": hidden,
        "images": job.images_deleted,
        "files_deleted": job.files_deleted,
        "rows_left": Image.objects.count(),
        "files_left": files_left,
        "rss_before_kb": before,
        "rss_after_kb": peak_kb(),
    }


def _in_child(name: str, *args: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, name, *args], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _fastest(runs: list[dict[str, float]]) -> dict[str, float]:
    return min(runs, key=lambda r: r["seconds"])


def _largest_growth(runs: list[dict[str, float]]) -> dict[str, float]:
    return max(runs, key=lambda r: r["rss_after_kb"] - r["rss_before_kb"])


def _seconds(runs: list[dict[str, float]]) -> str:
    return ", ".join(f"{r['seconds']:.1f}" for r in runs) + " s"


def _growth(r: dict[str, float]) -> str:
    return (
        f"peak RSS {r['rss_before_kb'] / 1024:.0f} MB -> {r['rss_after_kb'] / 1024:.0f} MB "
        f"(+{(r['rss_after_kb'] - r['rss_before_kb']) / 1024:.1f} MB)"
    )


def _chevereto() -> None:
    path = ROOT / "bench" / "import_chevereto.py"
    if not path.exists():
        print("import_chevereto: bench/import_chevereto.py not there, skipped")
        return
    spec = importlib.util.spec_from_file_location("bench_import_chevereto", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.run()
    print("import_chevereto: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    from bench.results import record

    rows_per_s = figures["rows_per_s"]
    assert isinstance(rows_per_s, int | float)
    record("import", "import_chevereto rows/s", rows_per_s, "/s")


def main() -> None:
    if len(sys.argv) >= 3:
        phase = {"import": phase_import, "loop": phase_loop, "delete": phase_delete}[sys.argv[1]]
        print(json.dumps(phase(*sys.argv[2:])))  # type: ignore[operator]
        return
    with tempfile.TemporaryDirectory(prefix="chv-import-") as tmp:
        photos = os.path.join(tmp, "photos")
        make_photos(photos)
        size_mb = sum(p.stat().st_size for p in Path(photos).rglob("*")) / 1024 / 1024
        print(f"{FILES} JPEGs, {size_mb:.0f} MB, 10% at the top, the rest in 9 subfolders")
        # Alternating rounds, each on a fresh site; the fastest of each side is compared.
        # One run of each took from 4.0 to 5.7 s for the same work on one machine, enough
        # to move the ratio by a fifth.
        runs: dict[str, list[dict[str, float]]] = {"import": [], "loop": []}
        for n in range(ROUNDS):
            for side in runs:
                runs[side].append(_in_child(side, os.path.join(tmp, f"site-{side}-{n}"), photos))
        imported, looped = (_fastest(runs[side]) for side in ("import", "loop"))
        import_rate = imported["files"] / imported["seconds"]
        loop_rate = looped["files"] / looped["seconds"]
        print(
            f"import_folder: {imported['files']:.0f} files in {imported['seconds']:.1f} s "
            f"(fastest of {_seconds(runs['import'])}), {import_rate:.1f} files/s; "
            f"{_growth(_largest_growth(runs['import']))}"
        )
        print(
            f"upload service loop (same albums): {looped['files']:.0f} files in "
            f"{looped['seconds']:.1f} s (fastest of {_seconds(runs['loop'])}), "
            f"{loop_rate:.1f} files/s; {_growth(_largest_growth(runs['loop']))}"
        )
        print(f"  ratio import/loop: {import_rate / loop_rate:.2f} (target >= 0.8)")
        deleted = _in_child("delete", os.path.join(tmp, "site-delete"))
        print(
            f"delete {deleted['images']:.0f} uploads of one user (purge_start + purge_run): "
            f"{deleted['seconds']:.1f} s (hidden after {deleted['hide_seconds']:.2f} s; "
            f"target < 60 s), {deleted['images'] / deleted['seconds']:.0f} uploads/s, "
            f"{deleted['files_deleted']:.0f} files deleted, rows left {deleted['rows_left']:.0f}, "
            f"files left {deleted['files_left']:.0f}; {_growth(deleted)}"
        )
        from bench.results import record

        ratio = round(import_rate / loop_rate, 2)
        record("import", "import_folder files/s", round(import_rate, 1), "/s")
        record("import", "import / upload loop", ratio, target=">= 0.8", ok=ratio >= 0.8)
        seconds = round(deleted["seconds"], 1)
        figure = f"delete {deleted['images']:.0f} uploads"
        record("import", figure, seconds, "s", target="< 60", ok=seconds < 60)
    _chevereto()


if __name__ == "__main__":
    main()
