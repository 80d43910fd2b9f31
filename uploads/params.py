"""Parsing of upload parameters shared by API V1, API V4 and the web upload form.

Each parser takes what the client sent (a string, or None) and returns a typed value, or
raises UploadError with Chevereto's code, so every entry point rejects the same input
the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from uploads.errors import CODE_INVALID, UploadError

MAX_TITLE = 100
MAX_DESCRIPTION = 25000
MAX_TAGS = 30
MAX_TAG_LENGTH = 50
# Shortest and longest expirations accepted: ImgBB's 60 s floor, Chevereto's P1Y ceiling.
MIN_EXPIRATION = timedelta(seconds=60)
MAX_EXPIRATION_SECONDS = 366 * 86400

# Only ASCII digits count: str.isdigit() and int() also take superscripts or other scripts'
# digits, and int() refuses more than 4300 of them with a ValueError.
_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<weeks>[0-9]+)W)?"
    r"(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?=[0-9])(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?$"
)
_ASCII_DIGITS = re.compile(r"[0-9]+")
# The largest primary key the databases hold (signed 64-bit).
MAX_ID = 2**63 - 1
# Any number with more digits than this is out of every range we accept.
_MAX_DIGITS = 19


def ascii_int(text: str) -> int | None:
    """``text`` as a non-negative integer when it is only ASCII digits (at most 19), else None."""
    if not _ASCII_DIGITS.fullmatch(text) or len(text.lstrip("0")) > _MAX_DIGITS:
        return None
    return int(text)


def _invalid(message: str) -> UploadError:
    return UploadError(message, code=CODE_INVALID, status=400)


def parse_flag(value: str | None, *, name: str) -> bool:
    if value is None or value.strip() == "":
        return False
    text = value.strip().lower()
    if text in {"0", "false"}:
        return False
    if text in {"1", "true"}:
        return True
    raise _invalid(f"Invalid {name} value: use 0 or 1")


def parse_width(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    width = ascii_int(value.strip())
    if width is None or width < 1 or width > 100_000:
        raise _invalid("Invalid width: a positive integer is expected")
    return width


def parse_title(value: str | None) -> str | None:
    if value is None:
        return None
    title = " ".join(value.split())
    if len(title) > MAX_TITLE:
        raise _invalid(f"Title too long: at most {MAX_TITLE} characters")
    return title or None


def parse_description(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_DESCRIPTION:
        raise _invalid(f"Description too long: at most {MAX_DESCRIPTION} characters")
    return text or None


def parse_tags(value: str | None) -> list[str]:
    if not value:
        return []
    seen: dict[str, str] = {}
    for raw in value.split(","):
        tag = " ".join(raw.split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise _invalid(f"Tag too long: at most {MAX_TAG_LENGTH} characters")
        seen.setdefault(tag.lower(), tag)
    if len(seen) > MAX_TAGS:
        raise _invalid(f"Too many tags: at most {MAX_TAGS}")
    return list(seen.values())


def parse_int_id(value: str | None, *, name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    number = ascii_int(value.strip())
    if number is None or number < 1 or number > MAX_ID:
        raise _invalid(f"Invalid {name}")
    return number


def parse_expiration(value: str | None, *, now: datetime) -> datetime | None:
    """When an upload expires: an ISO-8601 duration (`PT5M`, `P1W`, `P1M`) or seconds.

    Months and years are calendar ones, as PHP's DateInterval counts them; seconds are
    taken exactly as given (an ImgBB client asking for 60 s gets 60 s). "0" means never.
    """
    if value is None:
        return None
    text = value.strip().upper()
    if text in {"", "0"}:
        return None
    out_of_range = _invalid("Invalid expiration: between 1 minute and 1 year")
    if _ASCII_DIGITS.fullmatch(text):
        seconds = ascii_int(text)
        if (
            seconds is None
            or seconds < MIN_EXPIRATION.total_seconds()
            or seconds > MAX_EXPIRATION_SECONDS
        ):
            raise _invalid("Invalid expiration: between 60 and 31622400 seconds")
        return now + timedelta(seconds=seconds)
    match = _ISO_DURATION.match(text)
    if not match:
        raise _invalid("Invalid expiration: use an ISO-8601 duration like PT5M or P1D")
    parts: dict[str, int] = {}
    for key, digits in match.groupdict().items():
        if digits:
            number = ascii_int(digits)
            if number is None:
                raise out_of_range
            parts[key] = number
    try:
        deadline = now + relativedelta(
            years=parts.get("years", 0),
            months=parts.get("months", 0),
            weeks=parts.get("weeks", 0),
            days=parts.get("days", 0),
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
    except (OverflowError, ValueError):
        # Years or days beyond what a date holds: far past the one-year ceiling anyway.
        raise out_of_range from None
    span = deadline - now
    if span < MIN_EXPIRATION or span.total_seconds() > MAX_EXPIRATION_SECONDS:
        raise out_of_range
    return deadline
