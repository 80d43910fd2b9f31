"""The embedded default's broker: Kombu's filesystem transport, with messages that appear
in the queue folder whole.

Kombu writes a message straight under its final name, and its consumer neither waits for
nor honours the writer's lock: a worker polling while a web process writes could read an
empty or half-written file, and a message that is not JSON stops the whole worker
("Unrecoverable error"). Here a message is written under a name the consumer skips and
then renamed into place, which is atomic within one folder.

Kombu's consumer polls: whenever it finds the queue empty it sleeps its polling interval,
so a task put into an idle queue waited half an interval on average before a worker saw it.
Here, on Linux, the consumer waits on an inotify watch of its queue folder instead, woken
the moment a message is renamed in; the interval remains as the longest wait, so a wake-up
missed for any reason only costs what polling did.
"""

from __future__ import annotations

import ctypes
import os
import select
import time
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # The name Kombu gives a message (its consumer sorts and filters on it).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # "<id>.<queue>.msg.part": not taken for `queue`
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from exc


# <sys/inotify.h>: a file closed after writing, or renamed into the folder.
_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080


class FolderWatch:
    """Waits until a file is written or renamed into one of some folders, for at most a
    given time. Without inotify (another system, a watch refused) it simply sleeps."""

    def __init__(self, folders: list[str]) -> None:
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):  # no libc symbol: not Linux
            return
        if fd < 0:
            return
        mask = _IN_CLOSE_WRITE | _IN_MOVED_TO
        if all(libc.inotify_add_watch(fd, os.fsencode(f), mask) >= 0 for f in folders):
            self.fd = fd
            self._poller = select.poll()  # not select(): any descriptor number
            self._poller.register(fd, select.POLLIN)
        else:
            os.close(fd)

    @property
    def watching(self) -> bool:
        return self.fd >= 0

    def wait(self, seconds: float) -> None:
        if self.fd < 0:
            time.sleep(seconds)
            return
        if self._poller.poll(seconds * 1000):
            try:  # consume the events: only their arrival matters
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Transport(filesystem.Transport):
    Channel = Channel

    _watch: FolderWatch | None = None
    _watch_pid = 0

    def _folder_watch(self) -> FolderWatch:
        # Per process: a forked child must not read its parent's events.
        if self._watch is None or self._watch_pid != os.getpid():
            folders = sorted({channel.data_folder_in for channel in self.channels})
            self._watch, self._watch_pid = FolderWatch(folders), os.getpid()
        return self._watch

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        """Kombu's loop, with the wait on the folder watch in place of its sleep. The watch
        exists before the first look at the queue, so a message renamed in after a look
        that found nothing always ends the next wait at once."""
        time_start = monotonic()
        get = self.cycle.get
        polling_interval = self.polling_interval
        if timeout and polling_interval and polling_interval > timeout:
            polling_interval = timeout
        watch = self._folder_watch()
        while True:
            try:
                get(self._deliver, timeout=timeout)
            except Empty:
                if timeout is not None and monotonic() - time_start >= timeout:
                    raise TimeoutError from None  # socket.timeout, as Kombu raises
                if polling_interval is not None:
                    watch.wait(polling_interval)
            else:
                break

    def close_connection(self, connection: Any) -> None:
        if self._watch is not None and self._watch_pid == os.getpid():
            self._watch.close()
        self._watch = None
        super().close_connection(connection)
