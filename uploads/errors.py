"""The one error type of the upload pipeline, carrying Chevereto's code and HTTP status."""

from __future__ import annotations


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
