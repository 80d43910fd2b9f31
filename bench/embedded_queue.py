"""Benchmark: does the embedded queue keep up? Tasks drained by `celery worker -B` on the
filesystem broker against the same derivatives rendered in-process.

A burst of 100 uploads (2000x1500 JPEGs, through API V1) is made on a throw-away site; their
derivative tasks are then put in the queue folder at once for a real worker started as
scripts/run-site.sh starts it, and the wall time until every row has its thumb and medium bits
is measured. The reference renders the same derivatives (the function the task runs) in as
many processes as the worker has. Target: tasks/s drained / uploads/s rendered >= 0.8, best
of BENCH_ROUNDS (2) rounds each. With BENCH_BEFORE=1 (the default) it also drains the burst
with the old worker settings (1 s polling, prefetch 1, a new database connection per task).
Runs on 127.0.0.1 and local files only; cleans up its temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import io
import multiprocessing
import os
import resource
import signal
import subprocess
import time

from bench.common import BIN, ROOT, BenchSite
from bench.results import record
from bench.upload import variant

BURST = int(os.environ.get("BENCH_BURST", "100"))
CONCURRENCY = int(os.environ.get("CELERY_CONCURRENCY", "2"))  # as scripts/run-site.sh
BEFORE = os.environ.get("BENCH_BEFORE", "1") != "0"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
TARGET = 0.8

# The worker settings before this benchmark's tuning, for the "before" figure.
OLD_SETTINGS = """
from chevereto.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "polling_interval": 1.0,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_DB_REUSE_MAX = None
"""


def make_jpeg(width: int = 2000, height: int = 1500) -> bytes:
    from PIL import Image

    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, noise, 0.5).save(out, "JPEG", quality=90)
    return out.getvalue()


def upload_burst(key: str) -> list[int]:
    from django.test import Client

    from uploads.models import Image

    client = Client(SERVER_NAME="127.0.0.1")
    jpeg = make_jpeg()
    for n in range(BURST):
        response = client.post(
            "/api/1/upload", {"source": io.BytesIO(variant(jpeg, n))}, HTTP_X_API_KEY=key
        )
        assert response.status_code == 200, response.content[:500]
    return list(Image.objects.order_by("pk").values_list("pk", flat=True))


def drop_queued(site: BenchSite) -> None:
    """Forget the tasks the uploads queued: each run enqueues its own burst."""
    for message in (site.var / "celery" / "out").glob("*.msg"):
        message.unlink()


def reset(ids: list[int]) -> None:
    """Back to 'original only': derivative files deleted, chain bits cleared."""
    from django.core.files.storage import default_storage

    from uploads.files import variant_file
    from uploads.models import Image

    for image in Image.objects.filter(pk__in=ids):
        for kind in ("thumb", "medium"):
            stored = variant_file(image, kind)
            if stored is not None:
                default_storage.delete(stored.name)
    Image.objects.filter(pk__in=ids).update(chain=Image.CHAIN_IMAGE, thumb_size=0, medium_size=0)


def done(ids: list[int]) -> int:
    from uploads.models import Image

    full = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
    return Image.objects.filter(pk__in=ids, chain=full).count()


def _render(image_id: int) -> None:
    from uploads.derivatives import image_derivatives_generate

    image_derivatives_generate(image_id=image_id)


def _warm(_: int) -> None:
    from uploads import derivatives  # noqa: F401


def render_in_process(ids: list[int]) -> float:
    """Uploads per second whose thumb + medium are made by CONCURRENCY local processes."""
    from django.db import connections

    reset(ids)
    connections.close_all()  # each forked process opens its own connection
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with multiprocessing.get_context("fork").Pool(CONCURRENCY) as pool:
        pool.map(_warm, range(CONCURRENCY))
        started = time.monotonic()
        pool.map(_render, ids, chunksize=1)
        elapsed = time.monotonic() - started
        pool.close()
        pool.join()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    assert done(ids) == len(ids)
    rate = len(ids) / elapsed
    print(
        f"  in-process ({CONCURRENCY} processes): {len(ids)} in {elapsed:.2f} s, {rate:.1f}/s; "
        f"CPU {cpu:.2f} s"
    )
    return rate


def start_worker(site: BenchSite, log: Path, settings_module: str | None) -> subprocess.Popen:
    from uploads.tasks import generate_derivatives

    (site.var / "tmp").mkdir(exist_ok=True)
    env = {
        **site.env,
        "PYTHONPATH": f"{site.var}{os.pathsep}{ROOT}",
        "TMPDIR": str(site.var / "tmp"),
    }
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    # The worker line of scripts/run-site.sh, as it runs there (TMPDIR too).
    command = [
        str(BIN / "celery"), "-A", "chevereto", "worker", "-B",
        "--concurrency", str(CONCURRENCY), "--loglevel", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    # Ready when it has taken a probe (a task for no upload) out of the queue folder.
    generate_derivatives.delay(0)
    deadline = time.monotonic() + 60
    while list((site.var / "celery" / "out").glob("*.msg")):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_worker(process)
            raise RuntimeError("worker did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    time.sleep(1.0)  # let beat's first purge pass and the worker settle
    return process


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_cpu(process: subprocess.Popen) -> tuple[float, float]:
    """(main process, its children) CPU seconds."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return cpu_seconds(process.pid), sum(cpu_seconds(int(child)) for child in children)


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drain(site: BenchSite, ids: list[int], label: str, settings_module: str | None) -> float:
    """Tasks per second: the whole burst appears in the queue folder at once (written aside
    first, then renamed in), until every row has its derivatives."""
    from django.conf import settings
    from kombu import Connection

    from uploads.tasks import generate_derivatives

    reset(ids)
    queue = site.var / "celery" / "out"
    aside = site.var / "celery" / "aside"
    aside.mkdir(exist_ok=True)
    options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "data_folder_out": str(aside)}
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as connection:
        for image_id in ids:
            generate_derivatives.apply_async((image_id,), connection=connection)
    process = start_worker(site, site.var / f"worker-{label}.log", settings_module)
    try:
        main_before, children_before = worker_cpu(process)
        started = time.monotonic()
        for message in sorted(aside.iterdir()):
            message.rename(queue / message.name)
        deadline = started + 150
        while done(ids) < len(ids):
            if time.monotonic() > deadline:
                tail = (site.var / f"worker-{label}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{label}: {done(ids)}/{len(ids)} drained in 150 s:\n{tail}")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        main_after, children_after = worker_cpu(process)
    finally:
        stop_worker(process)
    print(
        f"  {label}: {len(ids)} tasks in {elapsed:.2f} s; CPU: worker's main process "
        f"{main_after - main_before:.2f} s, its children {children_after - children_before:.2f} s"
    )
    return len(ids) / elapsed


def main() -> None:
    site = BenchSite()
    try:
        key = site.setup()
        os.environ.update(site.env)
        os.environ["CELERY_BROKER_URL"] = "filesystem://localhost//"
        import django

        django.setup()
        ids = upload_burst(key)
        assert len(ids) == BURST
        drop_queued(site)
        (site.var / "queue_before_settings.py").write_text(OLD_SETTINGS)
        print(
            f"burst of {BURST} uploads (2000x1500 JPEG, thumb + medium each), "
            f"worker concurrency {CONCURRENCY}, {os.cpu_count()} CPUs"
        )
        # Other work on the machine slows either side: the best of a few rounds each.
        rendered = drained = 0.0
        for _ in range(ROUNDS):
            rendered = max(rendered, render_in_process(ids))
            drained = max(drained, drain(site, ids, "worker", None))
        before = drain(site, ids, "worker, old settings", "queue_before_settings") if BEFORE else 0
        ratio = drained / rendered
        verdict = "ok" if ratio >= TARGET else "UNDER TARGET"
        print(f"tasks/s drained:       {drained:.1f}")
        print(f"thumbnails/s rendered: {rendered:.1f} (uploads' thumb + medium, in-process)")
        print(f"ratio:                 {ratio:.2f} (target >= {TARGET}) {verdict}")
        record("embedded_queue", "tasks/s drained", round(drained, 1), "/s")
        record(
            "embedded_queue",
            "drained / rendered in-process",
            round(ratio, 2),
            target=f">= {TARGET}",
            ok=ratio >= TARGET,
        )
        if BEFORE:
            print(
                f"before (1 s polling, prefetch 1, no DB reuse): {before:.1f} tasks/s, "
                f"ratio {before / rendered:.2f}"
            )
    finally:
        site.stop()


if __name__ == "__main__":
    main()
