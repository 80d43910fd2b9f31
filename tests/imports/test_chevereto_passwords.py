"""The password hasher of users imported from Chevereto (PHP's bcrypt, `$2y$`)."""

from __future__ import annotations

import bcrypt
from django.contrib.auth.hashers import check_password, identify_hasher

# The example of PHP's password_verify() manual page, made by PHP itself.
PHP_HASH = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
STORED = f"chevereto_bcrypt${PHP_HASH}"


def test_a_hash_made_by_php_checks_its_password() -> None:
    assert check_password("rasmuslerdorf", STORED)
    assert not check_password("rasmuslerdorF", STORED)


def test_a_right_password_is_rehashed_with_the_sites_own_hasher() -> None:
    upgraded: list[str] = []
    assert check_password("rasmuslerdorf", STORED, setter=upgraded.append)
    assert upgraded == ["rasmuslerdorf"]


def test_passwords_over_72_bytes_are_cut_there_like_php_did() -> None:
    password = "é" * 50  # 100 bytes in UTF-8
    digest = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()
    stored = "chevereto_bcrypt$$2y$" + digest[4:]
    assert check_password(password, stored)
    assert check_password("é" * 36, stored)  # the same first 72 bytes
    assert not check_password("é" * 35, stored)


def test_a_malformed_stored_hash_matches_nothing() -> None:
    assert not check_password("anything", "chevereto_bcrypt$$2y$10$short")
    assert not check_password("anything", "chevereto_bcrypt$md5:abc")


def test_the_dashboard_summary_masks_the_hash() -> None:
    summary = identify_hasher(STORED).safe_summary(STORED)
    assert summary["algorithm"] == "chevereto_bcrypt"
    assert summary["work factor"] == "10"
    assert ".vGA1O9wmRjrwAVXD98HNO" not in str(summary)
