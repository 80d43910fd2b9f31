"""No secret ever reaches a log line: API keys (header, query, form), delete tokens,
passwords, session ids and one-time link tokens, through every logger the site has."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.conf import LazySettings
from django.core import mail
from django.test import Client
from gunicorn.config import Config

from accounts.models import User
from chevereto.core.redact import RedactSecretsFilter
from chevereto.gunicorn_logging import RedactingLogger
from tests import samples

pytestmark = pytest.mark.django_db

PASSWORD = "Very-secret-pass-91"
WRONG_PASSWORD = "Wrong-but-secret-17"


class _Everything(logging.Handler):
    """Every record of every logger, formatted as the site's console handler writes it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RedactSecretsFilter())
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[_Everything]:
    handler = _Everything()
    root = logging.getLogger()
    # Everything at DEBUG, including the request loggers the settings keep at ERROR: an
    # operator may lower them, and a secret must not appear even then.
    levels = {name: logging.getLogger(name).level for name in ("", "django.request", "django")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(autouse=True)
def _fast_hasher(settings: LazySettings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2


def _secret_parts(secret: str) -> list[str]:
    """The secret, and for an API key its secret half (the public prefix may be shown)."""
    parts = [secret]
    if secret.startswith("chv_"):
        parts.append(secret.rsplit("_", 1)[1])
    return parts


def test_uploads_deletes_logins_and_signups_leave_no_secret_in_any_log(
    logged: _Everything, api_key: str, user: User
) -> None:
    secrets: list[str] = [api_key, PASSWORD, WRONG_PASSWORD]
    client = Client()
    photo = samples.jpeg_bytes(64, 48)

    # Uploads with the key in the header, the query string and the form.
    by_header = client.post(
        "/api/1/upload",
        {"source": _file(photo, "a.jpg")},
        HTTP_X_API_KEY=api_key,
    )
    by_query = client.post(f"/api/1/upload?key={api_key}", {"source": _file(photo, "b.jpg")})
    by_form = client.post("/api/1/upload", {"key": api_key, "source": _file(photo, "c.jpg")})
    delete_urls = []
    for response in (by_header, by_query, by_form):
        assert response.status_code == 200, response.content
        delete_urls.append(response.json()["image"]["delete_url"])
    tokens = [url.rsplit("/", 1)[1] for url in delete_urls]
    secrets += tokens

    # Wrong keys in each place, and a key on API V4.
    wrong_key = api_key[:-8] + "0badc0de"
    secrets.append(wrong_key)
    client.post("/api/1/upload", {"source": _file(photo, "d.jpg")}, HTTP_X_API_KEY=wrong_key)
    client.get(f"/api/1/upload?key={wrong_key}&source=x")
    client.post("/api/1/upload", {"key": wrong_key, "source": "x"})
    client.get("/api/4/account/", HTTP_X_API_KEY=api_key)
    client.get(f"/api/4/account/?key={wrong_key}")

    # Delete links: shown, used, and a wrong one.
    path = delete_urls[0].split("://", 1)[1].split("/", 1)[1]
    client.get("/" + path)
    client.post("/" + path)
    wrong_token = "f" * 48
    secrets.append(wrong_token)
    client.get("/" + path.rsplit("/", 1)[0] + "/" + wrong_token)

    # Failed logins (into a lockout), a good one, the dashboard's.
    for _ in range(3):
        client.post("/login", {"username": "alice", "password": WRONG_PASSWORD})
    client.post("/dashboard/login/", {"username": "bob_x", "password": WRONG_PASSWORD})
    browser = Client()
    User.objects.create_user(username="logs_user", password=PASSWORD)
    browser.post("/login", {"username": "logs_user", "password": PASSWORD})
    session_id = browser.cookies["sessionid"].value
    secrets.append(session_id)
    browser.get("/settings/api")
    browser.get("/no-such-page", HTTP_COOKIE=f"sessionid={session_id}")

    # A signup (its link is a one-time token) and a password reset link.
    client.post(
        "/signup",
        {"username": "zoe_1", "email": "zoe@example.com", "password1": PASSWORD,
         "password2": PASSWORD},
    )  # fmt: skip
    link = re.search(r"/signup/confirm/(\S+)", mail.outbox[-1].body)
    secrets.append(link.group(1))
    client.get(link.group(0))
    client.post("/password-reset", {"email": "alice@example.com"})
    reset = re.search(r"/password-reset/[^/\s]+/(\S+)", mail.outbox[-1].body)
    secrets.append(reset.group(1))
    Client().get(reset.group(0), follow=True)

    assert logged.lines, "the test saw no log line at all: the capture is broken"
    text = "\n".join(logged.lines)
    for secret in secrets:
        for part in _secret_parts(secret):
            assert part not in text, f"a secret reached the logs: {part[:6]}…"


def _file(content: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_gunicorn_access_lines_mask_keys_tokens_and_session_cookies() -> None:
    key = "chv_Ab_" + "9" * 64
    token = "a" * 48
    config = Config()
    config.set(
        "access_log_format",
        '%(h)s "%(r)s" %(s)s "%({x-api-key}i)s" "%({cookie}i)s" "%({referer}i)s"',
    )
    logger = RedactingLogger(config)
    request = SimpleNamespace(
        headers=[
            ("X-API-KEY", key),
            ("COOKIE", "csrftoken=c; sessionid=topsecretsession"),
            ("REFERER", f"https://site.example/image/x/delete/{token}"),
        ]
    )
    response = SimpleNamespace(
        status="200 OK", headers=[], response_length=10, sent=10, status_code=200
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/1/upload?key={key}&source=x",
        "PATH_INFO": "/api/1/upload",
        "QUERY_STRING": f"key={key}&source=x",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
    }
    atoms = logger.atoms(response, request, environ, _Elapsed())
    line = config.access_log_format % atoms
    assert "9" * 64 not in line and token not in line and "topsecretsession" not in line
    assert "[redacted]" in line


class _Elapsed:
    seconds = 0
    microseconds = 1000

    def total_seconds(self) -> float:
        return 0.001
