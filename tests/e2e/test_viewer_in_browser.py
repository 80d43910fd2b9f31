"""The viewer in Chromium: a stranger opens a picture and a video, likes the picture once logged
in, the owner edits the title, and the delete link removes the upload for good."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image as PILImage
from PIL import ImageDraw

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.encoding import encode_id
from tests import samples
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _photo(width: int, height: int, top: tuple, bottom: tuple) -> bytes:
    """A sky-over-sea picture: something a person can judge a page by."""
    picture = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
        )
    draw.ellipse([width * 0.62, height * 0.18, width * 0.74, height * 0.36], fill=(255, 214, 140))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=88)
    return out.getvalue()


def _upload(base: str, key: str, data: bytes, name: str, mime: str, **fields: str) -> dict:
    response = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": key},
        data=fields,
        files={"source": (name, data, mime)},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["image"]


def test_a_stranger_likes_the_owner_edits_and_the_delete_link_removes(
    live_server, browser, shoot
) -> None:
    base = live_server.url
    owner = User.objects.create_user("olivia", "olivia@example.com", "Olivia-pass-123")
    User.objects.create_user("sam", "sam@example.com", "Sam-pass-12345")
    album = Album.objects.create(owner=owner, name="Coast walks", privacy=Album.Privacy.PUBLIC)
    key = api_key_create(user=owner).key
    album_id = encode_id(album.pk)
    _upload(
        base,
        key,
        _photo(1400, 900, (40, 70, 130), (230, 160, 120)),
        "dusk.jpg",
        "image/jpeg",
        title="Dusk over the bay",
        album_id=album_id,
    )
    image = _upload(
        base,
        key,
        _photo(1600, 1000, (120, 170, 230), (20, 60, 90)),
        "harbour.jpg",
        "image/jpeg",
        title="Harbour at dawn",
        album_id=album_id,
        tags="harbour,boats,morning",
        description="Fishing boats waiting for the tide.\nTaken from the old pier.",
    )
    _upload(
        base,
        key,
        _photo(1200, 800, (200, 200, 220), (90, 110, 140)),
        "noon.jpg",
        "image/jpeg",
        title="Noon haze",
        album_id=album_id,
    )
    video = _upload(
        base,
        key,
        samples.mp4_bytes(320, 180, seconds=2.0),
        "waves.mp4",
        "video/mp4",
        title="Waves on the rocks",
    )

    # A stranger: the picture, Chevereto's og:image (the original), a link to log in to like.
    stranger = browser.new_context()
    page = stranger.new_page()
    page.goto(image["url_viewer"])
    page.wait_for_function("() => document.querySelector('.viewer .media img').naturalWidth > 0")
    assert page.locator("h1").inner_text() == "Harbour at dawn"
    assert page.locator("meta[property='og:image']").get_attribute("content") == image["url"]
    assert page.locator("a.btn-like").inner_text() == "Log in to like"
    assert page.locator(".viewer-neighbours a[rel=prev]").count() == 1
    assert page.locator(".viewer-neighbours a[rel=next]").count() == 1
    assert page.locator(".viewer-tags a").count() == 3
    shoot(page, "viewer-image")

    page.goto(video["url_viewer"])
    page.wait_for_function("() => document.querySelector('.viewer video').readyState >= 1")
    assert page.locator("video").get_attribute("poster") == video["frame"]["url"]
    shoot(page, "viewer-video")

    # Logged in, the stranger likes it: the count goes up without leaving the page.
    log_in(page, base, "sam", "Sam-pass-12345")
    page.goto(image["url_viewer"])
    assert page.locator("#like-count").inner_text() == "0"
    page.click("button.btn-like")
    page.wait_for_function("() => document.querySelector('#like-count').textContent === '1'")
    assert page.locator("button.btn-like").inner_text() == "Liked"
    page.reload()
    assert page.locator("#like-count").inner_text() == "1"
    assert page.locator("button.btn-like").get_attribute("aria-pressed") == "true"
    assert page.locator("text=Edit").count() == 0
    stranger.close()

    # The owner edits the title.
    mine = browser.new_context()
    page = mine.new_page()
    log_in(page, base, "olivia", "Olivia-pass-123")
    page.goto(image["url_viewer"])
    page.wait_for_function("() => document.querySelector('.viewer .media img').naturalWidth > 0")
    shoot(page, "viewer-owner")
    page.click(".viewer-codes summary")
    assert page.locator(".viewer-codes input[readonly]").first.is_visible()
    shoot(page, "viewer-codes")
    page.click(".viewer-owner-tools >> text=Edit")
    page.wait_for_url("**/edit")
    shoot(page, "image-edit")
    page.fill("#edit-title", "Harbour at sunrise")
    page.click("button[type=submit] >> text=Save changes")
    page.wait_for_url("**/image/harbour-at-sunrise.*")
    assert page.locator("h1").inner_text() == "Harbour at sunrise"

    # The delete link (the uploader's capability): confirm, and the upload is gone.
    page.goto(image["delete_url"])
    assert page.locator("h1").inner_text() == "Delete this upload?"
    shoot(page, "viewer-delete-link")
    page.click("button[type=submit] >> text=Delete")
    page.wait_for_selector("h1:text('Deleted')")
    gone = page.goto(image["url_viewer"])
    assert gone is not None and gone.status == 404
    mine.close()
