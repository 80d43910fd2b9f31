"""The hostile corpus through real Celery workers, held to their time and memory limits."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from tests import samples
from tests.hostile_corpus import CORPUS
from tests.integration.conftest import Worker, wait_until
from tests.integration.test_embedded import embedded_worker  # noqa: F401 (a fixture)
from uploads.derivatives import images_derivatives_requeue
from uploads.expiry import storage_reconcile
from uploads.files import all_files
from uploads.models import DerivativeLock, Image
from uploads.processing import pixels_within
from uploads.tasks import generate_derivatives

pytestmark = pytest.mark.django_db(transaction=True)
# 768 MiB: far above what any file of the corpus needs, far below a bomb's decoded size.
MEMORY_LIMIT_KIB = 768 * 1024
# The names of the upload pipeline's temporary files (uploads.sources, .services, .derivatives).
PIPELINE = ("upload-", "orig-", "tmp")
SUCCEEDED = r"generate_derivatives\[[^]]+\] succeeded in ([0-9.]+)s"
TROUBLE = (
    "Hard time limit",
    "SoftTimeLimitExceeded",
    "exceeding memory limit",
    "WorkerLostError",
    "failed:",
    "Traceback",
)


def promised_chain(image: Image) -> int:
    chain = Image.CHAIN_IMAGE | Image.CHAIN_THUMB
    if image.is_video:
        chain |= Image.CHAIN_FRAME
    if image.medium_width:
        chain |= Image.CHAIN_MEDIUM
    return chain


def peak_memory_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


def upload(client: Client, key: str, data: bytes) -> tuple[int, dict]:
    response = client.post("/api/1/upload", {"source": io.BytesIO(data)}, HTTP_X_API_KEY=key)
    return response.status_code, response.json()


def worker_temp_dir(worker: Worker) -> Path:
    # Both fixtures give the worker its own var/ next to its log; FILE_UPLOAD_TEMP_DIR is
    # var/tmp (the embedded one also points TMPDIR there).
    for var in ("var", "worker-var"):
        folder = worker.log.parent / var / "tmp"
        if folder.exists():
            return folder
    raise AssertionError("the worker has no temporary folder")


@pytest.mark.parametrize("broker", ["redis", "embedded"])
def test_every_accepted_file_of_the_corpus_gets_its_derivatives_from_a_worker_within_limits(
    broker: str,
    client: Client,
    api_key: str,
    media_root: Path,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    limits = {"CELERY_WORKER_MAX_MEMORY_PER_CHILD": str(MEMORY_LIMIT_KIB)}
    if broker == "redis":
        worker = request.getfixturevalue("start_worker")(extra_env=limits)
    else:
        for name, value in limits.items():
            monkeypatch.setenv(name, value)  # read when the fixture builds the worker's env
        worker = request.getfixturevalue("embedded_worker")()
    temp_before = sorted(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())
    accepted: dict[int, str] = {}
    for name, case in CORPUS.items():
        status, body = upload(client, api_key, case.data())
        assert status == 200 or 400 <= status < 500, (name, body)
        if status == 200:
            assert case.expect != "refused", name
            accepted[Image.objects.latest("pk").pk] = name
        else:
            assert case.expect != "ok", (name, body)
            assert body["error"]["message"] and body["status_code"] == status
    assert len(accepted) >= 25

    def all_made() -> bool:
        return all(image.chain == promised_chain(image) for image in Image.objects.all())

    # Every task finishes well inside its time limit: the whole corpus in two minutes.
    wait_until(all_made, timeout=120, what="every derivative from the worker")

    def durations() -> list[float]:
        log = worker.log.read_text(errors="replace")
        return [float(s) for s in re.findall(SUCCEEDED, log)]

    # A task writes its row before the worker logs it as done.
    wait_until(lambda: len(durations()) >= len(accepted), timeout=30, what="the worker's log")
    log = worker.log.read_text(errors="replace")
    for trouble in TROUBLE:
        assert trouble not in log, f"{trouble!r} in the worker's log"
    assert worker.process.poll() is None
    # One task per accepted upload, each far inside its time limit.
    taken = durations()
    assert len(taken) == len(accepted)
    assert max(taken) < 30, f"the slowest task took {max(taken):.1f} s"
    for child in worker.children():
        assert peak_memory_kib(child) < MEMORY_LIMIT_KIB
    # Every derivative the worker wrote decodes.
    for image in Image.objects.all():
        for stored in all_files(image):
            if stored.variant != "image":
                with PILImage.open(media_root / stored.name) as picture:
                    picture.load()
    # Anything else there belongs to the worker itself: its pool's folder (pymp-*) and,
    # on the embedded broker, a message being read (beat queues a task every 2 s).
    left = [p.name for p in worker_temp_dir(worker).iterdir() if p.name.startswith(PIPELINE)]
    assert left == []
    assert sorted(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == temp_before
    report = storage_reconcile(grace=timedelta(0))
    assert report.orphan_files == [] and report.missing_files == []
    assert Image.objects.count() == len(accepted)


def _hold_the_lock(image_id: int) -> None:
    # The task waits for the upload's lock (up to 20 s): longer than the limits below.
    DerivativeLock.objects.create(
        image_id=image_id, expires_at=timezone.now() + timedelta(minutes=5)
    )


@pytest.mark.parametrize(
    ("limits", "ending"),
    [
        ({"DERIVATIVES_TIME_LIMIT": "2", "DERIVATIVES_SOFT_TIME_LIMIT": "0"}, "Hard time limit"),
        ({"DERIVATIVES_TIME_LIMIT": "60", "DERIVATIVES_SOFT_TIME_LIMIT": "1"}, "SoftTimeLimit"),
    ],
    ids=["hard", "soft"],
)
def test_a_task_over_its_time_limit_is_ended_the_worker_keeps_serving_and_the_upload_works(
    limits: dict[str, str],
    ending: str,
    client: Client,
    api_key: str,
    start_worker: Callable[..., Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The limits travel with each task from the process that queues it (here, this one),
    # which reads the same settings as the worker.
    monkeypatch.setattr(generate_derivatives, "time_limit", int(limits["DERIVATIVES_TIME_LIMIT"]))
    soft = int(limits["DERIVATIVES_SOFT_TIME_LIMIT"]) or None
    monkeypatch.setattr(generate_derivatives, "soft_time_limit", soft)
    monkeypatch.setattr(generate_derivatives, "_exec_options", None)  # Celery's cached copy
    status, first = upload(client, api_key, samples.jpeg_bytes(1200, 900))
    assert status == 200
    slow = Image.objects.get()
    _hold_the_lock(slow.pk)
    worker = start_worker(extra_env=limits)
    wait_until(
        lambda: ending in worker.log.read_text(errors="replace"),
        timeout=30,
        what="the time limit to end the task",
    )
    # Killed or interrupted, the run is remembered as failed: the sweep leaves it alone
    # rather than queue it again every few minutes (each time for the whole limit).
    wait_until(
        lambda: cache.get(f"derivatives-failed:{slow.pk}") is not None, what="the failure noted"
    )
    assert images_derivatives_requeue(older_than=timedelta(0)) == 0
    DerivativeLock.objects.all().delete()
    assert Image.objects.get(pk=slow.pk).chain == Image.CHAIN_IMAGE
    # The worker serves the next upload.
    status, _ = upload(client, api_key, samples.jpeg_bytes(1000, 800, color=(0, 90, 200)))
    assert status == 200
    full = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
    wait_until(
        lambda: Image.objects.exclude(pk=slow.pk).get().chain == full,
        timeout=60,
        what="the next upload's derivatives",
    )
    assert worker.process.poll() is None
    # The first upload was not lost: its derivatives come on demand, as for any upload.
    thumb = client.get(first["image"]["thumb"]["url"].removeprefix("http://testserver"))
    assert thumb.status_code == 200
    picture = PILImage.open(io.BytesIO(b"".join(thumb.streaming_content)))
    assert picture.size == (320, 320)
    assert Image.objects.get(pk=slow.pk).chain & Image.CHAIN_THUMB


def test_a_picture_whose_render_would_pass_the_memory_limit_is_refused_before_decoding(
    client: Client, api_key: str, start_worker: Callable[..., Worker]
) -> None:
    limit_kib = 200 * 1024  # renders of up to ~13 million pixels fit in it
    budget = pixels_within(limit_kib)
    side = 4000
    assert side * side > budget
    big = io.BytesIO()
    PILImage.new("RGB", (side, side), (30, 120, 60)).save(big, "PNG", compress_level=1)
    worker = start_worker(extra_env={"CELERY_WORKER_MAX_MEMORY_PER_CHILD": str(limit_kib)})
    children = worker.children()
    status, body = upload(client, api_key, big.getvalue())
    assert status == 200
    image = Image.objects.get()
    wait_until(
        lambda: f"derivatives of image {image.pk} failed" in worker.log.read_text(errors="replace"),
        timeout=60,
        what="the worker to refuse the render",
    )
    log = worker.log.read_text(errors="replace")
    assert f"{budget} pixel" in log  # refused against the budget, before decoding
    # Refused, not killed: the same pool process, within its limit, never recycled.
    assert "exceeding memory limit" not in log and "WorkerLostError" not in log
    assert worker.children() == children
    for child in children:
        assert peak_memory_kib(child) < limit_kib
    # The worker keeps serving smaller uploads...
    status, _ = upload(client, api_key, samples.jpeg_bytes(900, 600))
    assert status == 200
    wait_until(
        lambda: Image.objects.exclude(pk=image.pk).get().chain & Image.CHAIN_THUMB,
        timeout=60,
        what="the small upload's derivatives",
    )
    # ...and the big one's thumb is made on demand by the web process, whose limit is the
    # site's pixel limit.
    thumb = client.get(body["image"]["thumb"]["url"].removeprefix("http://testserver"))
    assert thumb.status_code == 200
    assert PILImage.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (320, 320)
