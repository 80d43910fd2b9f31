"""`/api/1/upload` under generated requests (hypothesis): every V1 parameter, in every
place a client can put it, with right and wrong values of every type.

Whatever the request, the answer is never a 500: an error is Chevereto's error body with
the HTTP status equal to its `status_code` and one of the codes of DESIGN.md section 6,
and leaves no row, stored file or temporary file behind; a success has stored the file
and its row.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.encoding import decode_id, encode_id
from tests import samples
from tests.conftest import files_under
from tests.factories import make_album
from uploads.models import Category, Image

pytestmark = pytest.mark.django_db

# Each example is a request (and, when it uploads, a stored file and its derivatives):
# a fraction of the profile's examples, 50 in `make test`, thousands in `make fuzz`.
EXAMPLES = max(10, hypothesis_settings.default.max_examples // 2)

# Chevereto's error codes and the HTTP statuses each may come with (DESIGN.md section 6;
# 405 for a method the endpoint does not take).
ERROR_STATUSES: dict[int, set[int]] = {
    100: {401},  # no key / invalid key
    101: {409},  # duplicate refused by policy
    120: {400},  # invalid base64
    130: {400, 429},  # empty source, base64 by GET / flood limit
    400: {400, 403, 405, 413},  # invalid input or image, album not the key's, too big
    401: {403},  # uploads not allowed for this key
    403: {403},  # URL uploads disabled
    612: {415},
    613: {415},
    614: {415},
}

# -- the parts of a request --------------------------------------------------------------

# Text of every kind: unicode (no surrogates: they cannot be sent), control characters,
# NUL, and now and then a huge one.
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(["", " ", "\x00", "null", "0", "-1", "true", "[]", "{}", "ÿ\u202e"]),
    st.integers(1_000, 70_000).map(lambda n: "é" * n),
)
# Wrong JSON types where text is expected.
json_junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.lists(texts, max_size=3)
)
json_junk = st.one_of(json_junk, st.dictionaries(st.text(max_size=5), texts, max_size=2))


def _picture(kind: str, size: tuple[int, int]) -> tuple[bytes, str]:
    width, height = size
    if kind == "png":
        return samples.png_bytes(width, height, mode="RGB"), "image/png"
    if kind == "gif":
        return samples.gif_bytes(width, height), "image/gif"
    return samples.jpeg_bytes(width, height), "image/jpeg"


pictures = st.builds(
    _picture,
    st.sampled_from(["png", "jpeg", "gif"]),
    st.tuples(st.integers(1, 48), st.integers(1, 48)),
)
junk_bytes = st.binary(max_size=200)
# URLs that are refused without a connection: other schemes, and this machine's own
# addresses (loopback is not allowed to URL uploads outside the tests that serve files).
urlish = st.builds(
    "{}://{}{}".format,
    st.sampled_from(["http", "https", "ftp", "file", "gopher", "javascript", "HTTP", ""]),
    st.sampled_from(["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "127.1", "", "user@localhost"]),
    st.one_of(st.just("/x.png"), texts.map(lambda t: "/" + t)),
)


@st.composite
def sources(draw: st.DrawFn, *, multipart: bool) -> Any:
    """A `source`/`image` value: a real picture as a file, base64 or data URI, or junk."""
    kind = draw(
        st.sampled_from(
            ["file", "base64", "data-uri", "junk-base64", "junk-file", "url", "text", "none"]
            if multipart
            else ["base64", "data-uri", "junk-base64", "url", "text", "none"]
        )
    )
    if kind in {"file", "base64", "data-uri"}:
        data, mime = draw(pictures)
        if kind == "file":
            name = draw(st.sampled_from(["a.png", "photo.jpg", "noext", "../../x.gif", "é.webp"]))
            return SimpleUploadedFile(name, data, content_type=mime)
        encoded = base64.b64encode(data).decode()
        return f"data:{mime};base64,{encoded}" if kind == "data-uri" else encoded
    if kind == "junk-base64":
        return base64.b64encode(draw(junk_bytes)).decode() + draw(st.sampled_from(["", "=", "!"]))
    if kind == "junk-file":
        # Any name a file part can carry (the test client sends its last path segment).
        name = os.path.basename(draw(texts)[:50].replace("\x00", "")) or "x"
        return SimpleUploadedFile(name, draw(junk_bytes))
    if kind == "url":
        return draw(urlish)
    if kind == "text":
        return draw(texts)
    return None


def expirations() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["PT5M", "PT1H", "P1D", "P1W", "P1M", "P1Y", "P2Y", "PT0S", "P", "pt5m"]),
        st.integers(-10, 20_000_000).map(str),
        texts,
    )


@st.composite
def parameters(draw: st.DrawFn, *, album: str, foreign_album: str, category: int) -> dict:
    """Any subset of V1's parameters other than the key and the source."""
    choices: dict[str, st.SearchStrategy[Any]] = {
        "expiration": expirations(),
        "title": texts,
        "name": texts,
        "description": texts,
        "tags": st.one_of(texts, st.lists(texts, max_size=5).map(",".join)),
        "album_id": st.one_of(st.sampled_from([album, foreign_album, "", "0", "zz"]), texts),
        "category_id": st.one_of(st.just(str(category)), st.integers(-5, 2**70).map(str), texts),
        "width": st.one_of(st.integers(-10, 100_000).map(str), texts),
        "nsfw": st.one_of(st.sampled_from(["0", "1", "true", "false", "yes", ""]), texts),
        "format": st.one_of(st.sampled_from(["json", "txt", "redirect", "JSON", "xml"]), texts),
        "use_file_date": st.one_of(st.sampled_from(["0", "1", "true"]), texts),
    }
    names = draw(st.sets(st.sampled_from(sorted(choices))))
    return {name: draw(choices[name]) for name in sorted(names)}


@st.composite
def upload_requests(draw: st.DrawFn, *, key: str, ids: dict[str, Any]) -> dict[str, Any]:
    """A whole request: method, body encoding, where the key goes, the parameters."""
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET"]))
    encoding = "query" if method == "GET" else draw(st.sampled_from(["multipart", "form", "json"]))
    params = draw(
        parameters(album=ids["album"], foreign_album=ids["foreign_album"], category=ids["category"])
    )
    field = draw(st.sampled_from(["source", "image"]))
    source = draw(sources(multipart=encoding == "multipart"))
    if source is not None:
        params[field] = source
    if encoding == "json" and draw(st.booleans()):
        # Wrong types for a few parameters.
        for name in draw(st.sets(st.sampled_from(sorted({*params, "title", "width"})))):
            params[name] = draw(json_junk)
    # Mostly the right key, so that most examples reach the parameters.
    given_key = draw(st.sampled_from([key, key, key, key, "chv_wrong_0", "", " " + key]))
    place = draw(st.sampled_from(["header", "header", "query", "body", "none"]))
    return {
        "method": method,
        "encoding": encoding,
        "params": params,
        "key": given_key,
        "place": place if method == "POST" or place != "body" else "query",
    }


def send(client: Client, request: dict[str, Any]) -> Any:
    params = dict(request["params"])
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    if request["place"] == "header":
        headers["HTTP_X_API_KEY"] = request["key"]
    elif request["place"] == "query":
        query["key"] = request["key"]
    elif request["place"] == "body":
        params["key"] = request["key"]
    if request["method"] == "GET":
        return client.get("/api/1/upload", {**params, **query}, **headers)
    path = "/api/1/upload" + ("?" + urlencode(query) if query else "")
    if request["encoding"] == "multipart":
        return client.post(path, params, **headers)
    if request["encoding"] == "form":
        body = urlencode({k: v for k, v in params.items() if v is not None})
        return client.post(path, body, content_type="application/x-www-form-urlencoded", **headers)
    return client.post(path, json.dumps(params), content_type="application/json", **headers)


# -- the property -------------------------------------------------------------------------


@pytest.fixture
def ids(user: User, other_user: User) -> dict[str, Any]:
    return {
        "album": encode_id(make_album(owner=user, privacy=Album.Privacy.PUBLIC).pk),
        "foreign_album": encode_id(make_album(owner=other_user, name="Theirs").pk),
        "category": Category.objects.create(name="Cats", slug="cats").pk,
    }


@pytest.fixture
def no_key_lockout(settings: LazySettings) -> None:
    # Wrong keys are part of the generated requests: the address's lockout after a few
    # (accounts/throttle.py, tested on its own) would answer every later example with 429.
    settings.API_KEY_FAILURES_PER_ADDRESS = 10**9


def assert_chevereto_error(response: Any) -> None:
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body = response.json()
    assert set(body) == {"status_code", "error", "status_txt"}, body
    assert body["status_code"] == response.status_code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    code = body["error"]["code"]
    assert response.status_code in ERROR_STATUSES.get(code, set()), body
    assert isinstance(body["status_txt"], str) and body["status_txt"], body


def answered_image(response: Any, fmt: str) -> Image:
    """The upload a success names, in whichever format it was asked for."""
    if fmt == "redirect":
        assert response.status_code == 302
        return Image.objects.get(pk=decode_id(response["Location"].rstrip("/").rsplit(".", 1)[1]))
    assert response.status_code == 200
    if fmt == "txt":
        return Image.objects.get(path=response.content.decode().split("/", 3)[3])
    body = response.json()
    return Image.objects.get(
        pk=decode_id(body["data"]["id"] if "data" in body else body["image"]["id_encoded"])
    )


def assert_stored(
    response: Any, request: dict[str, Any], new: list[Image], before: set[int], media: Path
) -> None:
    fmt = str(request["params"].get("format") or "json").strip().lower()
    image = answered_image(response, fmt)
    # A new row, or (the duplicate policy) the same file this user had already stored.
    assert new == [image] or (new == [] and image.pk in before), (new, image.pk)
    assert (media / image.path).is_file()
    assert image.size == (media / image.path).stat().st_size


@given(data=st.data())
@hypothesis_settings(max_examples=EXAMPLES)
@example(data=None)  # a plain valid upload first, so every run sees at least one success
def test_every_upload_request_is_stored_or_refused_in_chevereto_shape_and_never_a_500(
    client: Client,
    user: User,
    ids: dict[str, Any],
    media_root: Path,
    settings: LazySettings,
    no_key_lockout: None,
    data: st.DataObject | None,
) -> None:
    key = api_key_create(user=user).key
    if data is None:
        png, _ = _picture("png", (20, 10))
        request = {
            "method": "POST",
            "encoding": "multipart",
            "params": {"source": SimpleUploadedFile("a.png", png)},
            "key": key,
            "place": "header",
        }
    else:
        request = data.draw(upload_requests(key=key, ids=ids), label="request")
    before = set(Image.objects.values_list("pk", flat=True))
    files_before = set(files_under(media_root))

    response = send(client, request)

    assert response.status_code < 500, response.content[:500]
    # `pytest --hypothesis-show-statistics` tells how the examples were answered.
    event(f"HTTP {response.status_code}")
    new = list(Image.objects.exclude(pk__in=before))
    if response.status_code in {200, 302}:
        assert_stored(response, request, new, before, media_root)
        if data is None:
            assert response.status_code == 200
    else:
        assert_chevereto_error(response)
        assert new == []
        assert set(files_under(media_root)) == files_before
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []
