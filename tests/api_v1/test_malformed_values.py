"""Malformed values answer 4xx in Chevereto's error shape, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from chevereto.core.encoding import decode_id, site_codec
from chevereto.core.idcodec import MAX_ID, IdCodec, InvalidEncodedId
from tests.conftest import files_under
from uploads.models import Image
from uploads.parsers import SafeJSONParser

pytestmark = pytest.mark.django_db

OVERFLOWING_KEY = "chv_iHT1CA6SguPhO_abc"
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(autouse=True)
def nothing_left_behind(media_root: Path, settings: LazySettings) -> Iterator[None]:
    yield
    assert Image.objects.count() == 0
    assert files_under(media_root) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def assert_error(response, *, status: int, code: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status_code"] == status and body["error"]["code"] == code
    assert body["status_txt"]
    assert "/tmp" not in body["error"]["message"] and "/work" not in body["error"]["message"]
    return body


def post_png(client: Client, key: str, png: bytes, **fields: str):
    upload = SimpleUploadedFile("a.png", png, content_type="image/png")
    return client.post("/api/1/upload", {"source": upload, **fields}, HTTP_X_API_KEY=key)


@pytest.mark.parametrize(
    "expiration",
    [
        "9" * 5000,  # int() refuses more than 4300 digits
        "P" + "9" * 5000 + "D",
        "P999999999999Y",  # past what a date holds
        "PT99999999999999999999S",
        "²³¹",  # str.isdigit() is true for superscripts
        "٣٦٠٠",  # Arabic-Indic digits: int() takes them, we do not
        "P１D",  # fullwidth digit
    ],
)
def test_an_expiration_no_date_can_hold_is_refused(
    client: Client, api_key: str, small_png: bytes, expiration: str
) -> None:
    assert_error(post_png(client, api_key, small_png, expiration=expiration), status=400, code=400)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("width", "１２"),
        ("width", "9" * 5000),
        ("category_id", "9" * 5000),
        ("category_id", "99999999999999999999"),
        ("category_id", "²"),
    ],
)
def test_numbers_in_other_scripts_or_beyond_any_id_are_refused(
    client: Client, api_key: str, small_png: bytes, field: str, value: str
) -> None:
    assert_error(post_png(client, api_key, small_png, **{field: value}), status=400, code=400)


def test_an_album_id_that_overflows_a_64_bit_id_is_refused_as_not_yours(
    client: Client, api_key: str, small_png: bytes
) -> None:
    assert_error(
        post_png(client, api_key, small_png, album_id="iHT1CA6SguPhO"), status=403, code=400
    )


def test_a_key_whose_id_overflows_an_integer_is_refused_with_401(
    client: Client, small_png: bytes
) -> None:
    assert_error(post_png(client, OVERFLOWING_KEY, small_png), status=401, code=100)
    assert_error(
        client.post("/api/1/upload", {"key": OVERFLOWING_KEY, "source": "abcd"}),
        status=401,
        code=100,
    )
    assert_error(
        client.get("/api/1/upload", {"key": OVERFLOWING_KEY, "source": "http://example.com/"}),
        status=401,
        code=100,
    )


def test_the_id_codec_refuses_values_beyond_a_signed_64_bit_id() -> None:
    codec = site_codec()
    with pytest.raises(InvalidEncodedId):
        decode_id("iHT1CA6SguPhO")
    assert codec.decode(codec.encode(MAX_ID)) == MAX_ID
    with pytest.raises(ValueError, match="64-bit"):
        codec.encode(MAX_ID + 1)
    padded = IdCodec("salt", 10_000)
    with pytest.raises(InvalidEncodedId):
        padded.decode(base62(padded.alphabet, (MAX_ID + 1) * 10_000))


def base62(alphabet: str, number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = alphabet[rest] + digits
    return digits


def test_a_json_body_nested_100000_deep_is_refused_by_api_v1(client: Client, api_key: str) -> None:
    response = client.post(
        "/api/1/upload", DEEP_JSON, content_type="application/json", HTTP_X_API_KEY=api_key
    )
    assert_error(response, status=400, code=400)


def test_a_json_body_nested_100000_deep_is_refused_by_drf_defaults_too() -> None:
    assert api_settings.DEFAULT_PARSER_CLASSES[0] is SafeJSONParser

    class Echo(APIView):
        authentication_classes: list[type] = []
        permission_classes: list[type] = []

        def post(self, request: Request) -> Response:
            return Response({"got": type(request.data).__name__})

    factory = APIRequestFactory()
    deep = factory.post("/echo", DEEP_JSON, content_type="application/json")
    assert Echo.as_view()(deep).status_code == 400
    flat = factory.post("/echo", json.dumps({"a": 1}), content_type="application/json")
    assert Echo.as_view()(flat).data == {"got": "dict"}
