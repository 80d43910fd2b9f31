"""The slow-client guard around the WSGI application, without a server: bodies past the
buffer are read by the application as they arrive, and a stall there is still a 408."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from chevereto.core.slowclients import RequestBodyTimeout, SlowClientGuard


class Stalling(io.RawIOBase):
    """A socket's body: `data`, then a read that times out as a socket's timeout does."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        if not chunk:
            raise TimeoutError("timed out")
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self.data.readline(size)
        if not line:
            raise TimeoutError("timed out")
        return line


def reading_app(answer: str) -> Any:
    """An application that reads the whole body and answers `answer` whatever happens: a
    view that turned the broken body into an error of its own."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            size = len(environ["wsgi.input"].read())
            body = f"read {size}".encode()
        except OSError as exc:
            body = repr(exc).encode()
        start_response(answer, [("Content-Type", "text/plain")])
        return [body]

    return app


def call(guard: SlowClientGuard, path: str, body: Any, length: int) -> tuple[str, dict, bytes]:
    started: list[Any] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
    }
    chunks = guard(environ, lambda status, headers, *_: started.append((status, headers)))
    payload = b"".join(chunks)
    status, headers = started[-1]
    return status, dict(headers), payload


@pytest.fixture
def small_buffer(settings) -> None:
    settings.REQUEST_BODY_BUFFER_MAX = 1024
    settings.REQUEST_BODY_TIMEOUT = 1


@pytest.mark.usefixtures("small_buffer")
@pytest.mark.parametrize("answer", ["500 Internal Server Error", "400 Bad Request"])
def test_a_body_past_the_buffer_that_stalls_is_a_408_whatever_the_view_answered(
    answer: str,
) -> None:
    guard = SlowClientGuard(reading_app(answer))
    status, headers, payload = call(guard, "/api/1/upload", Stalling(b"x" * 5000), 100_000)
    assert status == "408 Request Timeout"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(payload)["error"] == {
        "message": "The request body did not arrive in time",
        "code": 408,
    }


@pytest.mark.usefixtures("small_buffer")
def test_a_page_gets_the_plain_408() -> None:
    guard = SlowClientGuard(reading_app("200 OK"))
    status, headers, payload = call(guard, "/upload", Stalling(b"x" * 5000), 100_000)
    assert status == "408 Request Timeout"
    assert headers["Content-Type"].startswith("text/plain")
    assert payload == b"The request body did not arrive in time.\n"


@pytest.mark.usefixtures("small_buffer")
def test_the_view_meets_the_stall_as_a_broken_body() -> None:
    seen: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except Exception as exc:
            seen.append(exc)
        start_response("400 Bad Request", [])
        return [b""]

    call(SlowClientGuard(app), "/api/1/upload", Stalling(b"x" * 5000), 100_000)
    assert len(seen) == 1 and isinstance(seen[0], RequestBodyTimeout)


@pytest.mark.usefixtures("small_buffer")
def test_a_body_past_the_buffer_that_arrives_is_answered_by_the_view() -> None:
    guard = SlowClientGuard(reading_app("201 Created"))
    status, _, payload = call(guard, "/api/1/upload", io.BytesIO(b"y" * 5000), 5000)
    assert (status, payload) == ("201 Created", b"read 5000")


def test_a_buffered_body_that_stalls_never_reaches_the_view(settings) -> None:
    settings.REQUEST_BODY_TIMEOUT = 1
    reached: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(True)
        start_response("200 OK", [])
        return [b""]

    status, _, _ = call(SlowClientGuard(app), "/api/1/upload", Stalling(b"x" * 50), 100_000)
    assert status == "408 Request Timeout"
    assert reached == []


# -- SQLite kept open under gevent -------------------------------------------------------


def sqlite_settings(path: Any) -> dict[str, Any]:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}


def test_a_kept_sqlite_connection_spares_each_close_the_checkpoint_and_holds_no_lock(
    tmp_path: Any,
) -> None:
    import sqlite3

    from chevereto.core.slowclients import sqlite_keeper

    path = tmp_path / "site.sqlite3"
    wal = tmp_path / "site.sqlite3-wal"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    assert not wal.exists()  # the last connection to close checkpointed and removed it

    keeper = sqlite_keeper(sqlite_settings(path))
    assert keeper is not None
    try:
        # A request's connection: it writes, then closes without the checkpoint.
        request = sqlite3.connect(path, isolation_level=None)
        request.execute("INSERT INTO t VALUES (1)")
        request.close()
        assert wal.exists() and wal.stat().st_size > 0
        # The keeper holds neither a lock nor a snapshot: a writer takes the database at
        # once, and a full checkpoint copies and empties the whole WAL.
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (2)")
        other.execute("COMMIT")
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0 and wal.stat().st_size == 0
        assert other.execute("SELECT count(*) FROM t").fetchone() == (2,)
        other.close()
    finally:
        keeper.close()


@pytest.mark.parametrize(
    "settings_dict",
    [
        {"ENGINE": "django.db.backends.postgresql", "NAME": "site"},
        sqlite_settings(":memory:"),
        sqlite_settings("file:memorydb?mode=memory&cache=shared"),
    ],
    ids=["postgresql", "memory", "uri"],
)
def test_no_connection_is_kept_for_other_databases(settings_dict: dict[str, Any]) -> None:
    from chevereto.core.slowclients import sqlite_keeper

    assert sqlite_keeper(settings_dict) is None
