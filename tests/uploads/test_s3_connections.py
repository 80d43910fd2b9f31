"""The S3 storage builds one boto3 connection per OS thread, not one per gevent greenlet."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from uploads.s3 import MediaS3Storage

ROOT = Path(__file__).resolve().parents[2]

# gunicorn's gevent worker patches threading and runs each client connection in a greenlet.
UNDER_GEVENT = """
from gevent import monkey

monkey.patch_all()
import gevent

from uploads.s3 import MediaS3Storage

storage = MediaS3Storage(
    bucket_name="b", access_key="k", secret_key="s", region_name="us-east-1",
    endpoint_url="http://127.0.0.1:9",
)
seen = set()


def request():
    seen.add(id(storage.connection))


gevent.joinall([gevent.spawn(request) for _ in range(5)])
print(len(seen))
"""


def test_greenlets_of_a_gevent_worker_share_one_boto3_connection() -> None:
    result = subprocess.run(
        [sys.executable, "-c", UNDER_GEVENT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split()[-1] == "1"


def test_real_threads_still_get_a_boto3_connection_each() -> None:
    storage = MediaS3Storage(
        bucket_name="b", access_key="k", secret_key="s", region_name="us-east-1"
    )
    seen: list[object] = []  # the objects, not ids: a freed one's id can come back
    threads = [threading.Thread(target=lambda: seen.append(storage.connection)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 2
    assert seen[0] is not seen[1]
