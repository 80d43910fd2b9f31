"""When a server fails: the database, the broker, a worker, the disk or S3.

Every upload either succeeds (its row and its files) or gets a clear error in Chevereto's
shape (503: try again; 507: the storage is full), and afterwards `storage_reconcile --check`
finds every row with its files and no file without its row.
"""

from __future__ import annotations

import errno
import io
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import LazySettings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test import Client

from chevereto.core.models import SiteSettings
from chevereto.core.s3config import s3_client_config
from tests import samples
from tests.conftest import files_under, require_env
from tests.faults import BLACKHOLE, REFUSE, FaultProxy
from tests.integration.conftest import (
    assert_redelivered_after_a_kill,
    use_broker,
    wait_until,
)
from uploads.derivatives import images_derivatives_requeue
from uploads.expiry import images_purge_expired
from uploads.models import Image
from uploads.services import image_delete

pytestmark = pytest.mark.django_db(transaction=True)
ALL = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM


def picture(seed: int, width: int = 900, height: int = 700) -> bytes:
    """A JPEG of its own per seed: the same bytes twice would be answered as a duplicate."""
    return samples.jpeg_bytes(width, height, exif_description=f"picture {seed}")


def post(client: Client, key: str, data: bytes, name: str = "harbour.jpg") -> Any:
    source = io.BytesIO(data)
    source.name = name
    return client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=key)


def assert_error(response: Any, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status_code"] == status
    assert set(body) == {"status_code", "error", "status_txt"}
    assert body["error"]["code"] == status and body["error"]["message"]
    return body


def assert_reconciled() -> str:
    """`storage_reconcile --check` passes: it raises (exit status 1) when it finds a problem."""
    out = StringIO()
    try:
        call_command("storage_reconcile", "--check", "--grace-minutes", "0", stdout=out)
    except CommandError:
        pytest.fail("storage_reconcile --check failed:\n" + out.getvalue())
    report = out.getvalue()
    assert "0 orphan files found, 0 missing files, 0 unfinished reservations" in report, report
    return report


def temp_files(settings: LazySettings) -> list[str]:
    return files_under(Path(settings.FILE_UPLOAD_TEMP_DIR))


def use_naming(naming: str) -> None:
    site = SiteSettings.load()
    site.file_naming = naming
    site.save()


# -- the disk: full or read-only ---------------------------------------------------------------


def use_local_storage(settings: LazySettings, root: Path, *, fail: int | None) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.faults.FailingLocalStorage",
            "OPTIONS": {"location": str(root), "base_url": "/", "fail": fail},
        },
    }


@pytest.mark.parametrize("naming", ["original", "id"])
@pytest.mark.parametrize(("failure", "status"), [(errno.ENOSPC, 507), (errno.EROFS, 503)])
def test_a_full_or_read_only_disk_answers_a_clear_error_and_keeps_nothing(
    client: Client,
    api_key: str,
    settings: LazySettings,
    media_root: Path,
    naming: str,
    failure: int,
    status: int,
) -> None:
    use_naming(naming)
    use_local_storage(settings, media_root, fail=failure)
    body = assert_error(post(client, api_key, samples.jpeg_bytes(900, 700)), status)
    assert "not saved" in body["error"]["message"]
    assert not Image.objects.exists()
    assert files_under(media_root) == []
    assert temp_files(settings) == []
    assert_reconciled()

    use_local_storage(settings, media_root, fail=None)
    response = post(client, api_key, samples.jpeg_bytes(900, 700))
    assert response.status_code == 200, response.content
    stored = Image.objects.get()
    assert stored.chain == ALL and (media_root / stored.path).is_file()
    assert_reconciled()


def test_the_v4_api_answers_a_full_disk_in_the_same_shape(
    client: Client, api_key: str, settings: LazySettings, media_root: Path
) -> None:
    use_local_storage(settings, media_root, fail=errno.ENOSPC)
    source = io.BytesIO(samples.jpeg_bytes(640, 480))
    source.name = "harbour.jpg"
    response = client.post("/api/4/user/images/", {"source": source}, HTTP_X_API_KEY=api_key)
    assert_error(response, 507)
    assert not Image.objects.exists() and files_under(media_root) == []


# -- the database: lost at every step of an upload ---------------------------------------------


class DatabaseOutage:
    """Fails this thread's queries from the `start`-th on (a server gone mid-request), or
    only that one query (a connection dropped once), as PostgreSQL's client would report."""

    def __init__(self, start: int, *, lasting: bool) -> None:
        self.start, self.lasting, self.seen, self.failed = start, lasting, 0, 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.seen += 1
        if self.seen == self.start or (self.lasting and self.seen > self.start):
            self.failed += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def count_upload_queries(client: Client, key: str) -> int:
    counter = DatabaseOutage(start=10**9, lasting=False)
    with connection.execute_wrapper(counter):
        assert post(client, key, samples.jpeg_bytes(700, 500)).status_code == 200
    for image in Image.objects.all():
        image_delete(image=image)
    return counter.seen


@pytest.mark.parametrize("naming", ["original", "id"])
@pytest.mark.parametrize("lasting", [False, True], ids=["one-query", "outage"])
def test_losing_the_database_at_any_step_answers_503_or_stores_the_whole_upload(
    client: Client,
    api_key: str,
    media_root: Path,
    settings: LazySettings,
    naming: str,
    lasting: bool,
) -> None:
    use_naming(naming)
    queries = count_upload_queries(client, api_key)
    assert queries > 5
    answers: dict[int, int] = {}
    for start in range(1, queries + 1):
        outage = DatabaseOutage(start, lasting=lasting)
        with connection.execute_wrapper(outage):
            response = post(client, api_key, picture(start, 700, 500))
        answers[start] = response.status_code
        if response.status_code != 200:
            assert_error(response, 503)
            assert "database is unavailable" in response.json()["error"]["message"]
        else:
            image = response.json()["image"]
            assert Image.objects.filter(md5=image["md5"]).exists()
        assert temp_files(settings) == []
    assert 503 in answers.values()
    # A reservation the failed upload could not delete (the database was gone) is hidden
    # and already expired: the purge removes it, as beat runs it every minute.
    images_purge_expired()
    for image in Image.objects.all():
        assert image.chain & Image.CHAIN_IMAGE, image.path
    assert_reconciled()
    # And the next upload, the database back, succeeds.
    assert post(client, api_key, picture(999, 640, 480)).status_code == 200
    assert_reconciled()


def test_a_database_lost_before_any_view_still_answers_503_and_never_a_500(
    api_key: str,
) -> None:
    # The first queries of a request are a middleware's (bans), outside the views' handlers.
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(DatabaseOutage(1, lasting=True)):
        upload = post(client, api_key, picture(7))
        page = client.get("/")
    assert_error(upload, 503)
    assert upload["Retry-After"]
    assert page.status_code == 503 and page["Retry-After"]
    assert b"Try again" in page.content


@pytest.fixture
def site_on_postgresql(tmp_path: Path) -> Iterator[object]:
    """A real site (gunicorn) on its own PostgreSQL database, reached through a proxy."""
    from tests.integration.live_site import LiveSite

    site = LiveSite.start(tmp_path, database_server=require_env("TEST_DATABASE_URL"))
    try:
        yield site
    finally:
        site.stop()


def test_uploads_while_postgresql_restarts_either_succeed_or_answer_503_and_then_recover(
    site_on_postgresql: Any,
) -> None:
    site = site_on_postgresql
    key = site.api_key()
    assert site.upload(key, picture(1, 640, 480)).status_code == 200
    restarting = threading.Event()
    stop = threading.Event()

    def restart_again_and_again() -> None:
        # A restart drops every connection, then refuses new ones for a moment.
        while not stop.is_set():
            site.proxy.cut()
            site.proxy.mode = REFUSE
            restarting.set()
            time.sleep(0.3)
            site.proxy.heal()
            time.sleep(0.5)

    cutter = threading.Thread(target=restart_again_and_again, daemon=True)
    cutter.start()
    restarting.wait(5)
    try:
        deadline = time.monotonic() + 5
        seeds = iter(range(100, 10**6))

        def upload_until_the_deadline(_: int) -> list[tuple[bytes, Any]]:
            answers = []
            while time.monotonic() < deadline:
                data = picture(next(seeds), 640, 480)
                answers.append((data, site.upload(key, data)))
            return answers

        with ThreadPoolExecutor(max_workers=3) as pool:
            responses = [pair for answers in pool.map(upload_until_the_deadline, range(3))
                         for pair in answers]  # fmt: skip
    finally:
        stop.set()
        cutter.join()
        site.proxy.heal()
    stored: dict[str, bytes] = {}
    for data, response in responses:
        if response.status_code == 200:
            stored[response.json()["image"]["url"]] = data
        else:
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["status_code"] == 503 and body["error"]["code"] == 503
            assert response.headers["Retry-After"]
    assert stored, "no upload got through between the restarts"
    # Whether the racing uploads met a restart is up to timing; this one surely does: the
    # database drops its connections and refuses new ones while the upload arrives.
    site.proxy.cut()
    connections_before = site.proxy.connections_seen
    with site.proxy.fault(mode=REFUSE):
        refused = site.upload(key, picture(400, 640, 480))
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == 503 and refused.headers["Retry-After"]
    assert site.proxy.connections_seen > connections_before
    # The database back: the site reconnects by itself and every upload succeeds.
    for n in range(4):
        data = picture(500 + n, 640, 480)
        response = site.upload(key, data)
        assert response.status_code == 200, response.text
        stored[response.json()["image"]["url"]] = data
    for url, data in stored.items():
        assert site.fetch(url) == data
    site.manage("storage_reconcile", "--check", "--grace-minutes", "0")


# -- the broker: down, then back ----------------------------------------------------------------


@pytest.fixture
def redis_proxy() -> Iterator[FaultProxy]:
    parts = urlsplit(require_env("TEST_REDIS_URL"))
    proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    yield proxy
    proxy.close()


def test_uploads_succeed_while_redis_is_down_and_their_derivatives_are_made_once_it_is_back(
    client: Client,
    api_key: str,
    media_root: Path,
    redis_proxy: FaultProxy,
    start_worker: Callable[..., Any],
    settings: LazySettings,
) -> None:
    before = use_broker(
        f"redis://127.0.0.1:{redis_proxy.port}/0",
        options=dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS),
    )
    try:
        redis_proxy.mode = REFUSE
        for seed in range(3):
            started = time.monotonic()
            response = post(client, api_key, picture(seed, 900, 700))
            assert response.status_code == 200, response.content
            # The broker's connection timeout keeps a dead broker from holding the request.
            assert time.monotonic() - started < 10
        assert set(Image.objects.values_list("chain", flat=True)) == {Image.CHAIN_IMAGE}
        redis_proxy.heal()
        start_worker()
        # Beat's sweep finds the uploads whose task was lost, and queues them again.
        assert images_derivatives_requeue(older_than=timedelta(0)) == 3
        wait_until(
            lambda: set(Image.objects.values_list("chain", flat=True)) == {ALL},
            what="derivatives after the broker came back",
        )
    finally:
        url, eager, options = before
        use_broker(url, eager=eager, options=options)
    assert len(files_under(media_root)) == 9  # three originals, three thumbs, three mediums
    assert_reconciled()


def test_a_broker_that_never_answers_does_not_hold_the_upload(
    client: Client, api_key: str, redis_proxy: FaultProxy, settings: LazySettings
) -> None:
    before = use_broker(
        f"redis://127.0.0.1:{redis_proxy.port}/0",
        options=dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS),
    )
    try:
        redis_proxy.mode = BLACKHOLE
        started = time.monotonic()
        response = post(client, api_key, samples.jpeg_bytes(640, 480))
        elapsed = time.monotonic() - started
    finally:
        url, eager, options = before
        use_broker(url, eager=eager, options=options)
    assert response.status_code == 200, response.content
    assert elapsed < 15
    assert_reconciled()


# -- a worker killed mid-task ---------------------------------------------------------------------


def test_a_worker_killed_mid_task_makes_each_derivative_exactly_once(
    client: Client,
    api_key: str,
    media_root: Path,
    redis_broker: str,
    start_worker: Callable[..., Any],
) -> None:
    response = post(client, api_key, samples.jpeg_bytes(1200, 900))
    assert response.status_code == 200, response.content
    image = Image.objects.get()
    assert_redelivered_after_a_kill(image_id=image.pk, start=start_worker)
    stem = image.path.rsplit(".", 1)[0]
    assert files_under(media_root) == sorted([image.path, f"{stem}.md.jpg", f"{stem}.th.jpg"])
    assert_reconciled()


# -- S3: errors, timeouts, slowness ---------------------------------------------------------------


@pytest.fixture
def s3_through_proxy(settings: LazySettings, s3_storage: Any) -> Iterator[tuple[FaultProxy, Any]]:
    """The test bucket reached through a fault proxy, with short client timeouts."""
    parts = urlsplit(s3_storage.env["S3_ENDPOINT_URL"])
    proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 80)
    options = dict(settings.STORAGES["default"]["OPTIONS"])
    options["endpoint_url"] = f"http://127.0.0.1:{proxy.port}"
    options["client_config"] = s3_client_config(
        addressing_style="path", connect_timeout=2, read_timeout=3, max_attempts=2
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": options},
    }
    yield proxy, s3_storage
    proxy.close()


@pytest.mark.parametrize("status", [500, 503])
def test_s3_answering_errors_gives_a_clear_503_and_leaves_no_object(
    client: Client, api_key: str, settings: LazySettings, s3_through_proxy: Any, status: int
) -> None:
    proxy, bucket = s3_through_proxy
    with proxy.fault(http_status=status):
        response = post(client, api_key, samples.jpeg_bytes(900, 700))
    assert_error(response, 503)
    assert proxy.requests_answered >= 1
    assert not Image.objects.exists()
    assert bucket.object_names() == []
    assert temp_files(settings) == []
    assert_reconciled()


def test_an_s3_connection_dropped_mid_write_gives_503_and_leaves_no_object(
    client: Client, api_key: str, s3_through_proxy: Any
) -> None:
    proxy, bucket = s3_through_proxy
    data = samples.jpeg_bytes(1600, 1200)
    with proxy.fault(drop_after=len(data) // 2):
        response = post(client, api_key, data)
    assert_error(response, 503)
    assert not Image.objects.exists()
    assert bucket.object_names() == []
    assert_reconciled()


def test_an_s3_that_never_answers_fails_within_the_client_timeouts(
    client: Client, api_key: str, s3_through_proxy: Any
) -> None:
    proxy, bucket = s3_through_proxy
    started = time.monotonic()
    with proxy.fault(mode=BLACKHOLE):
        response = post(client, api_key, samples.jpeg_bytes(900, 700))
    elapsed = time.monotonic() - started
    assert_error(response, 503)
    # Two attempts of a 3 s read for the existence check, none for the write: seconds.
    assert elapsed < 20
    assert not Image.objects.exists()
    assert bucket.object_names() == []
    assert_reconciled()


def test_a_slow_s3_still_stores_the_upload_whole(
    client: Client, api_key: str, s3_through_proxy: Any
) -> None:
    proxy, bucket = s3_through_proxy
    data = samples.jpeg_bytes(1600, 1200)
    with proxy.fault(delay=0.05):
        response = post(client, api_key, data)
    assert response.status_code == 200, response.content
    image = Image.objects.get()
    assert image.path in bucket.object_names()
    assert image.chain == ALL and image.size == len(data)
    assert_reconciled()
