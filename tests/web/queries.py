"""A page's query count does not grow with what it lists."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chevereto.core.models import SiteSettings


def queries_of(client: Client, url: str, *, status: int = 200) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return len(captured.captured_queries)


def assert_constant_queries(
    client: Client, url: str, *, add_more: Callable[[], None], status: int = 200
) -> int:
    """Load `url`, call `add_more()` (which adds more of what the page lists), load it
    again: both loads must run the same number of queries. Returns that number."""
    # The site settings row is re-read every few seconds: held still here, so a slow
    # `add_more` on a busy machine does not count that read against the page.
    with mock.patch.object(SiteSettings, "CACHE_SECONDS", 3600.0):
        queries_of(client, url, status=status)  # warm: site settings, session, lazy caches
        before = queries_of(client, url, status=status)
        add_more()
        after = queries_of(client, url, status=status)
    assert before == after, f"{url}: {before} queries, then {after} with more items"
    return after
