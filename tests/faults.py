"""Fault injection for tests: a TCP proxy in front of a real server, and storage that fails.

`FaultProxy` sits on a loopback port between the site and PostgreSQL, Redis or S3. A test
points the site at the proxy, then switches faults on and off while requests run:
`cut()` drops every open connection (what a server restart does to its clients),
`refuse` accepts and at once closes new connections (a server that is down), `blackhole`
accepts and never answers (a dead network path), `delay` slows every chunk both ways
(a slow server), `drop_after` drops a connection once the client sent that many bytes
on it (a network failure part-way through a write), and `http_status` answers every HTTP
request itself with that status and an S3 error body (an S3 service in trouble).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from uploads.localstorage import LocalStorage

PASS = "pass"
REFUSE = "refuse"
BLACKHOLE = "blackhole"

_S3_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
    "<Message>injected by the test proxy</Message><RequestId>fault</RequestId></Error>"
)
_S3_CODES = {500: "InternalError", 503: "SlowDown"}


class FaultProxy:
    """A threaded TCP proxy on 127.0.0.1 forwarding to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = PASS
        self.delay = 0.0
        self.http_status: int | None = None
        self.drop_after: int | None = None
        self.connections_seen = 0
        self.requests_answered = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # -- switching faults ------------------------------------------------------------------

    def cut(self) -> int:
        """Drop every open connection, both sides; returns how many were open."""
        with self._lock:
            victims = list(self._open)
            self._open.clear()
        for sock in victims:
            _close(sock)
        return len(victims)

    def heal(self) -> None:
        self.mode, self.delay, self.http_status, self.drop_after = PASS, 0.0, None, None

    @contextmanager
    def fault(self, **changes: Any) -> Iterator[FaultProxy]:
        """Apply `mode=`, `delay=` or `http_status=` for the block, then heal."""
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            yield self
        finally:
            self.heal()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._listener.close()
        self.cut()

    # -- plumbing --------------------------------------------------------------------------

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(socks)
        for sock in socks:
            _close(sock)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections_seen += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        if self.mode == REFUSE:
            self._forget(client)
            return
        if self.mode == BLACKHOLE:
            # Read and drop whatever comes, answer nothing, until the client gives up.
            _drain_until_closed(client, self._stopping)
            self._forget(client)
            return
        if self.http_status is not None:
            self._answer_http(client, self.http_status)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._forget(client)
            return
        self._track(upstream)
        self._pump(client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        pair = {client: upstream, upstream: client}
        sent = 0  # bytes from the client on this connection
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        sent += len(data)
                        if self.drop_after is not None and sent > self.drop_after:
                            return  # the connection dies part-way through a request
                    if self.delay:
                        time.sleep(self.delay)
                    pair[sock].sendall(data)
                with self._lock:
                    if client not in self._open:  # cut meanwhile
                        return
        except (OSError, ValueError):
            return
        finally:
            self._forget(client, upstream)

    def _answer_http(self, client: socket.socket, status: int) -> None:
        """Answer one HTTP request with `status` and an S3 error body, then close."""
        try:
            client.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            headers, _, body = head.partition(b"\r\n\r\n")
            fields = {
                line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
                for line in headers.split(b"\r\n")[1:]
                if b":" in line
            }
            # Read the body the client sends (unless it waits for 100-continue), so that
            # closing afterwards is a clean close rather than a reset.
            if fields.get(b"expect", b"").lower() != b"100-continue":
                remaining = int(fields.get(b"content-length", b"0") or 0) - len(body)
                while remaining > 0:
                    chunk = client.recv(min(remaining, 65536))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            payload = _S3_ERROR.format(code=_S3_CODES.get(status, "InternalError")).encode()
            reason = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
            client.sendall(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            self.requests_answered += 1
        except OSError:
            pass
        finally:
            self._forget(client)


def _drain_until_closed(sock: socket.socket, stopping: threading.Event) -> None:
    sock.settimeout(0.2)
    while not stopping.is_set():
        try:
            if not sock.recv(65536):
                return
        except TimeoutError:
            continue
        except OSError:
            return


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# -- local storage that fails -----------------------------------------------------------------


class FailingLocalStorage(LocalStorage):
    """The site's local storage, whose writes fail with the errno given as `fail`.

    Tests run as root, and root writes through `chmod` and a full quota alike, so a full or
    read-only disk is simulated here, where the real error would come from: a full disk
    part-way through the write (a partial file exists when ENOSPC comes), a read-only one
    when the file is created.
    """

    def __init__(self, *, fail: int | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.fail = fail

    def _create(self, full_path: str) -> int:
        if self.fail is not None and self.fail != errno.ENOSPC:
            raise OSError(self.fail, os.strerror(self.fail), full_path)
        return super()._create(full_path)

    def _fill(self, fd: int, full_path: str, content: Any) -> None:
        if self.fail == errno.ENOSPC:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content.read(4096))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super()._fill(fd, full_path, content)
