from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.test import testcases

# Playwright's sync API runs an event loop in the test thread; the live server and the
# database are in other threads, so Django's async-safety guard does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Django's live server answers MEDIA_URL itself, straight from MEDIA_ROOT. Ours is "/", and
# files must go through the site's own serving (visibility, cache headers, on-demand
# derivatives) as they do under gunicorn: the browser tests see exactly what users see.
testcases._MediaFilesHandler = lambda application: application  # type: ignore[assignment,misc]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: run the suite with 'make test'")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()
