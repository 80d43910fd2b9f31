"""The one error type of the upload pipeline, carrying Chevereto's code and HTTP status."""

from __future__ import annotations

import errno


class UploadError(Exception):
    def __init__(self, message: str, *, code: int, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"UploadError({self.message!r}, code={self.code}, status={self.status})"


# Chevereto's codes (DESIGN.md section 6), named for readability at raise sites.
CODE_NO_KEY = 100
CODE_DUPLICATE = 101
CODE_BAD_BASE64 = 120
CODE_EMPTY_SOURCE = 130
CODE_FLOOD = 130
CODE_INVALID = 400
CODE_FORBIDDEN = 401
CODE_URL_DISABLED = 403
CODE_BAD_MIME = 612
CODE_UNSUPPORTED = 613
CODE_DISABLED_FORMAT = 614


def too_big(limit: int) -> UploadError:
    """The one "file too big" answer, wherever the size is found out."""
    mb = limit / (1024 * 1024)
    return UploadError(f"File too big - max {mb:g} MB", code=CODE_INVALID, status=413)


def storage_failed(exc: BaseException) -> UploadError:
    """The answer when the storage refused a write: the upload was not kept.

    A full disk (or quota) is 507, which retrying soon will not fix; anything else (a
    read-only or unmounted disk, an S3 endpoint answering 5xx or not at all) is 503, worth
    a retry later.
    """
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return UploadError("The storage is full: the upload was not saved", code=507, status=507)
    return UploadError(
        "The storage is unavailable: the upload was not saved, try again later",
        code=503,
        status=503,
    )
