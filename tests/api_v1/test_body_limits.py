"""Bodies are bounded before they are parsed, and base64 is decoded streaming to disk."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from PIL import Image as PILImage

from chevereto.core.models import SiteSettings
from tests.conftest import files_under
from uploads.errors import UploadError
from uploads.models import Image
from uploads.parsers import StreamingFormParser, StreamingMultiPartParser
from uploads.sources import Base64Sink

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def temp_dir(settings: LazySettings) -> Path:
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


@pytest.fixture
def noise_png() -> bytes:
    """A PNG of random pixels: it does not compress, so its size is predictable (~190 KB)."""
    picture = PILImage.frombytes("RGB", (250, 250), os.urandom(250 * 250 * 3))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def one_mb_guests(site: SiteSettings) -> SiteSettings:
    site.guest_max_filesize_mb = 1
    site.user_max_filesize_mb = 20
    site.save()
    return site


class CountingStream(io.BytesIO):
    """A request body that says how much of it was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


class Limits:
    def __init__(self, *, initial: int, per_key: dict[str, int]) -> None:
        self.initial, self.per_key = initial, per_key

    def initial_upload_limit(self) -> int:
        return self.initial

    def upload_limit_for_key(self, raw: str) -> int:
        if raw not in self.per_key:
            raise UploadError("Invalid API V1 key", code=100, status=401)
        return self.per_key[raw]


def parse(body: bytes, limits: Limits) -> tuple[CountingStream, object]:
    stream = CountingStream(body)
    result = StreamingFormParser().parse(stream, FORM, {"limits": limits, "encoding": "utf-8"})
    return stream, result


def test_the_form_parser_stops_at_a_bad_key_before_reading_the_source(temp_dir: Path) -> None:
    body = b"key=wrong&source=" + b"QUFB" * (2 * MB)
    stream = CountingStream(body)
    with pytest.raises(UploadError) as refused:
        StreamingFormParser().parse(stream, FORM, {"limits": Limits(initial=20 * MB, per_key={})})
    assert refused.value.status == 401
    assert stream.consumed < MB
    assert files_under(temp_dir) == []


def test_the_form_parser_stops_once_the_guest_limit_is_passed(temp_dir: Path) -> None:
    body = b"key=guest&source=" + b"QUFB" * (4 * MB)  # 12 MB once decoded
    stream = CountingStream(body)
    limits = Limits(initial=20 * MB, per_key={"guest": MB})
    with pytest.raises(UploadError) as refused:
        StreamingFormParser().parse(stream, FORM, {"limits": limits})
    assert refused.value.status == 413
    assert stream.consumed < 2 * MB
    assert files_under(temp_dir) == []


def test_a_guest_key_after_the_source_still_applies_the_guest_limit(temp_dir: Path) -> None:
    body = b"source=" + b"QUFB" * MB + b"&key=guest"  # 3 MB once decoded
    with pytest.raises(UploadError) as refused:
        parse(body, Limits(initial=20 * MB, per_key={"guest": MB}))
    assert refused.value.status == 413
    assert files_under(temp_dir) == []


BOUNDARY = "XyZzy"


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    """A multipart body of (name, value, filename or None) parts."""
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def parse_multipart(body: bytes, limits: Limits) -> tuple[CountingStream, object]:
    media_type = f"multipart/form-data; boundary={BOUNDARY}"
    request = RequestFactory().generic("POST", "/", b"", content_type=media_type)
    request.META["CONTENT_LENGTH"] = str(len(body))
    stream = CountingStream(body)
    context = {"request": request, "limits": limits, "encoding": "utf-8"}
    try:
        return stream, StreamingMultiPartParser().parse(stream, media_type, context)
    except BaseException as exc:
        exc.consumed = stream.consumed  # type: ignore[attr-defined]
        raise


def test_a_multipart_base64_field_is_decoded_to_disk_not_held(temp_dir: Path) -> None:
    payload = os.urandom(300_000)
    body = multipart(("key", b"k", None), ("source", base64.b64encode(payload), None))
    _, result = parse_multipart(body, Limits(initial=MB, per_key={"k": MB}))
    source = result.files["source"]
    try:
        assert "source" not in result.data and result.data["key"] == "k"
        assert Path(source.path).read_bytes() == payload
    finally:
        source.close()
    assert files_under(temp_dir) == []


def test_a_multipart_base64_field_stops_at_the_guest_limit(temp_dir: Path) -> None:
    body = multipart(("key", b"guest", None), ("source", b"QUFB" * (4 * MB), None))
    with pytest.raises(UploadError) as refused:
        parse_multipart(body, Limits(initial=20 * MB, per_key={"guest": MB}))
    assert refused.value.status == 413
    assert refused.value.consumed < 3 * MB  # type: ignore[attr-defined]
    assert files_under(temp_dir) == []


def test_a_multipart_file_stops_at_the_guest_limit(temp_dir: Path) -> None:
    body = multipart(("key", b"guest", None), ("source", b"\0" * (8 * MB), "big.png"))
    with pytest.raises(UploadError) as refused:
        parse_multipart(body, Limits(initial=20 * MB, per_key={"guest": MB}))
    assert refused.value.status == 413
    assert refused.value.consumed < 3 * MB  # type: ignore[attr-defined]
    assert files_under(temp_dir) == []


def test_a_multipart_bad_key_stops_the_parse_and_drops_the_file_before_it(temp_dir: Path) -> None:
    body = multipart(
        ("source", b"\0" * MB, "a.png"), ("key", b"wrong", None), ("x", b"y" * MB, None)
    )
    with pytest.raises(UploadError) as refused:
        parse_multipart(body, Limits(initial=20 * MB, per_key={}))
    assert refused.value.status == 401
    assert refused.value.consumed < 2 * MB  # type: ignore[attr-defined]
    assert files_under(temp_dir) == []


def test_the_form_parser_decodes_escapes_split_across_reads(temp_dir: Path) -> None:
    payload = os.urandom(300_000)
    encoded = base64.b64encode(payload).decode()
    body = urlencode({"title": "a b&c", "source": encoded, "key": "k"}).encode()
    assert b"%2B" in body and b"%2F" in body
    _, result = parse(body, Limits(initial=MB, per_key={"k": MB}))
    source = result.files["source"]
    try:
        assert result.data["title"] == "a b&c" and result.data["key"] == "k"
        assert Path(source.path).read_bytes() == payload
        assert source.md5 == hashlib.md5(payload).hexdigest() and source.size == len(payload)
    finally:
        source.close()
    assert files_under(temp_dir) == []


@pytest.mark.parametrize("piece", [1, 3, 7, 4096])
def test_base64_fed_in_any_pieces_decodes_like_the_whole(temp_dir: Path, piece: int) -> None:
    payload = os.urandom(5000)
    text = b"data:image/png;base64," + base64.urlsafe_b64encode(payload).rstrip(b"=")
    wrapped = b"\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    sink = Base64Sink(max_bytes=MB)
    for start in range(0, len(wrapped), piece):
        sink.feed(wrapped[start : start + piece])
    with sink.finish() as source:
        assert Path(source.path).read_bytes() == payload
    assert files_under(temp_dir) == []


@pytest.mark.parametrize("garbage", [b"ab=cd", b"abcd=e", b"abcde", b"data:nope", b"ab\xffcd"])
def test_base64_with_garbage_is_refused_and_leaves_nothing(temp_dir: Path, garbage: bytes) -> None:
    sink = Base64Sink(max_bytes=MB)
    with pytest.raises(UploadError) as refused:
        sink.feed(garbage)
        sink.finish()
    assert refused.value.code == 120
    assert files_under(temp_dir) == []


def test_a_long_urlencoded_base64_upload_is_stored_byte_for_byte(
    client: Client, api_key: str, noise_png: bytes, media_root: Path, temp_dir: Path
) -> None:
    body = urlencode({"source": base64.b64encode(noise_png).decode()})
    response = client.post("/api/1/upload", body, content_type=FORM, HTTP_X_API_KEY=api_key)
    assert response.status_code == 200, response.content
    image = Image.objects.get()
    assert (media_root / image.path).read_bytes() == noise_png
    assert image.source_md5 == hashlib.md5(noise_png).hexdigest()
    assert files_under(temp_dir) == []


def test_an_imgbb_client_posting_base64_with_the_key_in_the_form_uploads(
    client: Client, api_key: str, noise_png: bytes, temp_dir: Path
) -> None:
    body = f"key={api_key}&image={quote(base64.b64encode(noise_png).decode(), safe='')}"
    response = client.post("/api/1/upload", body, content_type=FORM)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["size"] == len(noise_png)
    assert files_under(temp_dir) == []


class TestRefusedBodiesLeaveNothing:
    @pytest.fixture(autouse=True)
    def nothing_left_behind(self, media_root: Path, temp_dir: Path) -> Iterator[None]:
        yield
        assert Image.objects.count() == 0
        assert files_under(media_root) == []
        assert files_under(temp_dir) == []

    def test_a_large_urlencoded_body_without_a_key_gets_401(
        self, client: Client, one_mb_guests: SiteSettings
    ) -> None:
        body = "source=" + "QUFB" * (MB // 2)
        response = client.post("/api/1/upload", body, content_type=FORM)
        assert response.status_code == 401 and response.json()["error"]["code"] == 100

    def test_a_base64_body_over_the_guest_limit_gets_413_with_the_key_in_the_form(
        self, client: Client, one_mb_guests: SiteSettings
    ) -> None:
        body = f"key={one_mb_guests.guest_api_key}&source=" + "QUFB" * MB
        response = client.post("/api/1/upload", body, content_type=FORM)
        assert response.status_code == 413 and response.json()["error"]["code"] == 400
        assert "max 1 MB" in response.json()["error"]["message"]

    def test_a_body_longer_than_the_guest_limit_allows_gets_413_before_it_is_read(
        self, client: Client, one_mb_guests: SiteSettings
    ) -> None:
        body = "source=" + "QUFB" * MB
        response = client.post(
            "/api/1/upload",
            body,
            content_type=FORM,
            HTTP_X_API_KEY=one_mb_guests.guest_api_key,
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == 400

    def test_a_multipart_base64_field_over_the_limit_gets_413(
        self, client: Client, one_mb_guests: SiteSettings
    ) -> None:
        response = client.post(
            "/api/1/upload",
            {"source": "QUFB" * MB},
            HTTP_X_API_KEY=one_mb_guests.guest_api_key,
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == 400

    def test_a_multipart_file_over_the_limit_with_the_key_in_the_form_gets_413(
        self, client: Client, one_mb_guests: SiteSettings
    ) -> None:
        upload = SimpleUploadedFile("a.png", b"\x89PNG" + b"\0" * (2 * MB))
        response = client.post(
            "/api/1/upload", {"key": one_mb_guests.guest_api_key, "source": upload}
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == 400

    def test_garbage_in_a_long_urlencoded_source_gets_120(
        self, client: Client, api_key: str
    ) -> None:
        body = "source=" + "QUFB" * 10_000 + "!!!"
        response = client.post("/api/1/upload", body, content_type=FORM, HTTP_X_API_KEY=api_key)
        assert response.status_code == 400 and response.json()["error"]["code"] == 120

    def test_a_non_numeric_content_length_is_not_a_500(self, client: Client, api_key: str) -> None:
        response = client.generic(
            "POST",
            "/api/1/upload",
            b"source=",
            content_type=FORM,
            HTTP_X_API_KEY=api_key,
            CONTENT_LENGTH="²³",
        )
        assert response.status_code == 400 and response.json()["error"]["code"] == 130
