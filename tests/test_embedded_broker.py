"""The embedded broker's messages appear in the queue folder whole."""

from __future__ import annotations

import contextlib
import os
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
