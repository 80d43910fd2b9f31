"""`make run` (scripts/run-site.sh) as a terminal runs it: the Celery worker and each web
worker lead a session of their own, so the worker's nice lowers its whole session's CPU
share; and a Ctrl-C, a hangup or a TERM to the script alone stops every process it started."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.load_site import child_pids, process_tree
from bench.slow_clients import free_port
from tests.integration.conftest import running, session_nice

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run-site.sh"


def site_env(var: Path) -> dict[str, str]:
    """The environment of a newcomer's `make run`: nothing configured but the folder."""
    left_out = {"MEDIA_ROOT", "FILE_UPLOAD_TEMP_DIR", "WEB_CONCURRENCY", "PYTEST_CURRENT_TEST"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "DATABASE_", "CELERY_", "GUNICORN_", "TEST_"))
        and key not in left_out
    }
    env.update(
        CHEVERETO_VAR_DIR=str(var),
        CHEVERETO_TESTING="0",
        PYTHON=sys.executable,
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="1",
    )
    return env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var folder with a migrated SQLite database, copied by each test."""
    var = tmp_path_factory.mktemp("run-site") / "var"
    var.mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=site_env(var),
        check=True,
        timeout=300,
    )
    return var


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class RunSite:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def started(self, seconds: float = 90) -> tuple[int, list[int], int, list[int]]:
        """(web master, web workers, Celery worker, its pool and beat processes) once the
        site answers and every process is up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            started = child_pids(self.process.pid)
            web = next((pid for pid in started if "bin/gunicorn " in command(pid)), None)
            worker = next((pid for pid in started if "bin/celery " in command(pid)), None)
            if web and worker and len(child_pids(web)) == 2 and len(child_pids(worker)) >= 2:
                try:
                    answered = requests.get(f"http://127.0.0.1:{self.port}/api-v1", timeout=5)
                except requests.RequestException:
                    answered = None
                if answered is not None and answered.status_code == 200:
                    return web, child_pids(web), worker, child_pids(worker)
            time.sleep(0.3)
        raise AssertionError(f"the site did not start:\n{self.log.read_text(errors='replace')}")


@pytest.fixture
def run_site(migrated: Path, tmp_path: Path) -> Iterator[RunSite]:
    var = tmp_path / "var"
    shutil.copytree(migrated, var)
    target = min(os.getpriority(os.PRIO_PROCESS, 0) + 7, 19)
    port = free_port()
    log = tmp_path / "site.log"
    with log.open("wb") as out:
        # A session of its own, as a terminal gives the command it runs.
        process = subprocess.Popen(
            [str(SCRIPT)],
            cwd=ROOT,
            env={**site_env(var), "PORT": str(port), "CELERY_WORKER_NICE": str(target)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    site = RunSite(process, port, log)
    yield site
    # The worker and the web workers lead process groups of their own: a signal to the
    # script's group does not reach them. The script stops them; whatever still runs after
    # that is killed group by group, so no test leaves a process behind.
    groups: dict[int, list[int]] = {}
    for pid in process_tree(process.pid):
        with contextlib.suppress(ProcessLookupError):
            groups.setdefault(os.getpgid(pid), []).append(pid)
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)
    for group, members in groups.items():
        if any(running(pid) for pid in members):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    process.wait()


def test_the_worker_and_each_web_worker_lead_a_session_of_their_own(run_site: RunSite) -> None:
    script = run_site.process.pid
    web, web_workers, worker, worker_children = run_site.started()
    assert os.getsid(web) == os.getsid(script) == script
    assert all(os.getsid(pid) == pid for pid in web_workers)
    assert os.getsid(worker) == worker
    assert all(os.getsid(pid) == worker for pid in worker_children)
    nice = min(os.getpriority(os.PRIO_PROCESS, 0) + 7, 19)
    for pid in [worker, *worker_children]:
        assert os.getpriority(os.PRIO_PROCESS, pid) == nice
    if session_nice(worker) is not None:
        # The worker's session runs at its nice; the script's and the web workers' sessions,
        # new like the worker's, keep the nice a new session starts with (0), whatever the
        # nice of this test's own session (none where it is the kernel's default group).
        assert session_nice(worker) == nice
        assert session_nice(script) == 0
        assert all(session_nice(pid) == 0 for pid in web_workers)


@pytest.mark.parametrize(
    ("signum", "whole_group", "status"),
    [
        (signal.SIGINT, True, 130),  # Ctrl-C: the terminal signals its foreground group
        (signal.SIGHUP, True, 129),  # the terminal closed
        (signal.SIGTERM, False, 143),  # `kill` of the script alone
    ],
    ids=["ctrl-c", "hangup", "term-to-the-script"],
)
def test_a_stop_signal_stops_every_process_the_script_started(
    run_site: RunSite, signum: signal.Signals, whole_group: bool, status: int
) -> None:
    script = run_site.process.pid
    web, web_workers, worker, worker_children = run_site.started()
    processes = [web, *web_workers, worker, *worker_children]
    if whole_group:
        os.killpg(script, signum)
    else:
        os.kill(script, signum)
    assert run_site.process.wait(timeout=90) == status
    deadline = time.monotonic() + 30
    while any(running(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in processes if running(pid)] == []
    log = run_site.log.read_text(errors="replace")
    assert "Traceback" not in log
