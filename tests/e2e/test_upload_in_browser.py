"""A guest and a logged-in user upload in Chromium: by the file chooser, by drag-and-drop and
by URL; every progress bar reaches its end, the links appear, the viewer link opens the
viewer and the direct link serves the file."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import requests

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.models import SiteSettings
from tests import samples

pytestmark = pytest.mark.django_db(transaction=True)

# Builds a DataTransfer from base64 files and drops it on the widget, as a user's drag does.
DROP = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
    transfer.items.add(new File([bytes], f.name, {type: f.type}));
  }
  const target = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    const init = {bubbles: true, cancelable: true, dataTransfer: transfer};
    target.dispatchEvent(new DragEvent(type, init));
  }
}"""


@pytest.fixture
def site(settings) -> SiteSettings:  # type: ignore[no-untyped-def]
    # The URL source is a file of this very live server (127.0.0.1), which the fetcher
    # refuses by design unless the tests allow loopback, as the URL-fetch tests do.
    settings.UPLOAD_URL_ALLOW_LOOPBACK = True
    site = SiteSettings.load()
    site.url_uploads = SiteSettings.UrlUploads.EVERYONE
    site.guest_uploads = True
    site.save()
    return site


def _file_on_the_site(base: str) -> str:
    """The direct URL of an upload made through API V1: a picture the site itself serves."""
    owner = User.objects.create_user("uma", "uma@example.com", "Uma-pass-123")
    response = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": api_key_create(user=owner).key},
        files={"source": ("lagoon.png", samples.png_bytes(300, 200, mode="RGB"), "image/png")},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["image"]["url"]


def _upload_three_ways(page, base: str, url_source: str) -> None:  # type: ignore[no-untyped-def]
    page.set_input_files(
        "#upload-file",
        files=[
            {"name": "chosen.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg_bytes(900, 600)}
        ],
    )
    dropped = samples.png_bytes(400, 300, mode="RGB")
    page.evaluate(
        DROP,
        [
            "[data-drop]",
            [
                {
                    "name": "dropped.png",
                    "type": "image/png",
                    "data": base64.b64encode(dropped).decode(),
                }
            ],
        ],
    )
    assert page.locator(".upload-item").count() == 2
    assert page.locator(".upload-item-thumb img").count() == 2  # previews before upload
    page.fill("#upload-urls", url_source)
    page.click("[data-start]")
    page.wait_for_function(
        "() => document.querySelectorAll('.upload-item').length === 3 && "
        "[...document.querySelectorAll('.upload-item')].every(i => i.dataset.state === 'done')",
        timeout=30_000,
    )


def _check_results(page, browser) -> list[str]:  # type: ignore[no-untyped-def]
    """Every bar full, every file with its links; the links work. Returns the viewer links."""
    bars = page.locator(".upload-item progress")
    assert bars.count() == 3
    for n in range(3):
        bar = bars.nth(n)
        assert bar.evaluate("b => b.value === b.max && b.max === 100")
    viewers = [
        page.locator(".upload-item").nth(n).locator("input[data-code='Viewer link']").input_value()
        for n in range(3)
    ]
    directs = [
        page.locator(".upload-item").nth(n).locator("input[data-code='Direct link']").input_value()
        for n in range(3)
    ]
    assert page.locator("input[data-code='Delete link']").count() == 3
    assert page.locator("input[data-code='BBCode full linked']").count() == 3
    # "Copy all" gathers one kind of code of every file, one per line.
    page.select_option("[data-all-kind]", "Direct link")
    assert page.input_value("[data-all-text]").split("\n") == directs

    stranger = browser.new_context()
    other = stranger.new_page()
    for viewer, direct in zip(viewers, directs, strict=True):
        answer = other.goto(viewer)
        assert answer is not None and answer.status == 200
        assert other.locator('meta[property="og:image"]').count() == 1
        served = other.request.get(direct)
        assert served.status == 200 and served.headers["content-type"].startswith("image/")
    stranger.close()
    return viewers


def test_a_guest_uploads_by_chooser_drop_and_url(
    live_server, page, site: SiteSettings, shoot: Callable[[object, str], None]
) -> None:
    base = live_server.url
    url_source = _file_on_the_site(base)
    page.goto(f"{base}/upload")
    assert "Up to" in page.locator(".upload-limits").inner_text()
    shoot(page, "upload-empty")

    _upload_three_ways(page, base, url_source)
    _check_results(page, page.context.browser)
    shoot(page, "upload-done")

    # The home page now lists the three (they are public), below the widget.
    page.goto(f"{base}/")
    assert page.locator(".list-item-image").count() == 4
    shoot(page, "home")

    # Guest uploads turned off: no widget, a call to log in instead; the listing stays.
    site.guest_uploads = False
    site.save()
    page.goto(f"{base}/")
    assert page.locator("[data-upload]").count() == 0
    assert page.locator(".list-item-image").count() == 4
    shoot(page, "home-guest-uploads-off")


def test_a_user_uploads_into_a_new_album_by_chooser_drop_and_url(
    live_server, page, site: SiteSettings, shoot: Callable[[object, str], None]
) -> None:
    base = live_server.url
    url_source = _file_on_the_site(base)
    User.objects.create_user("vera", "vera@example.com", "Vera-pass-123")
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "vera")
    page.fill("input[name=password]", "Vera-pass-123")
    page.click("main button[type=submit]")
    page.goto(f"{base}/")
    assert page.locator("[data-upload]").count() == 1

    page.click(".upload-options summary")
    page.click("[data-album-toggle]")
    page.fill("#upload-album-name", "Coast")
    page.click("[data-album-create]")
    page.wait_for_function(
        "() => document.querySelector('#upload-album').selectedOptions[0].text === 'Coast'"
    )
    page.fill("#upload-tags", "sea, rocks")
    shoot(page, "upload-options")

    _upload_three_ways(page, base, url_source)
    _check_results(page, page.context.browser)
    album = Album.objects.get(name="Coast")
    assert album.owner.username == "vera"
    assert album.images.count() == 3


PASTE = """([name, data]) => {
  const transfer = new DataTransfer();
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  transfer.items.add(new File([bytes], name, {type: "image/png"}));
  const init = {bubbles: true, clipboardData: transfer};
  document.body.dispatchEvent(new ClipboardEvent("paste", init));
}"""


def test_a_refused_file_says_why_and_a_pasted_image_uploads(
    live_server, page, site: SiteSettings
) -> None:
    page.goto(f"{live_server.url}/upload")
    page.set_input_files(
        "#upload-file",
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"just some text"}],
    )
    pasted = base64.b64encode(samples.png_bytes(120, 90, mode="RGB")).decode()
    page.evaluate(PASTE, ["clipboard.png", pasted])
    assert page.locator(".upload-item").count() == 2
    page.click("[data-start]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.upload-item')].every("
        "i => i.dataset.state === 'done' || i.dataset.state === 'failed')",
        timeout=30_000,
    )
    refused, accepted = page.locator(".upload-item").nth(0), page.locator(".upload-item").nth(1)
    assert refused.get_attribute("data-state") == "failed"
    assert refused.locator("[data-error]").inner_text().strip()
    assert refused.locator("[data-retry]").is_visible()
    assert accepted.get_attribute("data-state") == "done"
    assert accepted.locator("input[data-code='Viewer link']").count() == 1
    refused.locator("[data-remove]").click()
    assert page.locator(".upload-item").count() == 1


def test_without_javascript_the_form_uploads_one_file_and_shows_its_links(
    live_server, browser, site: SiteSettings, shoot: Callable[[object, str], None]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/upload")
    page.set_input_files(
        "#upload-file",
        files=[{"name": "plain.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg_bytes()}],
    )
    page.click(".upload-options summary")
    page.fill("#upload-title", "Plain upload")
    page.click("[data-start]")
    assert page.locator("h1").inner_text() == "Upload complete"
    viewer = page.locator(".upload-code input").first.input_value()
    shoot(page, "upload-nojs-done")
    assert page.goto(viewer).status == 200
    assert page.title().startswith("Plain upload")
    context.close()
