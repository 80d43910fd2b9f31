"""SIGTERM to the web server: uploads in flight finish and are stored, nothing new is let
in, and the server exits within its graceful timeout."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.slow_clients import multipart, small_jpeg
from chevereto.core.encoding import decode_id
from tests.integration.test_slow_clients import LAYOUTS, Site, read_answer, web_server
from uploads.models import Image

__all__ = ["web_server"]  # the fixture, shared with the slow-client tests

pytestmark = pytest.mark.django_db(transaction=True)
GRACEFUL_TIMEOUT = 20


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_upload_in_flight_at_sigterm_completes_and_is_stored_then_the_server_exits(
    web_server: Callable[..., Site], api_key: str, media_root: Path, layout: str
) -> None:
    site = web_server(layout, WEB_CONCURRENCY="1", GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT))
    body, content_type = multipart(
        {"key": api_key, "format": "json"}, "source", "in-flight.jpg", small_jpeg(3)
    )
    half = len(body) // 2
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as sock:
        sock.sendall(
            f"POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:half]
        )
        time.sleep(0.5)
        site.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        deadline = signalled + 10
        while not refuses_connections(site.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert refuses_connections(site.port), site.log_text()
        assert site.process.poll() is None  # still finishing the upload

        sock.sendall(body[half:])
        status, _, answer = read_answer(sock, timeout=30)
    assert status == 200, (answer, site.log_text())
    image = json.loads(answer)["image"]
    stored = Image.objects.get(pk=decode_id(image["id_encoded"]))
    assert site.has_file(stored.path, media_root)

    site.process.wait(timeout=GRACEFUL_TIMEOUT + 10)
    assert site.process.returncode == 0, site.log_text()
    assert time.monotonic() - signalled < GRACEFUL_TIMEOUT + 5
