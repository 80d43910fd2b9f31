"""A real site in its own processes: gunicorn on a PostgreSQL database of its own, reached
through a fault proxy, for tests that break the database under a running server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

from tests.faults import FaultProxy

ROOT = Path(__file__).resolve().parents[2]

# A site without flood limits (the tests send many uploads a minute), written before the
# server starts: its processes keep the settings they read for a few seconds.
_NO_FLOOD_LIMITS = """
from chevereto.core.models import SiteSettings
site = SiteSettings.load()
site.flood_protection = False
site.save()
"""

# The uploader.
_MAKE_KEY = """
from accounts.models import User
from accounts.services import api_key_create
user = User.objects.create_user(
    username="faults", email="faults@example.com", password="x-Faults-123"
)
print(api_key_create(user=user).key)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with(url: str, *, port: int | None = None, path: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if port is not None:
        netloc = f"{netloc.rsplit('@', 1)[0]}@{parts.hostname}:{port}"
    return urlunsplit(parts._replace(netloc=netloc, path=path or parts.path))


class LiveSite:
    def __init__(
        self, *, root: Path, server_url: str, database: str, proxy: FaultProxy, port: int
    ) -> None:
        self.root, self.server_url, self.database = root, server_url, database
        self.proxy, self.port = proxy, port
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "gunicorn.log"

    @classmethod
    def start(cls, root: Path, *, database_server: str) -> LiveSite:
        """Make a database on `database_server`, migrate it, and serve the site on it."""
        name = f"faults_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(database_server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(database_server)
        proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        site = cls(
            root=root, server_url=database_server, database=name, proxy=proxy, port=_free_port()
        )
        try:
            site.manage("migrate", "--noinput")
            site.manage("shell", "-c", _NO_FLOOD_LIMITS)
            site._serve()
        except BaseException:
            site.stop()
            raise
        return site

    def env(self, *, proxied: bool) -> dict[str, str]:
        url = _with(self.server_url, path=f"/{self.database}")
        if proxied:
            url = _with(url, port=self.proxy.port)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "MEDIA_ROOT": str(self.root / "media"),
            "CHEVERETO_VAR_DIR": str(self.root / "var"),
            "CHEVERETO_TESTING": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECRET_KEY": "faults-" + "k" * 50,
        }
        for name in ("PYTEST_CURRENT_TEST", "S3_BUCKET", "CELERY_BROKER_URL"):
            env.pop(name, None)
        return env

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(proxied=False),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def _serve(self) -> None:
        env = {
            **self.env(proxied=True),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "2",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "chevereto/gunicorn_conf.py",
             "chevereto.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(self.base + "/api/1/upload", timeout=30)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError("the site did not start:\n" + self.log.read_text(errors="replace"))

    def api_key(self) -> str:
        return self.manage("shell", "-c", _MAKE_KEY).strip().splitlines()[-1]

    def upload(self, key: str, data: bytes) -> requests.Response:
        return requests.post(
            self.base + "/api/1/upload",
            files={"source": ("harbour.jpg", data, "image/jpeg")},
            headers={"X-API-Key": key},
            timeout=60,
        )

    def fetch(self, url: str) -> bytes:
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, (url, response.status_code)
        return response.content

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.proxy.close()
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
