"""The botocore client settings of every S3 storage: bounded waits and few retries.

botocore waits 60 s to connect and 60 s per read, and retries up to five times: an S3
endpoint that hangs would hold an upload request for minutes. These bounds make a dead or
failing endpoint an error the client sees within seconds (the upload answers 503 and
nothing is kept), while a merely slow one still completes.
"""

from __future__ import annotations

from botocore.config import Config

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
MAX_ATTEMPTS = 3


def s3_client_config(
    *,
    addressing_style: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    max_attempts: int = MAX_ATTEMPTS,
) -> Config:
    # django-storages takes its addressing style and signature version from here once a
    # client config is given.
    return Config(
        s3={"addressing_style": addressing_style} if addressing_style else None,
        signature_version="s3v4",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": max_attempts},
    )
