"""Every file of the hostile corpus, sent through the real upload endpoint.

Each one either uploads and its derivatives really exist and decode, or is answered with a
4xx in Chevereto's error shape; never a 500, a leaked temporary file, an orphan row or file.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client
from PIL import Image as PILImage
from PIL import ImageChops, ImageOps, ImageStat

from tests.conftest import files_under
from tests.hostile_corpus import CORPUS, Case
from uploads.expiry import storage_reconcile
from uploads.models import Image

pytestmark = pytest.mark.django_db


def _body(response: object) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content  # type: ignore[attr-defined]


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def assert_served_as_its_real_type(client: Client, url: str, mime: str) -> bytes:
    """The file answers with its own type, never one a browser would run as a page."""
    response = client.get(_path(url))
    assert response.status_code == 200, url
    assert response["Content-Type"].split(";")[0] == mime
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "html" not in response["Content-Type"] and "javascript" not in response["Content-Type"]
    return _body(response)


def assert_a_valid_picture(data: bytes) -> PILImage.Image:
    picture = PILImage.open(io.BytesIO(data))
    picture.load()  # every pixel decodes
    assert picture.width > 0 and picture.height > 0
    return picture


def assert_accepted_with_working_derivatives(
    client: Client, case: Case, answer: dict, media_root: Path
) -> None:
    image = Image.objects.get()
    if case.display is not None:
        assert (int(answer["width"]), int(answer["height"])) == case.display
        assert (image.width, image.height) == case.display
    wanted = Image.CHAIN_IMAGE | Image.CHAIN_THUMB
    if image.is_video:
        wanted |= Image.CHAIN_FRAME
    if image.medium_width:
        wanted |= Image.CHAIN_MEDIUM
    # The task (run in-process here) made every promised derivative; none was left to
    # the on-demand fallback.
    assert image.chain == wanted, f"chain {image.chain}, wanted {wanted}"
    assert_served_as_its_real_type(client, answer["url"], image.mime)
    thumb = assert_a_valid_picture(
        assert_served_as_its_real_type(client, answer["thumb"]["url"], answer["thumb"]["mime"])
    )
    assert thumb.size == (image.thumb_width, image.thumb_height)
    if image.medium_width:
        medium = assert_a_valid_picture(
            assert_served_as_its_real_type(
                client, answer["medium"]["url"], answer["medium"]["mime"]
            )
        )
        assert medium.size == (image.medium_width, image.medium_height)
        if case.orientation != 1:
            assert_turned_upright(case, medium)
    if image.is_video:
        frame = assert_a_valid_picture(
            assert_served_as_its_real_type(client, answer["url_frame"], "image/jpeg")
        )
        assert frame.size == (image.width, image.height)


def assert_turned_upright(case: Case, medium: PILImage.Image) -> None:
    """The medium shows what a browser shows: the original turned by its EXIF tag."""
    upright = ImageOps.exif_transpose(PILImage.open(io.BytesIO(case.data()))).convert("RGB")
    assert upright.size == case.display
    expected = upright.resize(medium.size)
    difference = ImageStat.Stat(ImageChops.difference(expected, medium.convert("RGB"))).mean
    assert max(difference) < 12, f"medium differs from the upright original by {difference}"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_hostile_file_uploads_with_working_derivatives_or_gets_a_clear_4xx(
    name: str,
    client: Client,
    api_key: str,
    media_root: Path,
    settings: LazySettings,
    django_capture_on_commit_callbacks: object,
) -> None:
    case = CORPUS[name]
    temp = Path(settings.FILE_UPLOAD_TEMP_DIR)
    before = sorted(temp.iterdir())
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(
            "/api/1/upload",
            {"source": io.BytesIO(case.data())},
            HTTP_X_API_KEY=api_key,
        )
    assert sorted(temp.iterdir()) == before, "a temporary file was left behind"
    body = response.json()
    if response.status_code == 200:
        assert case.expect != "refused", f"{name} should have been refused"
        assert_accepted_with_working_derivatives(client, case, body["image"], media_root)
    else:
        assert case.expect != "ok", f"{name} refused: {body}"
        assert 400 <= response.status_code < 500, body
        assert body["status_code"] == response.status_code
        assert body["error"]["message"] and body["error"]["code"]
        assert isinstance(body["status_txt"], str)
        assert "/" not in body["error"]["message"], "a server path reached the client"
        assert not Image.objects.exists()
        assert files_under(media_root) == []
    report = storage_reconcile(grace=timedelta(0))
    assert report.orphan_files == [] and report.missing_files == []
    assert sorted(temp.iterdir()) == before, "serving or rendering left a temporary file"


def test_the_corpus_holds_every_kind_the_hardening_asks_for() -> None:
    names = set(CORPUS)
    for fmt in ("jpeg", "png", "gif", "webp", "avif", "heic", "mp4", "webm"):
        assert f"truncated-{fmt}" in names and f"bitflip1-{fmt}" in names
    for fmt in ("jpeg", "png", "gif", "webp", "avif", "heic"):
        assert any(n.endswith(fmt) and n.startswith(("bomb-", "huge-")) for n in names), fmt
    assert {f"jpeg-orientation-{n}" for n in range(1, 9)} <= names
    assert {"polyglot-jpeg-html", "polyglot-png-zip", "polyglot-gif-js"} <= names
