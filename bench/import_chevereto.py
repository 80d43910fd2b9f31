"""Benchmark: import_chevereto of a Chevereto 4.2-shaped site with 10,000 image rows.

`run()` builds the site in MariaDB (TEST_MARIADB_URL or BENCH_MARIADB_URL when set, else a
throw-away server started here, as scripts/test-services.sh does) with small files and
thumbs, then imports it in a fresh process on a fresh site (SQLite, local media) and returns
seconds, rows/s, uploads/s and how far peak RSS grew. bench/import.py calls it; it also
runs alone: `.venv/bin/python bench/import_chevereto.py`.

Sizes: BENCH_CHEVERETO_IMAGES (10000), BENCH_CHEVERETO_USERS (100).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMAGES = int(os.environ.get("BENCH_CHEVERETO_IMAGES", "10000"))
USERS = int(os.environ.get("BENCH_CHEVERETO_USERS", "100"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _MariaDB:
    """A throw-away MariaDB on loopback, for when no test server is running."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        data = os.path.join(self.folder, "data")
        user = os.environ.get("USER") or ("root" if os.getuid() == 0 else "nobody")
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", f"--user={user}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True,
        )  # fmt: skip
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.process = subprocess.Popen(
            [mariadbd, "--no-defaults", f"--datadir={data}", f"--port={self.port}",
             f"--socket={self.folder}/sock", "--bind-address=127.0.0.1", f"--user={user}",
             "--skip-name-resolve", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
             f"--log-error={self.folder}/error.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import pymysql

        deadline = time.monotonic() + 60
        while True:
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root").close()
                break
            except pymysql.MySQLError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        return f"mysql://root@127.0.0.1:{self.port}/"

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)


def build_site(server_url: str, media: str) -> tuple[str, float]:
    from tests.imports.chevereto_site import ChevSite, Like

    started = time.perf_counter()
    site = ChevSite(salt="2c4d6f8a", padding=999)
    users = [site.user(f"user{n}", password=None if n % 2 else "pw-bench-1") for n in range(USERS)]
    for owner in users:
        site.album(owner, f"Album of {owner.username}")
    # One small JPEG shared by every row: the benchmark measures the import, not the disk.
    sample = site.content_of(site.image(users[0], album_id=1, title="Picture 1"))
    for n in range(2, IMAGES + 1):
        owner = users[n % USERS]
        site.image(owner, album_id=owner.id, title=f"Picture {n}", tags=(f"tag{n % 50}",),
                   content=sample)  # fmt: skip
    site.likes += [Like(users[(n + 1) % USERS].id, "image", n) for n in range(1, IMAGES, 10)]
    url = site.create(server_url=server_url, media_root=Path(media))
    return url, time.perf_counter() - started


def child(var: str, db_url: str, media: str) -> dict[str, float]:
    """The import, in a fresh process on a fresh site."""
    os.environ["CHEVERETO_VAR_DIR"] = var
    os.environ["MEDIA_ROOT"] = os.path.join(var, "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from imports.models import ImportJob
    from imports.runner import job_run
    from imports.services import import_job_create

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    job = import_job_create(
        kind="chevereto", options={"db": db_url, "media": media}, actor=None, enqueue=False
    )
    job = job_run(job.pk)
    took = time.perf_counter() - started
    assert job.status == ImportJob.Status.DONE and job.failed == 0, (job, job.error)
    from uploads.models import Image

    return {
        "seconds": took,
        "rows": job.processed,
        "images": Image.objects.count(),
        "rss_before_kb": before,
        "rss_after_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def run() -> dict[str, object]:
    server = os.environ.get("BENCH_MARIADB_URL") or os.environ.get("TEST_MARIADB_URL")
    with tempfile.TemporaryDirectory(prefix="chv-import-chevereto-") as tmp:
        media = os.path.join(tmp, "chevereto")
        os.makedirs(media)
        if server:
            return _measure(server, tmp, media)
        with _MariaDB(os.path.join(tmp, "mariadb")) as started:
            return _measure(started, tmp, media)


def _measure(server: str, tmp: str, media: str) -> dict[str, object]:
    from tests.imports.chevereto_site import drop

    url, built = build_site(server, media)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "child", os.path.join(tmp, "site"), url, media],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        drop(url)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "image_rows": figures["images"],
        "rows": figures["rows"],
        "seconds": round(figures["seconds"], 1),
        "rows_per_s": round(figures["rows"] / figures["seconds"]),
        "uploads_per_s": round(figures["images"] / figures["seconds"]),
        "peak_rss_growth_mb": round((figures["rss_after_kb"] - figures["rss_before_kb"]) / 1024),
        "peak_rss_mb": round(figures["rss_after_kb"] / 1024),
        "site_build_seconds": round(built, 1),
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "child":
        print(json.dumps(child(*sys.argv[2:5])))
    else:
        print("import_chevereto: " + ", ".join(f"{k} {v}" for k, v in run().items()))
