from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

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


# Where the run keeps its screenshots for a person to look at (not committed: var/ is the
# program's run-time folder). E2E_SCREENSHOTS moves them.
SCREENSHOTS = Path(
    os.environ.get("E2E_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shoot() -> Callable[[object, str], None]:
    """`shoot(page, "viewer")` saves viewer-desktop.png and viewer-phone.png (full pages)."""

    def _shoot(page: object, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        before = page.viewport_size  # type: ignore[attr-defined]
        # From the top: a full-page shot of a scrolled page draws the sticky bar mid-page.
        page.evaluate("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)  # type: ignore[attr-defined]
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)  # type: ignore[attr-defined]
        if before:
            page.set_viewport_size(before)  # type: ignore[attr-defined]

    return _shoot


def log_in(page: object, base: str, username: str, password: str) -> None:
    """Log in through the /login form and wait until the site has moved on from it."""
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("main form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(lambda url: "/login" not in url)  # type: ignore[attr-defined]
