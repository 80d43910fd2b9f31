"""Helpers shared by the benchmarks: a throw-away site directory and a gunicorn server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def periodic_query(sql: str) -> bool:
    """A query no request owns: the per-process copies of the site settings and of the IP
    bans, re-read when they are 5 s old, and an API key's last-used time, written at most
    once a minute (accounts.services). Query counts per request leave them out."""
    if sql.startswith("UPDATE") and "last_used_at" in sql:
        return True
    return '"chevereto_sitesettings"' in sql or '"chevereto_ipban"' in sql


def manage(env: dict[str, str], *args: str) -> str:
    """Run `manage.py ARGS` for the site of `env`; its output, or an error with its stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchSite:
    """A fresh site (SQLite, local media, filesystem broker) in a temporary folder."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="chv-bench-")
        self.var = Path(self.tmp.name)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "S3_BUCKET"}},
            "CHEVERETO_VAR_DIR": str(self.var),
            "ROOT_URLCONF": "bench.urls",
            "DJANGO_SETTINGS_MODULE": "chevereto.settings",
        }
        self.server: subprocess.Popen[bytes] | None = None
        self.port = free_port()

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def setup(self, *, user_max_mb: int = 100) -> str:
        """Migrate, make an admin-free bench user and return its API key."""
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage(
            "shell",
            "-c",
            "from accounts.models import User; from chevereto.core.models import SiteSettings;"
            "User.objects.create_user(username='bench', password='bench-pass-1');"
            "s = SiteSettings.load(); s.flood_protection = False;"
            f"s.user_max_filesize_mb = {user_max_mb}; s.save()",
        )
        return self.manage("create_api_key", "bench").strip()

    def start(self, *, workers: int = 1) -> None:
        self.server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "chevereto.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api-v1", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        assert self.server is not None
        children = (
            Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text().split()
        )
        return [int(pid) for pid in children]

    def restart(self) -> None:
        """A fresh server process (same site), so peak-memory readings start clean."""
        self._stop_server()
        self.port = free_port()
        self.start()

    def _stop_server(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.server = None

    def stop(self) -> None:
        self._stop_server()
        self.tmp.cleanup()


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def current_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
