"""Properties of the id codec for any id, any salt and any padding (hypothesis).

The table tests (test_idcodec.py) pin Chevereto's own outputs; these say what holds for
every input: ids round-trip, strings are canonical and stable, and decoding any string at
all either gives an id or raises InvalidEncodedId, never anything else.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chevereto.core.idcodec import BASE_ALPHABET, MAX_ID, IdCodec, InvalidEncodedId

# A salt is any text (the site setting holds up to 64 characters; a migrated site's is
# whatever Chevereto had). Paddings go up to the largest 64-bit integer a database field
# can hold, ids over every positive 64-bit primary key.
salts = st.text(max_size=64)
paddings = st.integers(min_value=0, max_value=2**63 - 1)
ids = st.integers(min_value=1, max_value=MAX_ID)


@given(salt=salts, padding=paddings, number=ids)
@example(salt="", padding=0, number=1)
@example(salt="deadbeef", padding=2**63 - 1, number=MAX_ID)
def test_every_id_decodes_back_to_itself_for_any_salt_and_padding(
    salt: str, padding: int, number: int
) -> None:
    codec = IdCodec(salt, padding)
    assert codec.decode(codec.encode(number)) == number


@given(salt=salts, padding=paddings, number=ids)
def test_an_encoded_id_is_short_canonical_base62(salt: str, padding: int, number: int) -> None:
    encoded = IdCodec(salt, padding).encode(number)
    alphabet = IdCodec(salt, padding).alphabet
    assert encoded
    assert set(encoded) <= set(BASE_ALPHABET)
    # No leading zero digit: one id, one string.
    assert not encoded.startswith(alphabet[0])


@given(salt=salts, padding=paddings, number=ids)
def test_an_id_gets_the_same_string_from_every_codec_of_the_site(
    salt: str, padding: int, number: int
) -> None:
    # Stable across codec instances (each worker process builds its own) and calls.
    first, second = IdCodec(salt, padding), IdCodec(salt, padding)
    assert first.encode(number) == second.encode(number) == first.encode(number)


@given(salt=salts, padding=paddings, pair=st.lists(ids, min_size=2, max_size=2, unique=True))
def test_different_ids_never_share_a_string(salt: str, padding: int, pair: list[int]) -> None:
    codec = IdCodec(salt, padding)
    assert codec.encode(pair[0]) != codec.encode(pair[1])


@given(salt=salts)
def test_every_salt_shuffles_the_whole_alphabet(salt: str) -> None:
    assert sorted(IdCodec(salt, 0).alphabet) == sorted(BASE_ALPHABET)


@given(salt=salts, padding=paddings, text=st.text(max_size=40))
@example(salt="s", padding=999, text="")
@example(salt="s", padding=0, text="Z" * 20)
def test_decoding_any_string_gives_an_id_or_invalid_encoded_id(
    salt: str, padding: int, text: str
) -> None:
    codec = IdCodec(salt, padding)
    try:
        number = codec.decode(text)
    except InvalidEncodedId:
        return
    assert 1 <= number <= MAX_ID
    # Whatever decodes names the id whose canonical string it is, give or take leading
    # zero digits (Chevereto's decoder reads those as any base-62 number would).
    assert codec.encode(number) == text.lstrip(codec.alphabet[0])


@given(salt=salts, padding=paddings, number=ids, tail=st.text(min_size=1, max_size=3))
def test_a_string_with_anything_appended_is_another_id_or_refused(
    salt: str, padding: int, number: int, tail: str
) -> None:
    codec = IdCodec(salt, padding)
    tampered = codec.encode(number) + tail
    with contextlib.suppress(InvalidEncodedId):
        assert codec.decode(tampered) != number


@given(salt=salts, number=st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_ID + 1)))
def test_ids_outside_the_64_bit_keys_are_never_encoded(salt: str, number: int) -> None:
    with pytest.raises(ValueError, match="positive 64-bit"):
        IdCodec(salt, 999).encode(number)
