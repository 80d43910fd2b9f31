"""The S3 storage of uploads: objects written with their real type and disposition.

django-storages guesses an object's Content-Type from its name unless told. Every write of
an upload's file says what the file is (`typed`), from the upload's row, so a bucket or a
CDN in front of it serves each file as the site itself would: the recorded image or video
type, `inline` (or `attachment` for anything else), never text/html.
`uploads.files.typed` marks the content; this storage writes what it says. A file written
with one PutObject is sent with the Content-MD5 of its bytes when the mark carries it: the
bucket refuses (BadDigest) anything but those bytes.
"""

from __future__ import annotations

import base64
import os
import threading
from typing import Any

from botocore.exceptions import ClientError
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.utils import validate_file_name
from storages.backends.s3 import S3Storage
from storages.utils import ReadBytesWrapper, clean_name, is_seekable

from chevereto.core.green import gevent_patched


def _per_os_thread() -> threading.local:
    """Storage for one boto3 connection per OS thread, even under gevent's patching.

    django-storages keeps its boto3 resource in a `threading.local`; gunicorn's gevent
    worker patches that into a per-greenlet local, and it runs each client connection in a
    new greenlet, so every connection built a boto3 session and resource of its own (about
    0.2 s of CPU, in the request). Greenlets of one thread take turns, so they can share it.
    """
    if gevent_patched("threading"):
        from gevent import monkey

        return monkey.get_original("threading", "local")()
    return threading.local()


class MediaS3Storage(S3Storage):
    """Small files (up to the multipart threshold: every picture of a usual size) are
    written with one PutObject through the client, not through boto3's resource objects and
    its transfer manager (built, with its threads, for every file). Larger ones take
    django-storages' multipart path.

    ``save_new`` stores under exactly the name given or raises FileExistsError, with a
    conditional write (``If-None-Match: *``, honoured by AWS S3, SeaweedFS, MinIO and R2):
    two uploads choosing one name at once cannot overwrite each other, and a name that is
    free needs no HEAD request first.
    """

    # S3-compatible servers that reject the conditional header: S3_CONDITIONAL_WRITES=false.
    conditional_writes = True

    def __init__(self, **settings: object) -> None:
        conditional = settings.pop("conditional_writes", None)
        super().__init__(**settings)
        if conditional is not None:
            self.conditional_writes = bool(conditional)
        self._connections = _per_os_thread()
        self._unsigned_connections = _per_os_thread()

    def _save(self, name: str, content: Any) -> str:
        return self._put(name, content, only_if_new=False)

    def save_new(self, name: str, content: Any, max_length: int | None = None) -> str:
        """Store ``content`` under ``name`` unless an object has that name already (then
        FileExistsError): the caller picks the next name, its own way."""
        validate_file_name(name, allow_relative_path=True)
        if max_length is not None and len(clean_name(name)) > max_length:
            raise SuspiciousFileOperation(f"{name} is longer than {max_length} characters")
        return self._put(name, content, only_if_new=True)

    def _put(self, name: str, content: Any, *, only_if_new: bool) -> str:
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        size = getattr(content, "size", None)
        # One PutObject needs a body it can measure and rewind (to sign it, to retry).
        small = (
            size is not None
            and size < self.transfer_config.multipart_threshold
            and is_seekable(content)
        )
        gzipped = self.gzip and params.get("ContentType") in self.gzip_content_types
        if not small or gzipped:
            if only_if_new and self.exists(cleaned):
                raise FileExistsError(cleaned)
            return str(super()._save(name, content))
        if only_if_new:
            if not self.conditional_writes and self.exists(cleaned):
                raise FileExistsError(cleaned)
            if self.conditional_writes:
                params["IfNoneMatch"] = "*"
        md5 = getattr(content, "content_md5", "")
        if md5:
            params["ContentMD5"] = base64.b64encode(bytes.fromhex(md5)).decode("ascii")
        content.seek(0, os.SEEK_SET)
        try:
            self.connection.meta.client.put_object(
                Bucket=self.bucket_name, Key=key, Body=ReadBytesWrapper(content), **params
            )
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if only_if_new and status == 412:
                raise FileExistsError(cleaned) from None
            raise
        return cleaned

    def _get_write_parameters(self, name: str, content: object = None) -> dict[str, str]:
        params: dict[str, str] = super()._get_write_parameters(name, content)
        params.update(getattr(content, "object_parameters", None) or {})
        return params
