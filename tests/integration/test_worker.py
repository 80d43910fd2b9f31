"""Uploads with a real Celery worker on a real Redis."""

from __future__ import annotations

import io
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from chevereto.celery import app as celery_app
from tests import samples
from tests.integration.conftest import (
    assert_redelivered_after_a_kill,
    session_nice,
    use_broker,
    wait_until,
)
from uploads.models import DerivativeLock, Image
from uploads.tasks import generate_derivatives

pytestmark = pytest.mark.django_db(transaction=True)
ALL = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM


def upload(client: Client, key: str, data: bytes) -> dict:
    response = client.post("/api/1/upload", {"source": io.BytesIO(data)}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    return response.json()["image"]


def test_the_worker_makes_the_derivatives_and_they_are_served(
    client: Client, api_key: str, start_worker, media_root: Path
) -> None:
    start_worker()
    image = upload(client, api_key, samples.jpeg_bytes(1600, 1200))
    wait_until(lambda: Image.objects.get().chain == ALL, what="derivatives from the worker")
    stored = Image.objects.get()
    assert stored.thumb_size > 0 and stored.medium_size > 0
    thumb = client.get(image["thumb"]["url"].removeprefix("http://testserver"))
    assert thumb.status_code == 200
    assert PILImage.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (320, 320)
    assert (media_root / image["medium"]["url"].split("testserver/")[1]).exists()


def test_a_worker_killed_mid_task_has_the_task_redelivered(
    client: Client, api_key: str, start_worker
) -> None:
    # The task is queued before any worker runs.
    upload(client, api_key, samples.jpeg_bytes(1200, 900))
    assert_redelivered_after_a_kill(image_id=Image.objects.get().pk, start=start_worker)


def test_a_task_whose_worker_dies_on_its_last_try_is_remembered_as_failed(
    client: Client, api_key: str, start_worker
) -> None:
    """A file that kills its worker every time (the out-of-memory killer) comes back a few
    times, each a retry, then is recorded as failed: never queued again forever."""
    upload(client, api_key, samples.jpeg_bytes(1200, 900))
    image_id = Image.objects.get().pk
    # The upload's own task goes; this test sends the task as its last try would come.
    celery_app.control.purge()
    generate_derivatives.apply_async((image_id,), retries=generate_derivatives.max_retries)
    DerivativeLock.objects.create(
        image_id=image_id, expires_at=timezone.now() + timedelta(minutes=5)
    )
    worker = start_worker()
    wait_until(lambda: "generate_derivatives" in worker.log.read_text(errors="replace"))
    time.sleep(1.0)
    for child in worker.children():
        os.kill(child, signal.SIGKILL)
    wait_until(
        lambda: cache.get(f"derivatives-failed:{image_id}") is not None, what="the failure noted"
    )
    DerivativeLock.objects.filter(image_id=image_id).delete()
    # Longer than the retry delay: nothing comes back.
    time.sleep(generate_derivatives.default_retry_delay + 3)
    log = worker.log.read_text(errors="replace")
    assert "WorkerLostError" in log
    assert " retry: " not in log, log[-3000:]
    assert log.count(" received") == 1, log[-3000:]
    assert Image.objects.get(pk=image_id).chain == Image.CHAIN_IMAGE


def test_an_upload_succeeds_with_redis_down_and_derivatives_come_on_demand(
    client: Client, api_key: str
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    url_before, eager_before, options_before = use_broker(f"redis://127.0.0.1:{dead_port}/0")
    try:
        started = time.monotonic()
        image = upload(client, api_key, samples.jpeg_bytes(900, 700))
        assert time.monotonic() - started < 15
        assert Image.objects.get().chain == Image.CHAIN_IMAGE
        thumb = client.get(image["thumb"]["url"].removeprefix("http://testserver"))
        assert thumb.status_code == 200
        assert Image.objects.get().chain & Image.CHAIN_THUMB
    finally:
        use_broker(url_before, eager=eager_before, options=options_before)


def test_the_worker_and_its_pool_processes_run_below_the_web_priority(start_worker) -> None:
    target = min(os.getpriority(os.PRIO_PROCESS, 0) + 7, 19)
    worker = start_worker(concurrency=2, extra_env={"CELERY_WORKER_NICE": str(target)})
    children = worker.children()
    assert len(children) == 2
    for pid in [worker.process.pid, *children]:
        assert os.getpriority(os.PRIO_PROCESS, pid) == target
    # It shares this test's session: the session's own nice (autogroup) is left alone.
    if session_nice(os.getpid()) is not None:
        assert session_nice(worker.process.pid) == session_nice(os.getpid())


def test_a_worker_in_a_session_of_its_own_lowers_its_session_too(start_worker) -> None:
    # With autogroup the kernel shares the CPU between sessions before it looks at nice:
    # a worker started as a service (its own session) must lower its session as well.
    before = session_nice(os.getpid())
    target = min(os.getpriority(os.PRIO_PROCESS, 0) + 7, 19)
    worker = start_worker(
        concurrency=1, extra_env={"CELERY_WORKER_NICE": str(target)}, new_session=True
    )
    assert os.getsid(worker.process.pid) == worker.process.pid
    for pid in [worker.process.pid, *worker.children()]:
        assert os.getpriority(os.PRIO_PROCESS, pid) == target
        # A new session has an autogroup to read wherever the kernel has autogroup at all.
        if session_nice(pid) is not None:
            assert session_nice(pid) == target
    if before is not None:
        assert session_nice(os.getpid()) == before
