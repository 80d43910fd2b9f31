from __future__ import annotations

import json
from pathlib import Path

import pytest

from chevereto.core.encoding import decode_id, encode_id
from chevereto.core.idcodec import IdCodec, InvalidEncodedId
from chevereto.core.models import SiteSettings

# Ids encoded by Chevereto's own PHP function, for several salts and paddings.
VECTORS = json.loads(Path(__file__).with_name("chevereto_id_vectors.json").read_text())


@pytest.mark.parametrize(
    "case", VECTORS, ids=lambda c: f"salt={c['salt']!r},padding={c['id_padding']}"
)
def test_it_reproduces_every_id_chevereto_encoded(case: dict) -> None:
    codec = IdCodec(case["salt"], case["id_padding"])
    for number, encoded in case["encoded"].items():
        assert codec.encode(int(number)) == encoded
        assert codec.decode(encoded) == int(number)


@pytest.mark.parametrize(("salt", "padding"), [("", 0), ("2c4d6f8a", 999), ("a1b2c3d4", 7321)])
def test_it_round_trips_every_id_up_to_a_million(salt: str, padding: int) -> None:
    codec = IdCodec(salt, padding)
    seen: set[str] = set()
    for number in range(1, 1_000_001):
        encoded = codec.encode(number)
        assert codec.decode(encoded) == number
        seen.add(encoded)
    assert len(seen) == 1_000_000


def test_it_gives_stable_strings_for_a_known_salt_and_padding() -> None:
    codec = IdCodec("deadbeef", 5000)
    assert [codec.encode(n) for n in (1, 2, 3, 1000)] == ["4BF", "EkB", "Ket", "cj6x"]


@pytest.mark.parametrize("garbage", ["", "!!", "ab/c", "x" * 30, "é"])
def test_it_rejects_strings_that_are_not_encoded_ids(garbage: str) -> None:
    with pytest.raises(InvalidEncodedId):
        IdCodec("salt", 999).decode(garbage)


def test_it_rejects_a_string_whose_value_is_not_a_multiple_of_the_padding() -> None:
    codec = IdCodec("salt", 999)
    unpadded = IdCodec("salt", 0).encode(1000)  # 1000 is not a multiple of 999
    with pytest.raises(InvalidEncodedId):
        codec.decode(unpadded)


def test_it_refuses_to_encode_zero_or_negative_ids() -> None:
    with pytest.raises(ValueError, match="positive"):
        IdCodec("", 0).encode(0)


@pytest.mark.django_db
def test_each_site_gets_its_own_salt_and_padding_once() -> None:
    first = SiteSettings.load()
    SiteSettings.clear_cache()
    again = SiteSettings.load()
    assert first.id_salt and first.id_padding >= 1000
    assert (again.id_salt, again.id_padding) == (first.id_salt, first.id_padding)


@pytest.mark.django_db
def test_a_migrating_site_keeps_its_chevereto_urls_by_setting_salt_and_padding() -> None:
    site = SiteSettings.load()
    site.id_salt, site.id_padding = "2c4d6f8a", 999
    site.save()
    assert encode_id(123456789) == "AamQOwp"
    assert decode_id("tZ") == 1
