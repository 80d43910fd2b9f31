"""The site that bench/load.py puts under load: its processes, and their memory and CPU.

`EmbeddedSite` is what `make run` starts (scripts/run-site.sh); `ProductionSite` starts
gunicorn with several workers, Celery workers and a separate beat on PostgreSQL, Redis and
S3, the servers coming from scripts/test-services.sh as in the tests. Each process runs in a
session of its own, so stopping the site stops every process it started, and nothing else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests

from bench.common import BIN, ROOT, free_port, manage

USERNAME = "loadbench"
# Settings of the run that are not the site's business: no flood limit for one busy user.
SETUP_CODE = (
    "from accounts.models import User; from chevereto.core.models import SiteSettings;"
    f"User.objects.filter(username={USERNAME!r}).exists() or "
    f"User.objects.create_user(username={USERNAME!r}, password='load-bench-pass-1');"
    "s = SiteSettings.load(); s.flood_protection = False; s.save()"
)


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (none once it is gone)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    found = [pid]
    for child in child_pids(pid):
        found += process_tree(child)
    return found


class Site:
    """A site on a free port in a temporary folder; subclasses start its processes."""

    name = ""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix=f"chv-load-{self.name}-"))
        self.var = self.tmp / "var"
        self.var.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("S3_", "DATABASE_", "CELERY_", "GUNICORN_", "TEST_"))
            and k not in {"WEB_CONCURRENCY", "ROOT_URLCONF", "MEDIA_ROOT", "BENCH_RESULTS"}
        }
        self.env.update(
            {
                "CHEVERETO_VAR_DIR": str(self.var),
                "DJANGO_SETTINGS_MODULE": "chevereto.settings",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "PYTHON": sys.executable,
                "LOG_LEVEL": "WARNING",
            }
        )
        # --env NAME=VALUE: a setting to try (a worker class, a slot count) on either layout.
        self.env.update(item.split("=", 1) for item in args.env)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.key = ""

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def spawn(self, label: str, command: list[str], extra: dict[str, str] | None = None) -> None:
        log = open(self.tmp / f"{label}.log", "wb")  # noqa: SIM115 - the process writes it
        # Its own session, so stopping it reaches every process it started, and nothing else.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **(extra or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)

    def setup(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("shell", "-c", SETUP_CODE)
        self.key = self.manage("create_api_key", USERNAME).strip()

    def start(self) -> None:
        raise NotImplementedError

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a server process exited:\n{self.logs()}")
            try:
                if requests.get(f"{self.url}/api-v1", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the site did not answer in {seconds:.0f} s:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
            for log in sorted(self.tmp.glob("*.log"))
        )

    def pids(self) -> list[int]:
        return [pid for process in self.processes for pid in process_tree(process.pid)]

    def service_pids(self) -> dict[str, list[int]]:
        return {}  # the embedded default has no servers

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class EmbeddedSite(Site):
    """`make run`: scripts/run-site.sh, on SQLite, the filesystem broker and local files."""

    name = "embedded"

    def start(self) -> None:
        self.setup()
        self.spawn("site", [str(ROOT / "scripts" / "run-site.sh")])
        self.wait_ready()

    def describe(self) -> str:
        return "embedded (make run: SQLite, filesystem broker, worker with beat, local files)"


class ProductionSite(Site):
    """Several gunicorn workers, two Celery workers and beat; PostgreSQL, Redis and S3."""

    name = "production"

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        # A folder of its own: PostgreSQL runs as another user and must reach it.
        self.services = Path(args.services or tempfile.mkdtemp(prefix="chv-load-services-"))

    def start(self) -> None:
        if not self.args.services:
            subprocess.run(
                [str(ROOT / "scripts" / "test-services.sh"), "start", str(self.services)],
                env={**self.env, "PYTHON": sys.executable},
                check=True,
            )
        servers = self._read_env(self.services / "env")
        self.env.update(
            {
                "DATABASE_URL": servers["TEST_DATABASE_URL"],
                "CELERY_BROKER_URL": servers["TEST_REDIS_URL"],
                # The README's production environment: the throttle's counts in Redis too.
                "CACHE_URL": servers["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/1",
                "S3_BUCKET": servers["TEST_S3_BUCKET"],
                "S3_ENDPOINT_URL": servers["TEST_S3_ENDPOINT_URL"],
                "S3_REGION": servers["TEST_S3_REGION"],
                "S3_ACCESS_KEY_ID": servers["TEST_S3_ACCESS_KEY_ID"],
                "S3_SECRET_ACCESS_KEY": servers["TEST_S3_SECRET_ACCESS_KEY"],
                "S3_ADDRESSING_STYLE": "path",
            }
        )
        self.setup()
        celery = [str(BIN / "celery"), "-A", "chevereto"]
        self.spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "-c",
                "chevereto/gunicorn_conf.py",
                "chevereto.wsgi:application",
            ],
            {"WEB_CONCURRENCY": str(self.args.web_workers)},
        )
        for n in range(self.args.celery_workers):
            self.spawn(
                f"worker{n}",
                [*celery, "worker", "-n", f"load{n}@%h", "--loglevel", "warning",
                 "--concurrency", str(self.args.celery_concurrency)],
            )  # fmt: skip
        self.spawn(
            "beat",
            [*celery, "beat", "--loglevel", "warning",
             "--schedule", str(self.var / "celerybeat-schedule")],
        )  # fmt: skip
        self.wait_ready()

    @staticmethod
    def _read_env(path: Path) -> dict[str, str]:
        pairs = {}
        for line in path.read_text().splitlines():
            if line.startswith("export ") and "=" in line:
                key, value = line[len("export ") :].split("=", 1)
                pairs[key] = value
        return pairs

    def service_pids(self) -> dict[str, list[int]]:
        """The servers' processes (with PostgreSQL's backends), by group: their CPU counts
        as the site's too, on a machine they share with it."""
        found: dict[str, list[int]] = {}
        for group, pidfile in (
            ("postgresql", self.services / "pgdata" / "postmaster.pid"),
            ("redis", self.services / "redis.pid"),
            ("s3", self.services / "weed.pid"),
        ):
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue
            found[group] = process_tree(pid)
        return found

    def describe(self) -> str:
        a = self.args
        return (
            f"production ({a.web_workers} gunicorn workers, {a.celery_workers} Celery workers x "
            f"{a.celery_concurrency} + beat, PostgreSQL, Redis, S3 on SeaweedFS)"
        )

    def stop(self) -> None:
        super().stop()
        if self.args.services:
            return  # started by someone else, stopped by them
        if self.args.keep:
            for log in self.services.glob("*.log"):
                shutil.copy(log, self.tmp / f"services-{log.name}")
        subprocess.run(
            [str(ROOT / "scripts" / "test-services.sh"), "stop", str(self.services)],
            env={**self.env, "PYTHON": sys.executable},
            check=False,
        )


# --- Server memory and CPU --------------------------------------------------------------------


class Sampler(threading.Thread):
    """Samples the server processes' memory and CPU twice a second while the load runs."""

    def __init__(self, site: Site) -> None:
        super().__init__(daemon=True)
        self.site = site
        self.stopping = threading.Event()
        self.peak_total_kb: dict[str, int] = defaultdict(int)  # group -> peak of the sum
        self.peak_one_kb: dict[str, int] = defaultdict(int)  # group -> largest process
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (group, seconds so far)
        self.cpu_before: dict[int, float] = {}  # start-up's share, left out of the figures
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def group(pid: int) -> str:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return ""
        if b"gunicorn" in command:
            return "web"
        if b"celery" in command:
            return "celery"
        return "other"

    def sample(self) -> None:
        totals: Counter[str] = Counter()
        grouped = [(pid, self.group(pid)) for pid in self.site.pids()]
        for group, pids in self.site.service_pids().items():
            grouped += [(pid, group) for pid in pids]
        for pid, group in grouped:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            values = {
                line.split(":")[0]: int(line.split()[1])
                for line in status.splitlines()
                if line.startswith(("VmRSS:", "VmHWM:"))
            }
            totals[group] += values.get("VmRSS", 0)
            self.peak_one_kb[group] = max(self.peak_one_kb[group], values.get("VmHWM", 0))
            self.cpu[pid] = (group, (int(fields[11]) + int(fields[12])) / self.tick)
        for group, kb in totals.items():
            self.peak_total_kb[group] = max(self.peak_total_kb[group], kb)

    def mark(self) -> None:
        """Take the CPU used so far (imports, migrations, boot) as the zero of the figures."""
        self.sample()
        self.cpu_before = {pid: seconds for pid, (_, seconds) in self.cpu.items()}

    def cpu_seconds(self) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for pid, (group, seconds) in self.cpu.items():
            sums[group] += seconds - self.cpu_before.get(pid, 0.0)
        return sums

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()
