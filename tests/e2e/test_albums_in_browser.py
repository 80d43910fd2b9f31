"""An owner makes an album in Chromium, uploads into it, and strangers (other browser
contexts) open it at each privacy level: public shown, link-only shown by its link but not
on the owner's profile, private a 404, password refused when wrong and shown when right."""

from __future__ import annotations

import pytest
import requests

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.encoding import encode_id
from tests import samples
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

OWNER, OWNER_PASSWORD = "olga", "Olga-pass-123"
COLORS = [(214, 69, 65), (38, 166, 91), (52, 152, 219), (243, 156, 18), (142, 68, 173)]


def _upload(
    base: str, key: str, album: Album | None, title: str, color: tuple[int, int, int]
) -> None:
    response = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": key},
        data={"title": title, **({"album_id": encode_id(album.pk)} if album else {})},
        files={"source": (f"{title}.jpg", samples.jpeg_bytes(900, 600, color=color), "image/jpeg")},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _create_album(page, base: str, name: str, parent: Album | None = None) -> Album:  # type: ignore[no-untyped-def]
    query = f"?parent={encode_id(parent.pk)}" if parent else ""
    page.goto(f"{base}/albums/new{query}")
    page.fill("#album-name", name)
    page.fill("#album-description", f"{name}: boats, piers and the light at dawn.")
    page.click("form.album-form button[type=submit]")
    page.wait_for_selector("h1")
    album = Album.objects.get(name=name)
    assert page.url == f"{base}/album/{name.lower()}.{encode_id(album.pk)}"
    return album


def _set_privacy(page, base: str, album: Album, privacy: str, password: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/album/{encode_id(album.pk)}/edit")
    page.check(f"input[name=privacy][value={privacy}]")
    if password:
        # albums.js shows the password field only once "Password protected" is chosen.
        page.locator("#album-password").wait_for(state="visible")
        page.fill("#album-password", password)
    page.click("form.album-form button[type=submit]")
    page.wait_for_url(f"{base}/album/**")
    assert Album.objects.get(pk=album.pk).privacy == privacy


def _thumbs_loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "() => [...document.querySelectorAll('.list-item img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


def test_an_album_made_in_the_browser_shows_to_strangers_by_its_privacy(
    live_server, browser, page, shoot
) -> None:
    base = live_server.url
    owner = User.objects.create_user(OWNER, "olga@example.com", OWNER_PASSWORD)
    key = api_key_create(user=owner).key
    log_in(page, base, OWNER, OWNER_PASSWORD)

    album = _create_album(page, base, "Harbours")
    for i, title in enumerate(["Dawn", "Pier", "Gulls"]):
        _upload(base, key, album, title, COLORS[i])
    sub = _create_album(page, base, "Lighthouses", parent=album)
    _upload(base, key, sub, "Beacon", COLORS[4])
    page.goto(f"{base}/album/{encode_id(sub.pk)}/edit")
    page.locator(".cover-choice").nth(1).click()
    page.click("form.album-form button[type=submit]")
    page.wait_for_url(f"{base}/album/lighthouses.*")

    # The owner picks a cover on the edit page (a grid of radio thumbnails).
    page.goto(f"{base}/album/{encode_id(album.pk)}/edit")
    page.locator(".cover-choice").nth(2).click()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar, in a full-page shot
    shoot(page, "album-edit")
    page.click("form.album-form button[type=submit]")
    page.wait_for_url(f"{base}/album/harbours.*")
    assert Album.objects.get(pk=album.pk).cover_id is not None
    assert page.locator("[data-text=image-count]").inner_text() == "3"

    # An upload made outside the album joins it from "Add uploads".
    _upload(base, key, None, "Nets", COLORS[3])
    page.goto(f"{base}/album/{encode_id(album.pk)}/add")
    page.locator(".pick-item").first.click()
    _thumbs_loaded(page)
    shoot(page, "album-add")
    page.click(".add-bar button[type=submit]")
    page.wait_for_url(f"{base}/album/harbours.*")
    assert page.locator("[data-text=image-count]").inner_text() == "4"
    _thumbs_loaded(page)
    shoot(page, "album-owner")

    stranger = browser.new_context()
    visitor = stranger.new_page()
    url = f"{base}/album/harbours.{encode_id(album.pk)}"

    # Public: shown, with Chevereto's markup, and listed on the owner's profile.
    answer = visitor.goto(url)
    assert answer is not None and answer.status == 200
    assert visitor.locator("h1").inner_text() == "Harbours"
    assert visitor.locator(".list-item-image > a .image-container").count() == 4
    assert visitor.locator("[data-text=image-count]").inner_text() == "4"
    _thumbs_loaded(visitor)
    shoot(visitor, "album")
    visitor.goto(f"{base}/album/{encode_id(album.pk)}/sub")
    assert "Lighthouses" in visitor.locator(".list-albums").inner_text()
    assert visitor.locator(".list-item-album img").count() == 1
    _thumbs_loaded(visitor)
    shoot(visitor, "album-sub")
    visitor.goto(f"{base}/{OWNER}/albums")
    assert "Harbours" in visitor.content()

    # Link-only: reachable by its link, no longer on the profile's album list.
    _set_privacy(page, base, album, "private_but_link")
    answer = visitor.goto(url)
    assert answer is not None and answer.status == 200
    assert visitor.locator(".list-item-image").count() == 4
    _thumbs_loaded(visitor)
    visitor.goto(f"{base}/{OWNER}/albums")
    assert "Harbours" not in visitor.content()

    # Private: a 404, like an album that does not exist.
    _set_privacy(page, base, album, "private")
    answer = visitor.goto(url)
    assert answer is not None and answer.status == 404
    assert "Harbours" not in visitor.content()

    # Password: the gate; a wrong password refused, the right one shows the album.
    _set_privacy(page, base, album, "password", password="open sesame")
    answer = visitor.goto(url)
    assert answer is not None and answer.status == 200
    assert visitor.locator("h1").inner_text() == "Password required"
    assert "Harbours" not in visitor.content()
    shoot(visitor, "album-password")
    visitor.fill("#content-password", "wrong guess")
    visitor.click(".password-gate button[type=submit]")
    assert visitor.locator(".password-gate [role=alert]").inner_text() == "Invalid password"
    assert visitor.locator("h1").inner_text() == "Password required"
    visitor.fill("#content-password", "open sesame")
    visitor.click(".password-gate button[type=submit]")
    visitor.wait_for_selector(".album-head h1")
    assert visitor.locator("h1").inner_text() == "Harbours"
    assert visitor.locator(".list-item-image").count() == 4
    _thumbs_loaded(visitor)
    stranger.close()

    # Someone else, without the password, still meets the gate.
    other = browser.new_context()
    fresh = other.new_page()
    fresh.goto(url)
    assert fresh.locator("h1").inner_text() == "Password required"
    other.close()

    # The owner deletes the sub-album and keeps its upload.
    page.goto(f"{base}/album/{encode_id(sub.pk)}/delete")
    shoot(page, "album-delete")
    page.click("form.album-delete button[type=submit]")
    page.wait_for_url(f"{base}/album/harbours.*")
    assert not Album.objects.filter(pk=sub.pk).exists()
    assert owner.images.filter(title="Beacon", album__isnull=True).exists()
