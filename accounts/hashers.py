"""Passwords imported from Chevereto: PHP's `password_hash()` bcrypt (`$2y$…`).

Stored as `chevereto_bcrypt$<the PHP hash>`. The hasher comes after Django's default in
PASSWORD_HASHERS, so a successful login rewrites the hash with the default one: imported
users move to the site's own hashing one login at a time.
"""

from __future__ import annotations

from typing import Any

import bcrypt
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare

# bcrypt reads at most 72 bytes of a password. PHP silently ignores the rest, and the
# bcrypt package (5+) refuses longer passwords: cut them like PHP so they keep working.
BCRYPT_MAX_BYTES = 72


def _php_bytes(password: str) -> bytes:
    return password.encode()[:BCRYPT_MAX_BYTES]


def _as_python_prefix(php_hash: str) -> bytes:
    # `$2y$` is PHP's name for the fixed bcrypt that Python's library calls `$2b$`.
    if php_hash.startswith("$2y$"):
        php_hash = "$2b$" + php_hash[4:]
    return php_hash.encode("ascii")


class CheveretoBcryptHasher(BasePasswordHasher):
    algorithm = "chevereto_bcrypt"
    rounds = 10  # PHP's default cost, used only when something encodes with this hasher

    def salt(self) -> str:
        return bcrypt.gensalt(self.rounds).decode("ascii")

    def encode(self, password: str, salt: str) -> str:
        digest = bcrypt.hashpw(_php_bytes(password), salt.encode("ascii")).decode("ascii")
        return f"{self.algorithm}${'$2y$' + digest[4:]}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, _, php_hash = encoded.partition("$")
        assert algorithm == self.algorithm
        # $2y$10$<22 chars of salt><31 chars of checksum>
        _, _, cost, rest = php_hash.split("$", 3)
        return {
            "algorithm": algorithm,
            "hash": rest[22:],
            "salt": rest[:22],
            "work_factor": int(cost),
            "php_hash": php_hash,
        }

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, _, php_hash = encoded.partition("$")
        if algorithm != self.algorithm or not php_hash.startswith(("$2y$", "$2b$", "$2a$")):
            return False
        try:
            expected = _as_python_prefix(php_hash)
            computed = bcrypt.hashpw(_php_bytes(password), expected)
        except ValueError:
            return False  # a malformed stored hash matches no password
        return constant_time_compare(computed, expected)

    def safe_summary(self, encoded: str) -> dict[str, str]:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "work factor": str(decoded["work_factor"]),
            "salt": mask_hash(decoded["salt"]),
            "checksum": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        # Not the preferred hasher anyway: Django upgrades on the next login.
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        # The cost is the old site's: nothing to even out between imported hashes.
        return None
