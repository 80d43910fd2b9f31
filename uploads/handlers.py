"""An upload handler that hashes files while they stream to disk.

The MD5 of an upload is needed before it is stored (duplicates, the API's `md5`). Hashing
in a helper thread, while the request thread keeps reading the socket and writing the
temporary file, takes it off the request's critical path: hashlib releases the GIL for
large buffers, so both run at once on two cores.
"""

from __future__ import annotations

import hashlib
import queue
import threading

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from chevereto.core.green import gevent_patched

# Bounded, so a fast client cannot pile up more than a few MB of unhashed chunks.
_QUEUE_CHUNKS = 32
# A parse that dies half-way never says "done": an idle hasher ends by itself, and the
# request thread takes over whatever is left.
_IDLE_SECONDS = 20.0


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    md5: str = ""


class _Hasher(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="upload-md5", daemon=True)
        self.digest = hashlib.md5(usedforsecurity=False)
        self.chunks: queue.Queue[bytes | None] = queue.Queue(_QUEUE_CHUNKS)
        self.start()

    def run(self) -> None:
        try:
            while (chunk := self.chunks.get(timeout=_IDLE_SECONDS)) is not None:
                self.digest.update(chunk)
        except queue.Empty:
            return

    def _drain(self) -> None:
        """Hash, in order, what the thread left when it stopped (only once it has)."""
        while True:
            try:
                chunk = self.chunks.get_nowait()
            except queue.Empty:
                return
            if chunk is not None:
                self.digest.update(chunk)

    def add(self, chunk: bytes) -> None:
        if self.is_alive():
            self.chunks.put(chunk)
        else:
            self._drain()
            self.digest.update(chunk)

    def finish(self) -> str:
        if self.is_alive():
            self.chunks.put(None)
            self.join()
        self._drain()
        return self.digest.hexdigest()


class _InlineHasher:
    """The same, in the request's own thread: under gevent a "thread" is a greenlet of the
    same OS thread, so a helper hashes nothing in parallel and only costs its start, its
    queue and its switches."""

    def __init__(self) -> None:
        self.digest = hashlib.md5(usedforsecurity=False)

    def add(self, chunk: bytes) -> None:
        self.digest.update(chunk)

    def finish(self) -> str:
        return self.digest.hexdigest()

    def is_alive(self) -> bool:
        return False


def _threads_are_greenlets() -> bool:
    return gevent_patched("threading")


class HashingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    chunk_size = 256 * 1024

    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)
        self.file.__class__ = HashedTemporaryUploadedFile
        self._hasher: _Hasher | _InlineHasher = (
            _InlineHasher() if _threads_are_greenlets() else _Hasher()
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._hasher.add(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        uploaded = super().file_complete(file_size)
        uploaded.md5 = self._hasher.finish()  # type: ignore[attr-defined]
        return uploaded  # type: ignore[return-value]

    def upload_interrupted(self) -> None:
        hasher = getattr(self, "_hasher", None)
        if hasher is not None and hasher.is_alive():
            hasher.finish()
        super().upload_interrupted()
