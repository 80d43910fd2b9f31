"""A WSGI layer that keeps slow clients away from the application.

Under gunicorn's gevent worker (chevereto/gunicorn_conf.py) a connection waiting on the
network costs a greenlet, not a thread. This layer makes sure the slow parts of a request
happen while only that greenlet waits:

- the request body is read in full *before* Django runs (into an unlinked temporary file
  past a small in-memory part, so nothing is ever left on disk), at least
  ``REQUEST_BODY_CHUNK`` bytes every ``REQUEST_BODY_TIMEOUT`` seconds, or the client gets a
  408 (Chevereto's error shape under /api/) and the connection is closed;
- at most ``WEB_APP_SLOTS`` requests per process run application code at once (each one
  may hold a database connection, and PostgreSQL has a connection limit);
- the database connections a request opened are closed once the view has answered, so a
  client that reads the response slowly holds no connection, and sending the response
  gives up after ``RESPONSE_SEND_TIMEOUT`` seconds without progress.

Under a threaded worker the same layer runs, but a thread can only be woken by its socket's
timeout: there a body that keeps trickling in is cut off only by the gevent worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connections
from django.http import UnreadablePostError

from chevereto.core.errors import error_body
from chevereto.core.green import gevent_patched

# Read in the chunks Django's upload parser asks for: 8 KB reads cost an upload of a few MB
# hundreds of extra calls (the minimum rate this sets, 64 KB per REQUEST_BODY_TIMEOUT, is
# about 3 KB/s with the default 20 s).
REQUEST_BODY_CHUNK = 64 * 1024
# Bodies up to this size stay in memory while they arrive; larger ones spill to disk.
# A photo fits: spilling it costs a second write of the whole body (~10 ms for 4.7 MB,
# bench/upload.py), and memory held is never more than what a client really sent.
_SPOOL_MEMORY = 8 * 1024 * 1024

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class BodyTimeout(Exception):
    """The client did not send the next part of its body in time."""


class RequestBodyTimeout(UnreadablePostError):
    """Raised to the application reading a body past the buffer that stopped arriving.

    Views map it to a 408 (`uploads.upload_request.body_error`); whatever the application
    answers, the guard sends the 408 and closes the connection. An UnreadablePostError, so
    Django's CSRF check treats it as the broken body it is.
    """


# Set in the WSGI environ once the application met a body that stopped arriving.
_TIMED_OUT = "chevereto.body_timed_out"
_TIMED_OUT_MESSAGE = "The request body did not arrive in time"


def _deadline(seconds: float) -> contextlib.AbstractContextManager[object]:
    """Interrupts whatever waits inside for longer than `seconds` (gevent only: a thread
    blocked in recv() cannot be interrupted, so there the socket's timeout is all there is)."""
    if gevent_patched("socket"):
        import gevent

        return gevent.Timeout(seconds, BodyTimeout)
    return contextlib.nullcontext()


def _announced_length(environ: Environ) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _has_body(environ: Environ) -> bool:
    chunked = environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
    return chunked or _announced_length(environ) > 0


def _no_write(data: bytes) -> object:
    raise RuntimeError("write() is not supported: return the body instead")


class _LiveRemainder:
    """The part of a body past the buffer cap, read from the socket as the app asks for it,
    under the same time limit per chunk."""

    def __init__(self, head: BinaryIO, source: BinaryIO, timeout: float, environ: Environ) -> None:
        self.head = head
        self.source = source
        self.timeout = timeout
        self.environ = environ

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.head.read() + b"".join(iter(lambda: self.read(REQUEST_BODY_CHUNK), b""))
        data = self.head.read(size)
        if data:
            return data
        return self._live(lambda: self.source.read(min(size, REQUEST_BODY_CHUNK)))

    def readline(self, size: int = -1) -> bytes:
        line = self.head.readline(size)
        if line:
            return line
        return self._live(lambda: self.source.readline(size))

    def _live(self, read: Callable[[], bytes]) -> bytes:
        try:
            with _deadline(self.timeout):
                return read()
        except (BodyTimeout, TimeoutError):
            # A thread's socket timeout raises TimeoutError; gevent's deadline BodyTimeout.
            self.environ[_TIMED_OUT] = True
            raise RequestBodyTimeout(_TIMED_OUT_MESSAGE) from None

    def close(self) -> None:
        self.head.close()


# (pid, connection or None): the process's idle SQLite connection, see _keep_sqlite_open.
_SQLITE_KEEPER: tuple[int, sqlite3.Connection | None] | None = None


def _keep_sqlite_open() -> None:
    """Under gevent each request opens and closes its own database connection. On SQLite the
    close of the last connection to a database checkpoints the WAL into it and removes it
    (about 4 ms per upload, bench/upload.py), and the next request sets it all up again. One
    idle connection per process keeps the database open, so closes are cheap."""
    global _SQLITE_KEEPER
    if _SQLITE_KEEPER is None or _SQLITE_KEEPER[0] != os.getpid():
        _SQLITE_KEEPER = (os.getpid(), sqlite_keeper(connections["default"].settings_dict))


def sqlite_keeper(settings_dict: dict[str, Any]) -> sqlite3.Connection | None:
    """An open connection to the SQLite database of ``settings_dict`` that holds no lock and
    no snapshot (checkpoints still copy and reset the whole WAL as it grows); None for other
    databases and for in-memory ones."""
    if settings_dict["ENGINE"] != "django.db.backends.sqlite3":
        return None
    name = str(settings_dict["NAME"])
    if name in {"", ":memory:"} or name.startswith("file:"):
        return None
    keeper = sqlite3.connect(name, isolation_level=None, check_same_thread=False)
    # A connection attaches to the WAL on its first read; that read ends here.
    keeper.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    return keeper


class SlowClientGuard:
    """Wraps the Django WSGI application (chevereto.wsgi)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._slots: threading.BoundedSemaphore | None = None
        self._slots_lock = threading.Lock()

    def slots(self) -> threading.BoundedSemaphore:
        # Made on first use: the gevent worker patches threading after this module loads.
        if self._slots is None:
            with self._slots_lock:
                if self._slots is None:
                    self._slots = threading.BoundedSemaphore(settings.WEB_APP_SLOTS)
        return self._slots

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        sock: socket.socket | None = environ.get("gunicorn.socket")
        timeout = float(settings.REQUEST_BODY_TIMEOUT)
        if _has_body(environ):
            if sock is not None:
                sock.settimeout(timeout)
            try:
                self._buffer_body(environ, timeout)
            except (BodyTimeout, TimeoutError):
                return self._timed_out(environ, start_response, sock)
        live = isinstance(environ.get("wsgi.input"), _LiveRemainder)
        answer: list[tuple[Any, ...]] = []

        def held(*args: Any) -> Callable[[bytes], object]:
            answer[:] = [args]  # sent once the application has returned
            return _no_write

        with self.slots():
            try:
                response = self.app(environ, held if live else start_response)
            finally:
                if gevent_patched("socket"):
                    # Connections belong to the greenlet, which a slow reader keeps alive.
                    _keep_sqlite_open()
                    connections.close_all()
        if environ.get(_TIMED_OUT):
            # The body stopped arriving while the view read it: that is the answer, not
            # whatever the view made of the broken body.
            close = getattr(response, "close", None)
            if close is not None:
                close()
            return self._timed_out(environ, start_response, sock)
        if live:
            start_response(*answer[0])
        if sock is not None:
            sock.settimeout(float(settings.RESPONSE_SEND_TIMEOUT))
        return response

    def _buffer_body(self, environ: Environ, timeout: float) -> None:
        source: BinaryIO = environ["wsgi.input"]
        cap = int(settings.REQUEST_BODY_BUFFER_MAX)
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed on as wsgi.input
            max_size=_SPOOL_MEMORY, dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        size = 0
        if _announced_length(environ) > cap:
            # Announced too large to buffer: the app refuses it on the uploader's limit
            # before reading it, or streams it.
            cap = 0
        try:
            while size < cap:
                with _deadline(timeout):
                    chunk = source.read(min(REQUEST_BODY_CHUNK, cap - size))
                if not chunk:
                    break
                spool.write(chunk)
                size += len(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        if size < cap:
            environ["wsgi.input"] = spool
            environ["CONTENT_LENGTH"] = str(size)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        else:
            # Past the cap the app reads the rest itself (and refuses it at the uploader's
            # limit, while it streams), under the same limit per chunk.
            environ["wsgi.input"] = _LiveRemainder(spool, source, timeout, environ)

    def _timed_out(
        self, environ: Environ, start_response: StartResponse, sock: socket.socket | None
    ) -> Iterator[bytes]:
        message = _TIMED_OUT_MESSAGE
        if sock is not None:
            # The rest of the body is not wanted: the server reads nothing more from this
            # connection and closes it after the answer.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)
            sock.settimeout(float(settings.RESPONSE_SEND_TIMEOUT))
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body = json.dumps(error_body(status=408, message=message, code=408)).encode()
            content_type = "application/json"
        else:
            body = (message + ".\n").encode()
            content_type = "text/plain; charset=utf-8"
        start_response(
            "408 Request Timeout",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                # Answered before Django's middleware: the headers every response carries.
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                ("Referrer-Policy", "same-origin"),
            ],
        )
        return iter([body])
