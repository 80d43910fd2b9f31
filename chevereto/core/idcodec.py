"""Chevereto's public id encoding (``id_encoded``).

Base 62 over ``a-z0-9A-Z`` shuffled by a per-site salt, applied to ``id * padding``.
Reproduces Chevereto's own function digit for digit, so a site migrating from Chevereto
keeps every old URL working by setting its salt and padding.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

BASE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BASE = len(BASE_ALPHABET)
# Ids are signed 64-bit primary keys: a larger decoded value names no row and would
# overflow the database's integer on lookup, so it is refused here for every caller.
MAX_ID = 2**63 - 1


class InvalidEncodedId(ValueError):
    pass


@lru_cache(maxsize=16)
def alphabet_for(salt: str) -> str:
    """The alphabet sorted by the hex digits of sha256(salt), descending, ties by character.

    This is PHP's ``array_multisort($hash, SORT_DESC, $alphabet)`` as Chevereto calls it:
    the first 62 hex characters are the keys; equal keys keep the characters ascending.
    """
    keys = hashlib.sha256(salt.encode()).hexdigest()
    pairs = sorted(zip(keys[:BASE], BASE_ALPHABET, strict=True), key=lambda p: (-ord(p[0]), p[1]))
    return "".join(char for _, char in pairs)


class IdCodec:
    def __init__(self, salt: str, padding: int) -> None:
        if padding < 0:
            raise ValueError("padding must not be negative")
        self.alphabet = alphabet_for(salt)
        self.padding = padding
        self._index = {char: pos for pos, char in enumerate(self.alphabet)}
        # The longest string any id can have: a large padding makes the largest ids longer
        # than the 20 digits of an unpadded one, and those must decode too.
        largest = MAX_ID * max(padding, 1)
        self.max_length = 1
        while largest >= BASE**self.max_length:
            self.max_length += 1

    def encode(self, value: int) -> str:
        if value < 1 or value > MAX_ID:
            raise ValueError("only positive 64-bit ids are encoded")
        number = value * self.padding if self.padding > 0 else value
        digits: list[str] = []
        while number:
            number, rest = divmod(number, BASE)
            digits.append(self.alphabet[rest])
        return "".join(reversed(digits))

    def decode(self, encoded: str) -> int:
        if not encoded or len(encoded) > self.max_length:
            raise InvalidEncodedId(encoded)
        number = 0
        for char in encoded:
            pos = self._index.get(char)
            if pos is None:
                raise InvalidEncodedId(encoded)
            number = number * BASE + pos
        if self.padding > 0:
            number, rest = divmod(number, self.padding)
            if rest:
                raise InvalidEncodedId(encoded)
        if number < 1 or number > MAX_ID:
            raise InvalidEncodedId(encoded)
        return number
