from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


class _AssetCollector(HTMLParser):
    """The URLs of every script, stylesheet and icon a page makes the browser fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"] or "")
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"] or "")


def test_the_docs_page_is_swagger_ui(client: Client) -> None:
    response = client.get("/api/4/docs/")
    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()


def test_every_asset_of_the_docs_page_is_served_by_the_site_itself(client: Client) -> None:
    page = client.get("/api/4/docs/").content.decode()
    collector = _AssetCollector()
    collector.feed(page)
    assert any("swagger-ui" in url for url in collector.urls)
    for url in collector.urls:
        parts = urlsplit(url)
        # A scheme or host would mean a CDN: the page would not work offline.
        assert not parts.scheme and not parts.netloc, url
        assert client.get(url).status_code == 200, url


def test_the_docs_page_reads_the_sites_own_schema_and_no_online_validator(
    client: Client,
) -> None:
    # The start-up script is served from the docs URL itself (no inline script: CSP).
    page = client.get("/api/4/docs/?script=").content.decode()
    assert '"/api/4/schema/"' in page
    # Swagger UI's default validator badge is an image from validator.swagger.io.
    assert '"validatorUrl": null' in page
