"""Real servers for integration tests: started by `make test` (scripts/with-test-services.sh)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu.pools
import pytest
from django.conf import LazySettings
from django.db import connection
from django.utils import timezone

from bench.load_site import child_pids
from chevereto.celery import app as celery_app
from chevereto.core.s3config import s3_client_config
from tests.conftest import require_env
from uploads.models import DerivativeLock, Image

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test run uses (the test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST']}:{db['PORT']}/{db['NAME']}"


def running(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for its parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def session_nice(pid: int) -> int | None:
    """The nice of `pid`'s autogroup (its session's), or None where there is none to read:
    another kernel, or a session in the kernel's default group (one no process began with
    setsid, as under a CI runner's init), whose file reads empty. A new session starts at 0."""
    try:
        fields = Path(f"/proc/{pid}/autogroup").read_text().split()
    except OSError:
        return None
    return int(fields[-1]) if fields else None


def use_broker(
    url: str, *, eager: bool = False, options: dict | None = None
) -> tuple[str, bool, dict]:
    """Point this process's Celery producer at `url`; returns what it was before."""
    conf = celery_app.conf
    previous = (conf.broker_url, conf.task_always_eager, dict(conf.broker_transport_options or {}))
    conf.broker_url = url
    conf.task_always_eager = eager
    conf.broker_transport_options = options if options is not None else {}
    # Drop pooled connections and producers bound to the old broker (kombu keeps a
    # process-wide registry of them too).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    return previous


@pytest.fixture
def redis_broker(settings: LazySettings) -> Iterator[str]:
    """Send tasks through the real Redis instead of running them in-process."""
    url = require_env("TEST_REDIS_URL")
    previous = use_broker(url)
    yield url
    url_before, eager_before, options_before = previous
    use_broker(url_before, eager=eager_before, options=options_before)


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def children(self) -> list[int]:
        return child_pids(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def start_worker(redis_broker: str, media_root: Path, tmp_path: Path) -> Iterator[object]:
    """Start real `celery worker` processes on Redis, sharing this test's database and media."""
    workers: list[Worker] = []

    def start(
        concurrency: int = 1, extra_env: dict[str, str] | None = None, new_session: bool = False
    ) -> Worker:
        log = tmp_path / f"worker-{len(workers)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": redis_broker,
            "MEDIA_ROOT": str(media_root),
            "CHEVERETO_VAR_DIR": str(tmp_path / "worker-var"),
            "CHEVERETO_TESTING": "0",
            **(extra_env or {}),
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "chevereto", "worker", "--loglevel", "info",
             "--concurrency", str(concurrency), "--pool", "prefork", "--without-mingle",
             "--without-gossip", "-n", f"test{len(workers)}@%h"],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )  # fmt: skip
        worker = Worker(process, log)
        workers.append(worker)
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "worker did not start:\n" + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.2)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(predicate: object, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def s3_env() -> dict[str, str]:
    """The site's S3 settings (as an admin would set them) for the test bucket."""
    return {
        "S3_BUCKET": require_env("TEST_S3_BUCKET"),
        "S3_ENDPOINT_URL": require_env("TEST_S3_ENDPOINT_URL"),
        "S3_REGION": require_env("TEST_S3_REGION"),
        "S3_ACCESS_KEY_ID": require_env("TEST_S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": require_env("TEST_S3_SECRET_ACCESS_KEY"),
        "S3_ADDRESSING_STYLE": "path",
    }


def s3_client(env: dict[str, str]) -> Any:
    """A boto3 client of the test S3 server, from the site's S3 settings in `env`."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
def s3_storage(settings: LazySettings, media_root: Path) -> Iterator[object]:
    """Media in the real S3 server's bucket, under a prefix of this test's own."""
    import uuid

    env = s3_env()
    prefix = f"run-{uuid.uuid4().hex[:12]}"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            # The site's own S3 backend (objects carry the upload's type and disposition).
            "BACKEND": "uploads.s3.MediaS3Storage",
            "OPTIONS": {
                "bucket_name": env["S3_BUCKET"],
                "endpoint_url": env["S3_ENDPOINT_URL"],
                "region_name": env["S3_REGION"],
                "access_key": env["S3_ACCESS_KEY_ID"],
                "secret_key": env["S3_SECRET_ACCESS_KEY"],
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
                "location": prefix,
                # The site's own client settings (bounded waits, checksums only where required).
                "client_config": s3_client_config(addressing_style="path"),
            },
        },
    }
    client = s3_client(env)

    def object_names() -> list[str]:
        listing = client.list_objects_v2(Bucket=env["S3_BUCKET"], Prefix=prefix + "/")
        return sorted(item["Key"][len(prefix) + 1 :] for item in listing.get("Contents", []))

    yield type(
        "Bucket",
        (),
        {
            "object_names": staticmethod(object_names),
            "prefix": prefix,
            "env": env,
            "client": client,
        },
    )


def assert_redelivered_after_a_kill(*, image_id: int, start: Callable[[], Worker]) -> None:
    """Kill the worker's processes while they run the upload's task; the task must come back.

    Holding the upload's lock keeps the task busy inside the worker for as long as the test
    needs to kill it there.
    """
    DerivativeLock.objects.create(
        image_id=image_id, expires_at=timezone.now() + timedelta(minutes=5)
    )
    worker = start()
    wait_until(
        lambda: "generate_derivatives" in worker.log.read_text(errors="replace"), what="task start"
    )
    time.sleep(1.0)
    assert Image.objects.get(pk=image_id).chain == Image.CHAIN_IMAGE
    for child in worker.children():
        os.kill(child, signal.SIGKILL)
    wait_until(lambda: "WorkerLostError" in worker.log.read_text(errors="replace"), what="the loss")
    DerivativeLock.objects.filter(image_id=image_id).delete()
    full = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
    wait_until(
        lambda: Image.objects.get(pk=image_id).chain == full, timeout=60, what="redelivered task"
    )
