"""Slow clients against the real web server: does the home page still answer quickly?

Starts the site (gunicorn -c chevereto/gunicorn_conf.py) on a fresh SQLite site, opens
connections that send a request body at one byte per second and connections that read a
large response at one byte per second, then times the home page and a 1 MB upload.

    .venv/bin/python bench/slow_clients.py                       # the configured default
    GUNICORN_WORKER_CLASS=gthread .venv/bin/python bench/slow_clients.py   # 2 x 4 threads
    scripts/with-test-services.sh bash -c 'DATABASE_URL=$TEST_DATABASE_URL \
        CELERY_BROKER_URL=$TEST_REDIS_URL WEB_CONCURRENCY=3 .venv/bin/python bench/slow_clients.py'

The helpers (`SlowBody`, `SlowRead`, `timed_get`, `start_server`) are shared with the tests.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BIN, ROOT, free_port


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`gunicorn -c chevereto/gunicorn_conf.py chevereto.wsgi:application`, as `make run`."""
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "chevereto/gunicorn_conf.py", "chevereto.wsgi:application"],
        cwd=ROOT,
        env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + log.read_text(errors="replace")[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            status, _ = timed_get(port, "/", timeout=10)
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not answer:\n" + log.read_text(errors="replace")[-3000:])


def stop_server(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def timed_get(port: int, path: str, *, timeout: float = 10) -> tuple[int, float]:
    """(status, seconds) of a GET; status 0 when it did not answer within `timeout`."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
            resp.read()
            return resp.status, time.monotonic() - start
    except urllib.error.HTTPError as exc:
        return exc.code, time.monotonic() - start
    except OSError:
        return 0, time.monotonic() - start


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        out.write(f"{head}{value}\r\n".encode())
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    out.write(data + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(port: int, key: str, data: bytes, *, timeout: float = 30) -> tuple[int, dict, float]:
    """POST /api/1/upload; (status, JSON body, seconds)."""
    body, content_type = multipart({"key": key, "format": "json"}, "source", "photo.jpg", data)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/1/upload",
        data=body,
        headers={"Content-Type": content_type},
        method="POST",
    )
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read()), time.monotonic() - start
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), time.monotonic() - start
    except OSError:
        return 0, {}, time.monotonic() - start


class _Attack:
    """`count` connections, each driven by its own thread until `stop()`."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.outcomes: list[str] = []

    def start(self) -> _Attack:
        for _ in range(self.count):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                self.outcomes.append(self.drive(sock))
        except OSError as exc:
            self.outcomes.append(f"error: {exc.__class__.__name__}")

    def drive(self, sock: socket.socket) -> str:
        raise NotImplementedError


class SlowBody(_Attack):
    """POSTs to the upload endpoint announcing 1 MB, then sends one byte per second."""

    def drive(self, sock: socket.socket) -> str:
        sock.sendall(
            b"POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=slow\r\n"
            b"Content-Length: 1000000\r\n\r\n"
        )
        sock.settimeout(1.0)
        while not self.stopping.is_set():
            try:
                sock.sendall(b"x")
            except OSError:
                return "cut off"
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return "cut off"
            return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "cut off"
        return "still open"


class SlowRead(_Attack):
    """GETs a large file and reads its answer one byte per second (a tiny receive window)."""

    def __init__(self, port: int, count: int, path: str) -> None:
        super().__init__(port, count)
        self.path = path

    def _run(self) -> None:
        sock = socket.socket()
        # Before connecting, so the window the server sees stays small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            sock.settimeout(5)
            sock.connect(("127.0.0.1", self.port))
            self.outcomes.append(self.drive(sock))
        except OSError as exc:
            self.outcomes.append(f"error: {exc.__class__.__name__}")
        finally:
            sock.close()

    def drive(self, sock: socket.socket) -> str:
        sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sock.settimeout(1.0)
        received = 0
        while not self.stopping.is_set():
            try:
                chunk = sock.recv(1)
            except TimeoutError:
                continue
            except OSError:
                return "cut off"
            if not chunk:
                return "cut off"
            received += 1
            self.stopping.wait(1.0)
        return "still open"


def noise_png(megabytes: float) -> bytes:
    """A PNG of random pixels (it does not compress): a large file to read slowly."""
    from PIL import Image

    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    pixels = random.Random(7).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, format="PNG", compress_level=0)
    return out.getvalue()


def small_jpeg(seed: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    rng = random.Random(seed)
    Image.frombytes("RGB", (600, 600), rng.randbytes(600 * 600 * 3)).save(
        out, format="JPEG", quality=90
    )
    return out.getvalue()


def probe(port: int, key: str, rounds: int) -> dict[str, object]:
    """Home page and upload latencies, one after the other."""
    home: list[float] = []
    failures = 0
    for _ in range(rounds):
        status, seconds = timed_get(port, "/", timeout=10)
        home.append(seconds)
        failures += status != 200
    uploads: list[float] = []
    for seed in range(3):
        status, _, seconds = upload(port, key, small_jpeg(seed), timeout=30)
        uploads.append(seconds)
        failures += status != 200
    return {
        "home_p50": statistics.median(home),
        "home_max": max(home),
        "upload_max": max(uploads),
        "failures": failures,
    }


def _site(var: Path) -> tuple[dict[str, str], str]:
    # DATABASE_URL and CELERY_BROKER_URL, when set, give the production layout (PostgreSQL,
    # Redis; WEB_CONCURRENCY workers); otherwise a fresh SQLite site and the filesystem broker.
    env = {
        **{k: v for k, v in os.environ.items() if k != "ROOT_URLCONF"},
        "CHEVERETO_VAR_DIR": str(var),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GUNICORN_ACCESSLOG": "",
    }

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    manage("migrate", "--noinput", "-v", "0")
    manage(
        "shell",
        "-c",
        "from accounts.models import User; from chevereto.core.models import SiteSettings;"
        "User.objects.create_user(username='slow', password='slow-pass-1');"
        "s = SiteSettings.load(); s.flood_protection = False; s.user_max_filesize_mb = 50;"
        "s.save()",
    )
    return env, manage("create_api_key", "slow").strip()


def main() -> None:
    import tempfile

    slow = int(os.environ.get("SLOW_CLIENTS", "10"))
    with tempfile.TemporaryDirectory(prefix="chv-slow-") as tmp:
        var = Path(tmp)
        env, key = _site(var)
        port = free_port()
        server = start_server(env, port, var / "gunicorn.log")
        try:
            status, answer, _ = upload(port, key, noise_png(12), timeout=120)
            assert status == 200, answer
            big = "/" + answer["image"]["url"].split("/", 3)[3]
            quiet = probe(port, key, rounds=10)
            bodies = SlowBody(port, slow).start()
            reads = SlowRead(port, slow, big).start()
            time.sleep(3)
            loaded = probe(port, key, rounds=10)
            bodies.stop()
            reads.stop()
        finally:
            stop_server(server)
    worker = env.get("GUNICORN_WORKER_CLASS", "gevent")
    layout = "production" if "DATABASE_URL" in env else "embedded"
    print(f"{layout} layout, {worker} workers: {slow} slow-body + {slow} slow-read connections")
    for label, row in (("quiet", quiet), ("slow clients", loaded)):
        print(
            f"{label:>13}: home p50 {row['home_p50'] * 1000:7.0f} ms, "
            f"home max {row['home_max'] * 1000:7.0f} ms, "
            f"upload max {row['upload_max'] * 1000:7.0f} ms, failures {row['failures']}"
        )
    from bench.results import record

    bench = f"slow_clients {layout}"
    figures = {k: float(v) for k, v in loaded.items()}  # type: ignore[arg-type]
    record(bench, "home p50, slow clients", round(figures["home_p50"] * 1000), "ms")
    record(bench, "upload max, slow clients", round(figures["upload_max"] * 1000), "ms")
    failures = int(figures["failures"])
    record(bench, "failures, slow clients", failures, target="0", ok=failures == 0)


if __name__ == "__main__":
    main()
