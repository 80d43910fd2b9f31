"""No delete token or API key reaches a log line: Django's loggers and gunicorn's access log."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from chevereto.core.redact import RedactSecretsFilter, redact

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(24)
KEY = f"chv_aBc12_{secrets.token_hex(32)}"


def test_a_delete_link_loses_its_token() -> None:
    line = f'"GET /image/aB3/delete/{TOKEN} HTTP/1.1" 200'
    assert TOKEN not in redact(line)
    assert "/image/aB3/delete/[redacted]" in redact(line)


def test_api_keys_are_masked_in_paths_headers_and_query_strings() -> None:
    text = f"/api/1/upload?key={KEY}&format=json X-API-Key: {KEY} ?KEY=secret123"
    cleaned = redact(text)
    assert KEY not in cleaned
    assert "secret123" not in cleaned
    assert "format=json" in cleaned


def test_the_logging_filter_masks_message_arguments() -> None:
    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Internal error: %s",
        (f"/delete/{TOKEN}",),
        None,
    )
    assert RedactSecretsFilter().filter(record)
    assert TOKEN not in record.getMessage()


def test_ordinary_lines_are_left_alone() -> None:
    line = "GET /images/2026/11/28/cat.th.jpg 200 1234"
    assert redact(line) == line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_site_access_log_never_shows_a_delete_token_or_key(tmp_path: Path) -> None:
    """A real gunicorn started as scripts/run-site.sh starts it."""
    env = {
        **os.environ,
        "CHEVERETO_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "chevereto.settings",
    }
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = _free_port()
    log_path = tmp_path / "site.log"
    script = (ROOT / "scripts" / "run-site.sh").read_text()
    # The same configuration file as the run script, so the test follows it; the access log
    # format is widened to the request line and the referer, the worst case for leaks.
    assert "-c chevereto/gunicorn_conf.py" in script
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "chevereto/gunicorn_conf.py",
                "chevereto.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--access-logfile",
                "-",
                "--access-logformat",
                '%(h)s "%(r)s" %(s)s "%(f)s"',
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=10).close()
                break
            # Not up yet: refused, reset, or (a first request on a busy machine) too slow.
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for path in (f"/image/aB3/delete/{TOKEN}", f"/api/1/upload?key={KEY}"):
            request = urllib.request.Request(base + path, headers={"Referer": base + path})
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as exc:
                assert exc.code < 500
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log_path.read_text()
    assert "/image/aB3/delete/[redacted]" in output
    assert TOKEN not in output
    assert KEY not in output
