"""Users for the social tests, made fast."""

from __future__ import annotations

from accounts.models import User
from tests.factories import make_user


def make_person(username: str, **fields: object) -> User:
    """A user without a password: hashing one costs most of a test's time, and nobody logs
    in as these users (the fixtures' alice and bob do)."""
    return make_user(username, password=None, **fields)  # type: ignore[arg-type]
