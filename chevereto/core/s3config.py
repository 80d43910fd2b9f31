"""The botocore client settings of every S3 storage: bounded waits and few retries.

botocore waits 60 s to connect and 60 s per read, and retries up to five times: an S3
endpoint that hangs would hold an upload request for minutes. These bounds make a dead or
failing endpoint an error the client sees within seconds (the upload answers 503 and
nothing is kept), while a merely slow one still completes.

Checksums are sent and checked only where the S3 API requires them. Since botocore 1.36 a
client adds a CRC32 checksum (`x-amz-checksum-crc32`, sent as a trailer over HTTPS) to every
PutObject and checks one on every GetObject: many S3-compatible servers refuse those
headers (OVH, Backblaze B2, Huawei OBS, older MinIO and Ceph releases), and on a small
server the CRC costs about 0.5 ms of CPU per MB written and 1 ms per MB read. The original
of an upload is sent with its Content-MD5 instead (uploads.s3), an integrity check every
S3 server makes, computed once for the upload anyway.
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
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": max_attempts},
    )
