"""An upload handler that hashes files while they stream to disk.

Hashing during the upload spares a second full read of the file before it is stored.
"""

from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    md5: str = ""


class HashingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)
        self.file.__class__ = HashedTemporaryUploadedFile
        self._md5 = hashlib.md5(usedforsecurity=False)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._md5.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        uploaded = super().file_complete(file_size)
        uploaded.md5 = self._md5.hexdigest()  # type: ignore[attr-defined]
        return uploaded  # type: ignore[return-value]
