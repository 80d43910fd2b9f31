"""A person signs up, makes an API key, uploads with it and sees the upload, in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from django.core import mail

from tests import samples
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visitor_signs_up_makes_a_key_and_sees_an_upload_made_with_it(live_server, page) -> None:
    base = live_server.url
    page.goto(f"{base}/signup")
    page.fill("input[name=username]", "dora")
    page.fill("input[name=email]", "dora@example.com")
    page.fill("input[name=password1]", "Explorer-pass-9")
    page.fill("input[name=password2]", "Explorer-pass-9")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=signup-sent]")
    link = re.search(r"https?://\S+/signup/confirm/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.locator(".whoami").inner_text() == "dora"

    page.goto(f"{base}/settings/api")
    page.click("button[value=create]")
    key = page.input_value("#api-key-value")
    assert re.fullmatch(r"chv_[A-Za-z0-9]+_[0-9a-f]{64}", key)

    photo = samples.jpeg_bytes(900, 600)
    response = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": key},
        files={"source": ("trip.jpg", photo, "image/jpeg")},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    image = response.json()["image"]
    assert Image.objects.get().user.username == "dora"

    page.goto(image["url_viewer"])
    assert page.title().startswith("trip")
    shown = page.locator(".viewer .media img")
    shown.wait_for()
    page.wait_for_function("() => document.querySelector('.viewer .media img').naturalWidth > 0")
    assert page.evaluate("document.querySelector('.viewer .media img').naturalWidth") == 500
    og = page.locator("meta[property='og:image']").get_attribute("content")
    assert og == image["url"]  # Chevereto's og:image: the original file (DESIGN.md section 8)

    page.goto(f"{base}/")
    tile = page.locator(".list-item-image img").first
    tile.wait_for()
    page.wait_for_function("() => document.querySelector('.list-item-image img').naturalWidth > 0")
    assert page.evaluate("document.querySelector('.list-item-image img').naturalWidth") == 320

    page.goto(f"{base}/settings/api")
    assert key not in page.content()
    with page.expect_download() as download:
        page.click("form.sharex button")
    config = json.loads(Path(download.value.path()).read_text())
    assert (
        config["Headers"]["X-API-Key"].startswith("chv_") and config["Headers"]["X-API-Key"] != key
    )
    refused = requests.post(
        f"{base}/api/1/upload",
        headers={"X-API-Key": key},
        files={"source": ("again.jpg", samples.jpeg_bytes(90, 60), "image/jpeg")},
        timeout=30,
    )
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 100


def test_an_admin_logs_in_and_reaches_the_dashboard(live_server, page, admin_user) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "pw-Root-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/")
    assert "Site administration" in page.content()
    page.click("text=Site settings")
    assert page.locator("input[name=site_name]").input_value() == "Chevereto"
