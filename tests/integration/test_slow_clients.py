"""The real web server (gunicorn -c chevereto/gunicorn_conf.py) keeps answering everyone
while slow clients hold connections, and cuts slow clients off with a clear answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.load_site import child_pids
from bench.slow_clients import (
    SlowBody,
    SlowRead,
    free_port,
    noise_png,
    small_jpeg,
    start_server,
    stop_server,
    timed_get,
    upload,
)
from chevereto.core.models import SiteSettings
from tests.conftest import files_under, require_env
from tests.integration.conftest import database_url, running, s3_client, s3_env

pytestmark = pytest.mark.django_db(transaction=True)

LAYOUTS = ("embedded", "production")


class Site:
    def __init__(
        self, process: subprocess.Popen[bytes], port: int, var: Path, env: dict[str, str]
    ) -> None:
        self.process = process
        self.port = port
        self.var = var
        self.env = env
        self.log = var / "gunicorn.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def has_file(self, name: str, media_root: Path) -> bool:
        """Whether the storage the server writes to (its S3 bucket, or media_root) has `name`."""
        if "S3_BUCKET" not in self.env:
            return (media_root / name).is_file()
        from botocore.exceptions import ClientError

        client = s3_client(self.env)
        try:
            key = f"{self.env['S3_LOCATION']}/{name}"
            client.head_object(Bucket=self.env["S3_BUCKET"], Key=key)
        except ClientError:
            return False
        return True


@pytest.fixture
def web_server(tmp_path: Path, media_root: Path) -> Iterator[Callable[..., Site]]:
    """Starts the site the way `make run` does, in the embedded layout (SQLite or this run's
    database, filesystem broker, 2 workers) or the production one (Redis broker, S3 under a
    prefix of its own, 3 workers)."""
    site = SiteSettings.load()
    site.flood_protection = False
    site.user_max_filesize_mb = 50
    site.save()
    started: list[Site] = []

    def start(layout: str, **extra: str) -> Site:
        var = tmp_path / f"var-{len(started)}"
        var.mkdir()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(media_root),
            "CHEVERETO_VAR_DIR": str(var),
            "CHEVERETO_TESTING": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "GUNICORN_ACCESSLOG": "",
            "WEB_CONCURRENCY": "2",
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        env.pop("FILE_UPLOAD_TEMP_DIR", None)
        if layout == "production":
            # Its own Redis database: no other test's worker takes these messages.
            env["CELERY_BROKER_URL"] = require_env("TEST_REDIS_URL").rsplit("/", 1)[0] + "/7"
            env["WEB_CONCURRENCY"] = "3"
            env.update(s3_env(), S3_LOCATION=f"run-{uuid.uuid4().hex[:12]}")
        else:
            env["CELERY_BROKER_URL"] = "filesystem://localhost//"
        env.update(extra)
        port = free_port()
        site = Site(start_server(env, port, var / "gunicorn.log"), port, var, env)
        started.append(site)
        return site

    yield start
    for site in started:
        stop_server(site.process)


def read_answer(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer on `sock` (the server closes the connection)."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        headers = dict(
            line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line
        )
        if "Content-Length" in headers and len(body) >= int(headers["Content-Length"]):
            break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)}
    return status, headers, body


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_home_page_and_an_upload_answer_quickly_while_slow_clients_hold_connections(
    web_server: Callable[..., Site], api_key: str, layout: str
) -> None:
    # Limits longer than the test: the slow clients must still be connected at the end.
    site = web_server(layout, REQUEST_BODY_TIMEOUT="120", RESPONSE_SEND_TIMEOUT="120")
    status, answer, _ = upload(site.port, api_key, noise_png(8), timeout=60)
    assert status == 200, answer
    big_file = "/" + answer["image"]["url"].split("/", 3)[3]

    bodies = SlowBody(site.port, 10).start()
    readers = SlowRead(site.port, 10, big_file).start()
    try:
        time.sleep(2)
        # Each page within a few seconds on this shared machine (a worker's first request
        # loads the templates); with every thread held, none would ever answer.
        for _ in range(5):
            status, seconds = timed_get(site.port, "/", timeout=8)
            assert status == 200, (status, seconds, site.log_text())
        status, answer, seconds = upload(site.port, api_key, small_jpeg(1), timeout=15)
        assert status == 200, (answer, site.log_text())
        assert seconds < 10
        # The slow clients were still connected all along: they were waited on, not refused.
        assert bodies.outcomes == [] and readers.outcomes == []
    finally:
        bodies.stop()
        readers.stop()


def test_a_body_sent_a_byte_a_second_is_answered_408_in_the_api_error_shape_and_leaves_no_file(
    web_server: Callable[..., Site],
) -> None:
    site = web_server("embedded", REQUEST_BODY_TIMEOUT="2")
    with socket.create_connection(("127.0.0.1", site.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: 100000\r\n\r\n"
        )
        started = time.monotonic()
        sock.settimeout(0.5)
        answered = b""
        while not answered and time.monotonic() - started < 20:
            try:
                sock.sendall(b"x")
                answered = sock.recv(1, socket.MSG_PEEK)
            except TimeoutError:
                continue
            except OSError:
                break
        status, headers, body = read_answer(sock, timeout=5)
    assert status == 408
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "status_code": 408,
        "error": {"message": "The request body did not arrive in time", "code": 408},
        "status_txt": "Request Timeout",
    }
    # Cut off after the time one chunk may take, not after the whole announced body.
    assert time.monotonic() - started < 10
    assert files_under(site.var / "tmp") == []


@pytest.mark.parametrize("path", ["/api/1/upload", "/api/4/user/images/"])
def test_a_body_past_the_buffer_that_stops_arriving_is_answered_408_not_an_app_error(
    web_server: Callable[..., Site], api_key: str, path: str
) -> None:
    # Past REQUEST_BODY_BUFFER_MAX the view reads the body as it arrives: the stall is
    # met inside it, and still answered as one, with nothing left on disk.
    site = web_server("embedded", REQUEST_BODY_TIMEOUT="2", REQUEST_BODY_BUFFER_MAX="4096")
    head = (
        b'--stall\r\nContent-Disposition: form-data; name="source"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + small_jpeg(1)[:2000] + b"\0" * 60_000
    )
    with socket.create_connection(("127.0.0.1", site.port), timeout=5) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {api_key}\r\n"
            "Content-Type: multipart/form-data; boundary=stall\r\n"
            "Content-Length: 5000000\r\n\r\n".encode()
            + head
        )
        started = time.monotonic()
        status, headers, body = read_answer(sock, timeout=15)
    assert status == 408, body
    assert headers["content-type"] == "application/json"
    assert time.monotonic() - started < 12
    assert json.loads(body) == {
        "status_code": 408,
        "error": {"message": "The request body did not arrive in time", "code": 408},
        "status_txt": "Request Timeout",
    }
    assert "Traceback" not in site.log_text()
    assert "Internal Server Error" not in site.log_text()
    assert files_under(site.var / "tmp") == []
    assert timed_get(site.port, "/", timeout=5)[0] == 200


def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(
    web_server: Callable[..., Site],
) -> None:
    site = web_server("embedded", REQUEST_BODY_TIMEOUT="2")
    with socket.create_connection(("127.0.0.1", site.port), timeout=5) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\npart"
        )
        status, headers, body = read_answer(sock, timeout=10)
        assert status == 408
        assert headers["content-type"].startswith("text/plain")
        assert body == b"The request body did not arrive in time.\n"
        sock.settimeout(5)
        assert sock.recv(1) == b""  # closed: the rest of that body is never read
    assert files_under(site.var / "tmp") == []
    assert timed_get(site.port, "/", timeout=5)[0] == 200


def test_a_reader_that_takes_nothing_for_the_send_timeout_is_dropped(
    web_server: Callable[..., Site], api_key: str
) -> None:
    site = web_server("embedded", RESPONSE_SEND_TIMEOUT="2")
    status, answer, _ = upload(site.port, api_key, noise_png(8), timeout=60)
    assert status == 200, answer
    path = "/" + answer["image"]["url"].split("/", 3)[3]
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", site.port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        time.sleep(8)  # reads nothing, well past the send timeout
        status, headers, body = read_answer(sock, timeout=10)
    assert status == 200
    # The server gave up on it: the connection ended before the file did.
    assert len(body) < int(headers["content-length"]) == answer["image"]["size"]
    assert "Dropped a client that stopped reading" in site.log_text()
    assert "Traceback" not in site.log_text()
    assert timed_get(site.port, "/", timeout=5)[0] == 200


def _workers(master: int, count: int) -> list[int]:
    """The master's worker processes, once `count` of them have started."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = child_pids(master)
        if len(found) == count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gunicorn {master} did not start {count} workers")


def test_each_worker_leads_a_session_of_its_own_and_exits_when_its_master_dies(
    web_server: Callable[..., Site],
) -> None:
    # The kernel's autogroup shares the CPU between sessions: one session for all the
    # workers gave the whole web server the share of one database backend.
    site = web_server("embedded")
    workers = _workers(site.process.pid, 2)
    assert all(os.getsid(pid) == pid for pid in workers)
    assert timed_get(site.port, "/", timeout=10)[0] == 200
    # No longer in the master's process group, they are stopped by the master (SIGTERM
    # above, in the fixture), or stop by themselves once it is gone.
    site.process.kill()
    site.process.wait()
    deadline = time.monotonic() + 30
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(running(pid) for pid in workers)


def test_worker_sessions_can_be_turned_off(web_server: Callable[..., Site]) -> None:
    site = web_server("embedded", GUNICORN_WORKER_SESSIONS="0")
    master_session = os.getsid(site.process.pid)
    assert all(os.getsid(pid) == master_session for pid in _workers(site.process.pid, 2))
