"""Uploads with a real Celery worker on a real Redis."""

from __future__ import annotations

import io
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from tests import samples
from tests.integration.conftest import use_broker, wait_until
from uploads.models import DerivativeLock, Image

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
    # The task is queued before any worker runs; holding the upload's lock keeps the task
    # busy inside the worker for as long as the test needs to kill it there.
    upload(client, api_key, samples.jpeg_bytes(1200, 900))
    image_id = Image.objects.get().pk
    DerivativeLock.objects.create(
        image_id=image_id, expires_at=timezone.now() + timedelta(minutes=5)
    )
    worker = start_worker()
    wait_until(
        lambda: "generate_derivatives" in worker.log.read_text(errors="replace"), what="task start"
    )
    time.sleep(1.0)
    assert Image.objects.get().chain == Image.CHAIN_IMAGE
    for child in worker.children():
        os.kill(child, signal.SIGKILL)
    wait_until(lambda: "WorkerLostError" in worker.log.read_text(errors="replace"), what="the loss")
    DerivativeLock.objects.filter(image_id=image_id).delete()
    wait_until(lambda: Image.objects.get().chain == ALL, timeout=60, what="redelivered task")


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
