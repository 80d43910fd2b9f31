"""The site's id encoder, configured from SiteSettings."""

from __future__ import annotations

from functools import lru_cache

from chevereto.core.idcodec import IdCodec, InvalidEncodedId
from chevereto.core.models import SiteSettings

__all__ = ["InvalidEncodedId", "decode_id", "encode_id", "site_codec"]


@lru_cache(maxsize=8)
def _codec(salt: str, padding: int) -> IdCodec:
    return IdCodec(salt, padding)


def site_codec() -> IdCodec:
    settings = SiteSettings.load()
    return _codec(settings.id_salt, settings.id_padding)


def encode_id(value: int) -> str:
    return site_codec().encode(value)


def decode_id(encoded: str) -> int:
    """The id behind ``encoded``; raises InvalidEncodedId for anything that is not one."""
    return site_codec().decode(encoded)
