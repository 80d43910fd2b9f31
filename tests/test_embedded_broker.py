"""The embedded broker's messages appear in the queue folder whole."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from chevereto import fsbroker


def test_a_worker_polling_while_a_message_is_written_never_sees_it_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    # Kombu's own transport is replaced for `filesystem://` when the Celery app is loaded.
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.default_channel
        assert isinstance(channel, fsbroker.Channel)
        seen_while_writing: list[object] = []
        real_replace = os.replace

        def poll_then_replace(source: str, target: str) -> None:
            # The message is written in full but not yet in place: a consumer polling now
            # finds nothing, rather than an empty or partial file.
            with contextlib.suppress(Empty):
                seen_while_writing.append(channel._get("celery"))
            real_replace(source, target)

        monkeypatch.setattr(fsbroker.os, "replace", poll_then_replace)
        channel._put("celery", {"body": "x" * 100_000})
        assert seen_while_writing == []
        assert channel._get("celery") == {"body": "x" * 100_000}
        assert list(folder.iterdir()) == []


def _later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_waiting_consumer_is_woken_by_a_message_not_by_its_polling_interval(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    # An interval far longer than the wait below: only the folder watch can end it in time.
    with Connection("filesystem://", transport_options={**options, "polling_interval": 30}) as c:
        queue = c.SimpleQueue("tasks")

        def put() -> None:
            with Connection("filesystem://", transport_options=options) as producer:
                producer.SimpleQueue("tasks").put({"n": 1})

        sender = _later(0.3, put)
        started = time.monotonic()
        message = queue.get(timeout=20)
        waited = time.monotonic() - started
        sender.join()
        assert message.payload == {"n": 1}
        message.ack()
        assert waited < 10, f"the consumer slept {waited:.1f} s: it was not woken"
        queue.close()


def test_an_empty_queue_still_times_out_as_kombu_does(tmp_path: Path) -> None:
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "polling_interval": 5}
    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("tasks")
        with pytest.raises(Empty):  # SimpleQueue's answer to the transport's socket.timeout
            queue.get(timeout=0.3)
        queue.close()


def test_the_folder_watch_wakes_on_a_rename_and_falls_back_to_sleeping(tmp_path: Path) -> None:
    folder = tmp_path / "queue"
    folder.mkdir()
    watch = fsbroker.FolderWatch([str(folder)])
    try:
        assert watch.watching  # Linux: inotify
        aside = tmp_path / "message.part"
        aside.write_bytes(b"{}")
        renamer = _later(0.2, lambda: os.replace(aside, folder / "message.msg"))
        started = time.monotonic()
        watch.wait(30)
        assert time.monotonic() - started < 10
        renamer.join()
        # The events were consumed: with nothing new, the next wait lasts its time.
        started = time.monotonic()
        watch.wait(0.2)
        assert time.monotonic() - started >= 0.15
    finally:
        watch.close()
    # A folder that cannot be watched: the wait is the polling sleep it replaced.
    unwatched = fsbroker.FolderWatch([str(tmp_path / "missing")])
    assert not unwatched.watching
    started = time.monotonic()
    unwatched.wait(0.2)
    assert time.monotonic() - started >= 0.15
