"""URL uploads must not reach private addresses, whatever the URL looks like."""

from __future__ import annotations

import http.server
import io
import ipaddress
import threading
import time
from collections.abc import Iterator

import pytest

from uploads.urlfetch import (
    UrlFetchFailed,
    UrlRefused,
    UrlTooLarge,
    fetch_to_file,
    is_public_address,
)

BODY = b"\x89PNG\r\n\x1a\n" + b"pixels" * 1000


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        routes = {
            "/img.png": (200, {"Content-Type": "image/png"}, BODY),
            "/named": (200, {"Content-Disposition": 'attachment; filename="holiday.jpg"'}, BODY),
            "/hop1": (302, {"Location": "/hop2"}, b""),
            "/hop2": (301, {"Location": f"http://127.0.0.1:{port}/img.png"}, b""),
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/to-private": (307, {"Location": "http://10.0.0.1/x.png"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/huge": (200, {"Content-Length": str(50 * 1024 * 1024)}, None),
            "/missing": (404, {}, b"nope"),
        }
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(40):
                chunk = b"x" * 65536
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            return
        status, headers, body = routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up on purpose (size cap, timeouts) are expected here


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fetch(url: str, **kwargs: object) -> tuple[bytes, object]:
    out = io.BytesIO()
    options: dict[str, object] = {"max_bytes": 10 * 1024 * 1024, "timeout": 2.0, **kwargs}
    result = fetch_to_file(url, out, **options)  # type: ignore[arg-type]
    return out.getvalue(), result


def test_it_fetches_the_exact_bytes_when_loopback_is_allowed(server: str) -> None:
    data, result = fetch(f"{server}/img.png", allow_loopback=True)
    assert data == BODY
    assert result.size == len(BODY) and result.content_type == "image/png"
    assert result.filename == "img.png"


def test_it_takes_the_file_name_from_content_disposition(server: str) -> None:
    _, result = fetch(f"{server}/named", allow_loopback=True)
    assert result.filename == "holiday.jpg"


def test_it_follows_up_to_three_redirects(server: str) -> None:
    data, result = fetch(f"{server}/hop1", allow_loopback=True)
    assert data == BODY and result.final_url.endswith("/img.png")


def test_it_refuses_more_than_three_redirects(server: str) -> None:
    with pytest.raises(UrlRefused, match="redirects"):
        fetch(f"{server}/loop", allow_loopback=True)


@pytest.mark.parametrize("path", ["/to-metadata", "/to-private"])
def test_it_refuses_a_redirect_to_a_private_address_even_with_loopback_allowed(
    server: str, path: str
) -> None:
    with pytest.raises(UrlRefused):
        fetch(f"{server}{path}", allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fc00::1]/",
        "http://[fe80::1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://224.0.0.1/",
    ],
)
def test_it_refuses_non_public_addresses_before_connecting(url: str) -> None:
    with pytest.raises(UrlRefused):
        fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x.png",
        "gopher://example.com/",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "//example.com/x.png",
        "http:///x.png",
        "http://user:pass@example.com/x.png",
        "http://example.com:notaport/",
    ],
)
def test_it_refuses_other_schemes_credentials_and_malformed_urls(url: str) -> None:
    with pytest.raises(UrlRefused):
        fetch(url)


def test_it_refuses_a_declared_size_over_the_cap(server: str) -> None:
    with pytest.raises(UrlTooLarge) as caught:
        fetch(f"{server}/huge", allow_loopback=True)
    assert caught.value.http_status == 413


def test_it_stops_a_stream_that_grows_past_the_cap(server: str) -> None:
    out = io.BytesIO()
    with pytest.raises(UrlTooLarge):
        fetch_to_file(f"{server}/chunked", out, max_bytes=200_000, allow_loopback=True, timeout=2.0)
    assert out.tell() <= 200_000


def test_it_reports_a_remote_error_status(server: str) -> None:
    with pytest.raises(UrlFetchFailed, match="404"):
        fetch(f"{server}/missing", allow_loopback=True)


def test_a_slow_drip_server_is_cut_off_by_the_total_timeout(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(UrlFetchFailed, match="timed out"):
        fetch(f"{server}/drip", allow_loopback=True, total_timeout=0.5)
    assert time.monotonic() - started < 3


def test_a_closed_port_fails_cleanly() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UrlFetchFailed):
        fetch(f"http://127.0.0.1:{port}/x", allow_loopback=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("2002:0a00:0001::", False),
        ("fd12::1", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public
