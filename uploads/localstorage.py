"""Local-disk storage that never leaves a partial file behind.

Django's FileSystemStorage leaves whatever it wrote when a write fails (a full disk part-way
through a copy): a file no row owns. This one creates the file exclusively under its final
name, fills it (a rename when the source is a temporary file on the same disk), and removes
it again if anything fails, so a failed save leaves the folder as it was.
"""

from __future__ import annotations

import errno
import os
import shutil
from contextlib import suppress
from typing import Any

from django.core.files.storage import FileSystemStorage
from django.utils._os import safe_makedirs

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


class LocalStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        directory = os.path.dirname(self.path(name))
        if self.directory_permissions_mode is not None:
            safe_makedirs(directory, self.directory_permissions_mode, exist_ok=True)
        else:
            os.makedirs(directory, exist_ok=True)
        while True:
            full_path = self.path(name)
            try:
                fd = self._create(full_path)
            except FileExistsError:
                # Taken since the name was chosen (another upload): pick another.
                name = self.get_available_name(name)
                continue
            break
        try:
            self._fill(fd, full_path, content)
            if self.file_permissions_mode is not None:
                os.chmod(full_path, self.file_permissions_mode)
        except BaseException:
            with suppress(OSError):
                os.unlink(full_path)
            raise
        self._ensure_location_group_id(full_path)
        return os.path.relpath(full_path, self.location).replace("\\", "/")

    def _create(self, full_path: str) -> int:
        """Claim the name: fails with FileExistsError when the file exists."""
        return os.open(full_path, _CREATE, 0o666)

    def _fill(self, fd: int, full_path: str, content: Any) -> None:
        """Write `content` into the claimed file (open as `fd`, which this closes)."""
        source = getattr(content, "temporary_file_path", None)
        if source is not None:
            os.close(fd)
            try:
                # Same disk: the claimed (empty) file is replaced by the temporary one.
                os.replace(source(), full_path)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
            with open(source(), "rb") as src, open(full_path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            return
        with os.fdopen(fd, "wb") as handle:
            for chunk in content.chunks():
                handle.write(chunk if isinstance(chunk, bytes) else chunk.encode())
