"""Profiles in Chromium: a user logs in, opens someone's profile, follows them (the button
and the follower count change in place, and stay so after a reload), sees their uploads and
albums and their followers, and their own liked uploads."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image as PILImage

from accounts.models import User
from accounts.services import api_key_create, user_profile_update
from albums.models import Album
from chevereto.core.encoding import encode_id
from social.services import like_add
from tests import samples
from tests.e2e.conftest import log_in
from tests.factories import make_album
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Ben-pass-12345"


def _gradient_jpeg(width: int, height: int, start: tuple, end: tuple) -> bytes:
    """A diagonal two-colour gradient: something a person can tell apart in a screenshot."""
    picture = PILImage.new("RGB", (width, height))
    pixels = picture.load()
    span = width + height
    for x in range(width):
        for y in range(height):
            t = (x + y) / span
            pixels[x, y] = tuple(int(a + (b - a) * t) for a, b in zip(start, end, strict=True))  # type: ignore[index]
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _post(base: str, path: str, key: str, data: bytes, name: str, **fields: str) -> dict:
    response = requests.post(
        f"{base}{path}",
        headers={"X-API-Key": key},
        data=fields,
        files={"source": (name, data, "image/jpeg")},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_user_follows_someone_and_browses_their_profile(live_server, page, shoot) -> None:
    base = live_server.url
    ann = User.objects.create_user("ann", "ann@example.com", "Ann-pass-12345")
    user_profile_update(
        user=ann,
        name="Ann Harbour",
        bio="Harbours at dawn, lighthouses at dusk.\nShot on film when I can.",
        website="https://ann.example.org/",
    )
    ben = User.objects.create_user("ben", "ben@example.com", PASSWORD)
    key = api_key_create(user=ann).key

    # Ann's avatar and background go through the API, as the settings page would send them.
    _post(
        base,
        "/api/4/user/ann/assets/background/",
        key,
        _gradient_jpeg(1200, 300, (32, 78, 140), (236, 160, 96)),
        "bg.jpg",
    )
    _post(
        base,
        "/api/4/user/ann/assets/avatar/",
        key,
        _gradient_jpeg(256, 256, (250, 210, 120), (200, 60, 90)),
        "me.jpg",
    )
    trip = make_album(owner=ann, name="Lighthouses")
    make_album(owner=ann, name="Drafts", privacy=Album.Privacy.PRIVATE)
    colours = [(40, 110, 170), (200, 120, 40), (60, 150, 90), (150, 60, 140), (90, 90, 100)]
    titles = ["Harbour", "Pier", "Lighthouse", "Boats", "Fog"]
    for n, (title, colour) in enumerate(zip(titles, colours, strict=True)):
        fields = {"title": title}
        if n < 2:
            fields["album_id"] = encode_id(trip.pk)
        if title == "Fog":
            fields["nsfw"] = "1"
        _post(
            base,
            "/api/1/upload",
            key,
            samples.jpeg_bytes(900, 600, color=colour),
            "p.jpg",
            **fields,
        )
    for image in Image.objects.filter(title__in=["Pier", "Boats"]):
        like_add(user=ben, image=image)

    log_in(page, base, "ben", PASSWORD)
    page.goto(f"{base}/ann")
    assert page.locator("h1#profile-name").inner_text() == "Ann Harbour"
    assert page.locator(".profile-banner img").evaluate("img => img.naturalWidth") > 0
    assert page.locator("img.profile-avatar").evaluate("img => img.naturalWidth") > 0
    assert page.locator(".list-item-image").count() == 5
    # Ben has not asked to see NSFW uploads unblurred.
    assert page.locator(".list-item-image .image-container.blurred").count() == 1
    page.wait_for_function(
        "() => [...document.querySelectorAll('.list-item-image img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )

    # Follow: the page stays (no navigation), the button and the count change in place.
    button = page.locator(".follow-form button[type=submit]")
    assert button.inner_text() == "Follow"
    assert page.locator("#followers-count").inner_text() == "0"
    page.evaluate("window.__stayed = true")
    button.click()
    page.wait_for_function("() => document.querySelector('#followers-count').textContent === '1'")
    assert button.inner_text() == "Following"
    assert button.get_attribute("aria-pressed") == "true"
    assert page.evaluate("window.__stayed === true")
    shoot(page, "profile")

    page.reload()
    assert page.locator(".follow-form button[type=submit]").inner_text() == "Following"
    assert page.locator("#followers-count").inner_text() == "1"

    # Albums: the public one only (the private one is Ann's alone).
    page.click(".tabs a:text-is('Albums')")
    page.wait_for_url(f"{base}/ann/albums")
    names = page.locator(".list-item-album .list-item-title").all_inner_texts()
    assert names == ["Lighthouses"]
    shoot(page, "profile-albums")

    # Followers: Ben is there now.
    page.click(".tabs a:text-is('Followers')")
    page.wait_for_url(f"{base}/ann/followers")
    assert page.locator(".list-item-user a").evaluate_all(
        "links => links.map(a => a.pathname)"
    ) == ["/ben"]
    shoot(page, "profile-followers")

    # Ben's own liked uploads, from his profile; on his own profile there is no follow button.
    page.goto(f"{base}/ben/liked")
    liked = page.locator(".list-item-image .list-item-title").all_inner_texts()
    assert sorted(liked) == ["Boats", "Pier"]
    assert page.locator(".follow-form").count() == 0
    assert page.locator(".profile-actions a[href='/settings']").count() == 1
    shoot(page, "profile-liked")

    # And unfollow again, in place.
    page.goto(f"{base}/ann")
    page.locator(".follow-form button[type=submit]").click()
    page.wait_for_function("() => document.querySelector('#followers-count').textContent === '0'")
    assert page.locator(".follow-form button[type=submit]").inner_text() == "Follow"

    # A guest is asked to log in to follow, and comes back to the profile after.
    guest = page.context.browser.new_context()
    visitor = guest.new_page()
    visitor.goto(f"{base}/ANN")
    assert visitor.url == f"{base}/ann"
    visitor.click("text=Log in to follow")
    visitor.wait_for_url(f"{base}/login?next=/ann")
    guest.close()
