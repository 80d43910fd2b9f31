"""The embedded default: a real `celery worker -B` on the filesystem broker, no server."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from tests import samples
from tests.conftest import files_under
from tests.integration.conftest import ROOT, database_url, use_broker, wait_until
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_newcomer_gets_derivatives_and_expiry_with_nothing_installed(
    client: Client, api_key: str, media_root: Path, tmp_path: Path
) -> None:
    # The worker finds its queue folders under CHEVERETO_VAR_DIR/celery; so does this test.
    var = tmp_path / "var"
    queue = var / "celery"
    for sub in ("out", "processed"):
        (queue / sub).mkdir(parents=True)
    options = {
        "data_folder_in": str(queue / "out"),
        "data_folder_out": str(queue / "out"),
        "processed_folder": str(queue / "processed"),
        "store_processed": False,
    }
    before = use_broker("filesystem://localhost//", options=options)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media_root),
        "CHEVERETO_VAR_DIR": str(var),
        "CELERY_BROKER_URL": "filesystem://localhost//",
        "PURGE_EXPIRED_EVERY": "2",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "chevereto", "worker", "-B", "--concurrency", "1",
         "--loglevel", "info", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: "ready." in log.read_text(errors="replace"), what="worker start")
        response = client.post(
            "/api/1/upload",
            {"source": io.BytesIO(samples.jpeg_bytes(1200, 900))},
            HTTP_X_API_KEY=api_key,
        )
        assert response.status_code == 200
        full = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
        wait_until(
            lambda: Image.objects.get().chain == full, what="derivatives from the embedded worker"
        )
        assert len(files_under(media_root)) == 3
        Image.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        wait_until(lambda: not Image.objects.exists(), timeout=60, what="beat's purge")
        wait_until(lambda: files_under(media_root) == [], timeout=10, what="files purged")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        use_broker(before[0], eager=before[1], options=before[2])
