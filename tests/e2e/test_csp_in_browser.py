"""The site works in Chromium under its Content-Security-Policy: the main pages, a viewer,
the upload page, the dashboard and the API docs load and run their scripts without a single
CSP violation, and an uploaded file opened directly shows as a picture."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.services import api_key_create
from albums.selectors import album_path
from tests import samples
from tests.factories import make_album, make_image, make_user
from uploads.selectors import image_viewer_path

pytestmark = pytest.mark.django_db(transaction=True)

# Reports every violation to the console, where the test collects them; Chromium also logs
# its own "Refused to ..." line for each.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} ` +
                `at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watch:
    """What went wrong in the browser: CSP violations, script errors, failed requests."""

    def __init__(self, page) -> None:
        self.violations: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.violations.append(text)
        elif message.type == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(text)

    def clean(self) -> None:
        assert self.violations == [], self.violations
        assert self.errors == [], self.errors


@pytest.fixture
def watched(page) -> Iterator[tuple[object, Watch]]:
    yield page, Watch(page)


def _log_in_as(page, base: str, user) -> None:
    """The session of a test client, handed to the browser (the login form has its own
    browser test)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base}]
    )


def _site():
    owner = make_user("marta")
    album = make_album(owner=owner, name="Harbour walks")
    image = make_image(owner=owner, album=album, title="Harbour at dawn")
    admin = make_user("root", is_staff=True, is_superuser=True)
    return owner, album, image, admin


def _visit(page, url: str, *, ready: str = "body") -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")


def test_public_pages_run_under_the_policy_without_a_violation(live_server, watched, shoot) -> None:
    page, watch = watched
    owner, album, image, _ = _site()
    base = live_server.url
    for url, name in (
        ("/", "home"),
        ("/explore", "explore"),
        ("/login", "login"),
        ("/signup", "signup"),
        ("/api-v1", "api-v1"),
        (f"/{owner.username}", "profile"),
        (album_path(album), "album"),
    ):
        _visit(page, base + url)
        shoot(page, f"csp-{name}")
    # The viewer shows the picture (served by the site under its own policy).
    page.goto(base + image_viewer_path(image))
    page.wait_for_function(
        "() => [...document.querySelectorAll('main img')].some(i => i.naturalWidth > 0)"
    )
    shoot(page, "csp-viewer")
    watch.clean()


def test_an_uploaded_file_opened_directly_is_shown_as_a_picture(live_server, watched) -> None:
    page, watch = watched
    _, _, image, _ = _site()
    response = page.goto(f"{live_server.url}/{image.path}")
    assert response is not None and response.status == 200
    assert "sandbox" in response.headers["content-security-policy"]
    assert page.evaluate("document.querySelector('img').naturalWidth") == image.width
    watch.clean()


def test_signed_in_pages_and_an_upload_run_without_a_violation(
    live_server, watched, shoot, tmp_path: Path
) -> None:
    page, watch = watched
    owner, _, _, _ = _site()
    base = live_server.url
    _log_in_as(page, base, owner)
    for url, name in (
        ("/settings", "settings"),
        ("/settings/api", "settings-api"),
        ("/settings/password", "settings-password"),
        ("/albums/new", "album-create"),
    ):
        response = page.goto(base + url)
        assert response is not None
        assert response.status == 200, (url, response.status)
        page.wait_for_load_state("networkidle")
        shoot(page, f"csp-{name}")
    # The upload page: its script reads the file, previews it and sends it.
    photo = tmp_path / "pier.jpg"
    photo.write_bytes(samples.jpeg_bytes(320, 240))
    _visit(page, f"{base}/upload", ready="[data-upload-form]")
    page.set_input_files("[data-upload-form] input[type=file]", str(photo))
    page.wait_for_selector(".upload-item-thumb img")  # a blob: preview
    page.click("[data-start]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.upload-item')]"
        ".every(i => i.dataset.state === 'done')",
        timeout=30_000,
    )
    page.wait_for_load_state("networkidle")
    shoot(page, "csp-upload")
    watch.clean()


def test_the_dashboard_runs_under_the_policy(live_server, watched, shoot) -> None:
    page, watch = watched
    _, _, image, admin = _site()
    base = live_server.url
    _log_in_as(page, base, admin)
    _visit(page, f"{base}/dashboard/", ready="[data-chart='uploads-per-day'][data-drawn='true']")
    shoot(page, "csp-dashboard")
    _visit(page, f"{base}/dashboard/accounts/user/")
    shoot(page, "csp-dashboard-users")
    _visit(page, f"{base}/dashboard/accounts/user/{admin.pk}/change/")
    shoot(page, "csp-dashboard-user-form")
    _visit(page, f"{base}/dashboard/uploads/image/{image.pk}/change/")
    watch.clean()


def test_the_api_docs_render_under_the_policy(live_server, watched, shoot) -> None:
    page, watch = watched
    base = live_server.url
    _visit(page, f"{base}/api/4/docs/", ready=".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() > 50
    # Open one operation: Swagger UI renders its parameters on demand.
    page.locator(".swagger-ui .opblock-summary").first.click()
    page.wait_for_selector(".swagger-ui .opblock-body")
    shoot(page, "csp-api-docs")
    watch.clean()


def test_the_watch_sees_an_inline_script_being_refused(live_server, watched) -> None:
    """The other tests mean something: an inline script added to a page is refused by the
    policy, and the refusal is what the watch reports."""
    page, watch = watched
    _visit(page, f"{live_server.url}/")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.ranInline = true";
          document.body.appendChild(s);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ranInline === undefined")
    assert any("script-src" in v for v in watch.violations), watch.violations


def test_a_video_plays_on_its_viewer_and_opened_directly(live_server, watched, shoot) -> None:
    page, watch = watched
    owner, _, _, _ = _site()
    key = api_key_create(user=owner).key
    clip = io.BytesIO(samples.mp4_bytes(160, 120, seconds=1.0))
    clip.name = "clip.mp4"
    answer = Client().post("/api/1/upload", {"source": clip}, HTTP_X_API_KEY=key)
    assert answer.status_code == 200, answer.content
    base = live_server.url
    viewer = answer.json()["image"]["url_viewer"].replace("http://testserver", base)
    _visit(page, viewer, ready=".viewer video")
    page.wait_for_function("() => document.querySelector('.viewer video').readyState >= 1")
    shoot(page, "csp-video-viewer")
    file_url = answer.json()["image"]["url"].replace("http://testserver", base)
    response = page.goto(file_url)
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "video/mp4"
    assert "sandbox" in response.headers["content-security-policy"]
    # The browser's own player loads it (a full sandbox would stop it: CORS).
    page.wait_for_function("() => document.querySelector('video')?.readyState >= 1")
    watch.clean()
