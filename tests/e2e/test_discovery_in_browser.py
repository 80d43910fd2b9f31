"""Discovery in Chromium: explore with its tabs and next page, a search typed into the header
box, a result opened in the viewer, a tag page and a category page."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from accounts.models import User
from accounts.services import api_key_create
from tests import samples
from uploads.models import Category, Image, Tag
from web import discovery

pytestmark = pytest.mark.django_db(transaction=True)

COLOURS = [(31, 95, 204), (204, 120, 31), (40, 160, 90), (170, 40, 120), (90, 90, 110)]


def _upload(base: str, key: str, title: str, content: bytes, name: str, mime: str) -> dict:
    response = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": key},
        data={"title": title},
        files={"source": (name, content, mime)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["image"]


def _titles(page) -> list[str]:
    return page.locator(".list-item-image .list-item-title").all_inner_texts()


def test_a_visitor_explores_pages_through_and_searches(
    live_server, page, shoot, monkeypatch
) -> None:
    monkeypatch.setattr(discovery, "PER_PAGE", 4)
    owner = User.objects.create_user("lena", "lena@example.com", "Lena-pass-123", name="Lena")
    key = api_key_create(user=owner).key
    base = live_server.url
    for n, colour in enumerate(COLOURS):
        _upload(
            base,
            key,
            f"Lighthouse {n}",
            samples.jpeg_bytes(900, 600, color=colour),
            f"lighthouse-{n}.jpg",
            "image/jpeg",
        )
    _upload(
        base, key, "Blinking beacon", samples.gif_bytes(300, 200, frames=3), "b.gif", "image/gif"
    )
    _upload(base, key, "Harbour wall", samples.jpeg_bytes(900, 600), "wall.jpg", "image/jpeg")

    # What an editor would set on the viewer's edit page: a category, tags, an NSFW flag.
    coast = Category.objects.create(name="Coast", slug="coast", description="Sea and shore")
    golden = Tag.objects.create(name="golden hour")
    beacon = Tag.objects.create(name="灯台")
    for image in Image.objects.filter(title__startswith="Lighthouse"):
        image.category = coast
        image.save(update_fields=["category"])
        image.tags.add(golden, beacon)
    Image.objects.filter(title="Harbour wall").update(nsfw=True, likes=3)

    page.goto(f"{base}/explore")
    assert page.locator("h1").inner_text().startswith("Explore")
    first = _titles(page)
    assert first == ["Harbour wall", "Blinking beacon", "Lighthouse 4", "Lighthouse 3"]
    # A guest sees the NSFW upload blurred.
    assert page.locator(".list-item-image .image-container.blurred").count() == 1
    page.wait_for_function(
        "() => [...document.querySelectorAll('.list-item-image img')]"
        ".every(i => i.naturalWidth > 0)"
    )
    shoot(page, "explore")

    # The next page link (Chevereto's) gives the rest, without repeats.
    page.click("a[data-pagination=next]")
    page.wait_for_url("**seek=**")
    rest = _titles(page)
    assert rest == ["Lighthouse 2", "Lighthouse 1", "Lighthouse 0"]
    assert page.locator("a[data-pagination=next]").count() == 0

    # Tabs: a section, then a media type within it.
    page.click(".tabs >> text=Popular")
    page.wait_for_url("**/explore/popular")
    assert _titles(page)[0] == "Harbour wall"
    page.click(".chips >> text=Animated")
    page.wait_for_url("**/explore/popular?type=animated")
    assert _titles(page) == ["Blinking beacon"]
    assert page.locator(".tabs a[aria-current=page]").inner_text() == "Popular"

    # A search typed into the header box, Enter to send.
    page.fill("#top-search-q", "lighthouse")
    page.press("#top-search-q", "Enter")
    page.wait_for_url("**/search?q=lighthouse")
    assert page.locator("h1").inner_text() == "Results for “lighthouse”"
    assert page.input_value("#top-search-q") == "lighthouse"
    assert _titles(page) == ["Lighthouse 4", "Lighthouse 3", "Lighthouse 2", "Lighthouse 1"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('.list-item-image img')]"
        ".every(i => i.naturalWidth > 0)"
    )
    shoot(page, "search")

    page.click(".search-form-row >> text=Search")  # the page's own form searches again
    page.wait_for_url("**/search?q=lighthouse&type=images")
    page.click(".tabs >> text=People")
    assert page.locator(".list-item-user").count() == 0
    page.fill("#search-q", "lena")
    page.press("#search-q", "Enter")
    page.wait_for_url("**/search?q=lena&type=users")
    assert page.locator(".list-item-user").inner_text().find("@lena") >= 0

    # An empty search asks for words; a query no form sends is refused with the form again.
    page.goto(f"{base}/search")
    assert "Type a few words" in page.locator(".search-hint").inner_text()
    shoot(page, "search-empty")
    refused = page.goto(f"{base}/search?q={'x' * 101}")
    assert refused is not None and refused.status == 400
    assert page.locator(".search-error").is_visible()

    # A result opens the viewer.
    page.goto(f"{base}/search?q=lighthouse")
    page.click(".list-item-image >> nth=0 >> a")
    page.wait_for_url("**/image/**")
    assert page.title().startswith("Lighthouse 4")

    page.goto(f"{base}/tag/{quote('灯台')}")
    assert page.locator("h1").inner_text() == "#灯台"
    assert len(_titles(page)) == 4
    # The screenshot shows a Latin tag: the headless Chromium here has no CJK font.
    page.goto(f"{base}/tag/golden hour")
    assert page.locator("h1").inner_text() == "#golden hour"
    assert page.title().startswith("#golden hour")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.list-item-image img')]"
        ".every(i => i.naturalWidth > 0)"
    )
    shoot(page, "tag")

    page.goto(f"{base}/explore")
    page.click(".discovery-categories >> text=Coast")
    page.wait_for_url("**/category/coast")
    assert page.locator("h1").inner_text() == "Coast"
    assert "Sea and shore" in page.content()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.list-item-image img')]"
        ".every(i => i.naturalWidth > 0)"
    )
    shoot(page, "category")
