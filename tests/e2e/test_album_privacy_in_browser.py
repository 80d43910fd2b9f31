"""Strangers meet an upload in a password album in Chromium: the gate, a wrong password, the
right one; an upload awaiting moderation stays hidden, files included, from strangers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from albums.services import album_set_password
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests import samples

pytestmark = pytest.mark.django_db(transaction=True)


def _screenshot(page, tmp_path: Path, name: str) -> None:
    # Kept with the test's temporary files; E2E_SCREENSHOTS collects them for a person to see.
    folder = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _upload(base: str, key: str, **fields: str) -> dict:
    response = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": key},
        data=fields,
        files={"source": ("harbour.jpg", samples.jpeg_bytes(900, 600), "image/jpeg")},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["image"]


def test_a_stranger_needs_the_album_password_to_see_its_upload(
    live_server, browser, tmp_path: Path
) -> None:
    owner = User.objects.create_user("olga", "olga@example.com", "Olga-pass-123")
    album = Album.objects.create(owner=owner, name="Family", privacy=Album.Privacy.PASSWORD)
    album_set_password(album=album, password="open sesame")
    key = api_key_create(user=owner).key
    image = _upload(live_server.url, key, album_id=encode_id(album.pk), title="Harbour")

    stranger = browser.new_context()
    page = stranger.new_page()
    page.goto(image["url_viewer"])
    assert page.locator("h1").inner_text() == "Password required"
    assert page.locator("img[src*='harbour'], .viewer .media img").count() == 0
    _screenshot(page, tmp_path, "album-password-gate.png")

    page.fill("#content-password", "wrong guess")
    page.click("button[type=submit]")
    assert "Invalid password" in page.content()
    assert page.locator("h1").inner_text() == "Password required"

    page.fill("#content-password", "open sesame")
    page.click("button[type=submit]")
    shown = page.locator(".viewer .media img")
    shown.wait_for()
    page.wait_for_function("() => document.querySelector('.viewer .media img').naturalWidth > 0")
    assert page.title().startswith("Harbour")
    _screenshot(page, tmp_path, "album-password-unlocked.png")
    stranger.close()

    # Another stranger, without the password, still meets the gate.
    other = browser.new_context()
    fresh = other.new_page()
    fresh.goto(image["url_viewer"])
    assert fresh.locator("h1").inner_text() == "Password required"
    other.close()


def test_an_upload_awaiting_moderation_is_hidden_from_strangers_files_included(
    live_server, browser, tmp_path: Path
) -> None:
    site = SiteSettings.load()
    site.moderation = SiteSettings.Moderation.ALL
    site.save()
    owner = User.objects.create_user("mia", "mia@example.com", "Mia-pass-1234")
    key = api_key_create(user=owner).key
    image = _upload(live_server.url, key, title="Pending")

    stranger = browser.new_context()
    page = stranger.new_page()
    viewer = page.goto(image["url_viewer"])
    assert viewer is not None and viewer.status == 404
    original = page.goto(image["url"])
    assert original is not None and original.status == 404
    _screenshot(page, tmp_path, "moderated-file-404.png")
    stranger.close()

    mine = browser.new_context()
    page = mine.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", "Mia-pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    served = page.goto(image["url"])
    assert served is not None and served.status == 200
    assert served.headers["cache-control"] == "private, no-store"
    mine.close()
