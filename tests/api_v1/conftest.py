from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator

import pytest
from django.conf import LazySettings

from tests import samples


class _Files(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def remote(
    settings: LazySettings,
) -> Iterator[tuple[str, dict[str, tuple[int, dict[str, str], bytes]]]]:
    """A real HTTP server on 127.0.0.1 serving routes the test sets; loopback allowed."""
    settings.UPLOAD_URL_ALLOW_LOOPBACK = True
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    handler = type("Handler", (_Files,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def big_jpeg() -> bytes:
    return samples.jpeg_bytes(1200, 900)


@pytest.fixture
def small_png() -> bytes:
    return samples.png_bytes(40, 30)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
