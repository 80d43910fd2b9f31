"""The worker's nice and its session's autogroup nice, on the file formats Linux gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chevereto.celery import worker_nice


def in_a_session_of_its_own(target: int, autogroup: Path) -> int:
    """Run worker_nice in a forked session leader; answer its exit status (0: no error)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            os.setsid()
            worker_nice(target, autogroup=str(autogroup))
            status = 0
        finally:
            os._exit(status)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_session_leader_lowers_its_autogroup_to_the_target(tmp_path: Path) -> None:
    autogroup = tmp_path / "autogroup"
    autogroup.write_text("/autogroup-42 nice 0\n")
    assert in_a_session_of_its_own(5, autogroup) == 0
    assert autogroup.read_text() == "5"


def test_an_autogroup_already_lower_is_left_alone(tmp_path: Path) -> None:
    autogroup = tmp_path / "autogroup"
    autogroup.write_text("/autogroup-42 nice 10\n")
    assert in_a_session_of_its_own(5, autogroup) == 0
    assert autogroup.read_text() == "/autogroup-42 nice 10\n"


@pytest.mark.parametrize("content", ["", "garbage\n"])
def test_a_process_outside_autogroup_reads_an_empty_file_and_carries_on(
    tmp_path: Path, content: str
) -> None:
    # A process in a cgroup of its own (a container) has no autogroup: the file reads empty.
    autogroup = tmp_path / "autogroup"
    autogroup.write_text(content)
    assert in_a_session_of_its_own(5, autogroup) == 0
    assert autogroup.read_text() == content


def test_a_kernel_without_autogroup_has_no_file_and_the_worker_carries_on(
    tmp_path: Path,
) -> None:
    assert in_a_session_of_its_own(5, tmp_path / "missing") == 0
    assert not (tmp_path / "missing").exists()


def test_a_process_sharing_its_session_leaves_the_session_alone(tmp_path: Path) -> None:
    autogroup = tmp_path / "autogroup"
    autogroup.write_text("/autogroup-42 nice 0\n")
    assert os.getsid(0) != os.getpid()
    worker_nice(os.getpriority(os.PRIO_PROCESS, 0), autogroup=str(autogroup))
    assert autogroup.read_text() == "/autogroup-42 nice 0\n"
