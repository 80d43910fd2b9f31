"""Security headers on every response (chevereto.core.securityheaders and Django's
SecurityMiddleware), uploaded files served safely, and the production cookie settings."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import LazySettings
from django.contrib.auth.password_validation import get_default_password_validators
from django.test import Client
from django.urls import path

from chevereto.core.securityheaders import MEDIA_CSP, media_disposition, media_headers
from tests import samples
from tests.factories import make_image
from uploads.models import Image

pytestmark = pytest.mark.django_db


def _boom(request: object) -> None:
    raise RuntimeError("a bug in a view")


# The site's URLs plus one view that fails, to see the headers of a real 500.
urlpatterns = [path("boom-for-tests", _boom)]


def directives(response) -> dict[str, str]:
    """The CSP header as {directive: sources}."""
    policy = response["Content-Security-Policy"]
    found: dict[str, str] = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        found[name] = value
    return found


def assert_page_headers(response) -> None:
    csp = directives(response)
    script = csp["script-src"].split()
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.fixture
def png_upload(user) -> Image:
    return make_image(owner=user)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/login",
        "/signup",
        "/explore",
        "/api-v1",
        "/api/4/docs/",
        "/api/4/schema/",
        "/api/4/user/account/",  # 401 JSON
        "/api/1/upload",  # 401 JSON in Chevereto's shape
        "/no-such-page/at/all",  # 404 page
        "/dashboard/login/",
        "/static/js/site.js",  # WhiteNoise
    ],
)
def test_every_kind_of_response_carries_the_security_headers(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code < 500
    assert_page_headers(response)


def test_a_server_error_page_carries_them_too(settings: LazySettings) -> None:
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.get("/boom-for-tests")
    assert response.status_code == 500
    assert_page_headers(response)


def test_the_dashboard_is_covered_for_staff(client: Client, admin_user) -> None:
    client.force_login(admin_user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert_page_headers(response)
    assert response["X-Frame-Options"] == "DENY"


def test_each_request_gets_its_own_nonce_and_no_inline_script_runs_without_it(
    client: Client,
) -> None:
    first = directives(client.get("/"))["script-src"]
    second = directives(client.get("/"))["script-src"]
    nonce = re.search(r"'nonce-([\w-]+)'", first)
    assert nonce and nonce.group(0) not in second


def test_no_page_template_holds_an_inline_script(client: Client, png_upload: Image) -> None:
    for url in ("/", "/login", "/signup", "/explore", "/api-v1", f"/{png_upload.user.username}"):
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            # External files, or data blocks the browser never runs.
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\son[a-z]+=", html), url  # no inline event handlers


def test_the_api_docs_load_their_script_from_a_url_not_inline(client: Client) -> None:
    html = client.get("/api/4/docs/").content.decode()
    tags = re.findall(r"<script[^>]*>", html)
    assert tags and all("src=" in tag for tag in tags)
    script = client.get("/api/4/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_hsts_is_sent_only_over_https(client: Client, settings: LazySettings) -> None:
    assert "Strict-Transport-Security" not in client.get("/")
    secure = client.get("/", secure=True)
    assert secure["Strict-Transport-Security"] == f"max-age={settings.SECURE_HSTS_SECONDS}"
    assert settings.SECURE_HSTS_SECONDS >= 180 * 86400


def test_a_response_with_its_own_policy_keeps_it(client: Client, png_upload: Image) -> None:
    response = client.get("/" + png_upload.path)
    assert response["Content-Security-Policy"] == MEDIA_CSP


# -- uploaded files ---------------------------------------------------------------------------


def test_an_uploaded_picture_is_served_inline_with_its_recorded_type_and_a_sandbox(
    client: Client, png_upload: Image
) -> None:
    response = client.get("/" + png_upload.path)
    assert response.status_code == 200
    assert response["Content-Type"] == png_upload.mime
    filename = png_upload.path.rsplit("/", 1)[-1]
    assert response["Content-Disposition"] == f'inline; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = directives(response)
    assert csp["default-src"] == "'none'" and "sandbox" in csp
    # Files are the site's embeds: they may be framed and hotlinked anywhere.
    assert "frame-ancestors" not in csp and "X-Frame-Options" not in response


def test_derivatives_and_not_modified_answers_carry_the_file_headers(
    client: Client, png_upload: Image
) -> None:
    from uploads.files import variant_file

    thumb = variant_file(png_upload, "thumb")
    assert thumb is not None
    response = client.get("/" + thumb.name)
    assert response["Content-Type"] == thumb.mime
    assert response["Content-Security-Policy"] == MEDIA_CSP
    again = client.get("/" + thumb.name, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again["Content-Security-Policy"] == MEDIA_CSP


def test_a_row_claiming_html_is_served_as_an_opaque_download_never_as_html(
    client: Client, png_upload: Image
) -> None:
    # Rows come from uploads (sniffed) but also from imports: the serving never trusts a
    # type it would not render safely.
    Image.objects.filter(pk=png_upload.pk).update(mime="text/html")
    response = client.get("/" + png_upload.path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_file_name_in_the_disposition_cannot_break_out_of_its_quotes() -> None:
    assert media_disposition("image/png", 'a";b\r\nX: y.png') == 'inline; filename="abXy.png"'
    assert media_disposition("image/svg+xml", "x.svg") == 'attachment; filename="x.svg"'


def test_a_video_keeps_its_origin_in_the_sandbox_so_the_browser_can_play_it() -> None:
    from django.http import HttpResponse

    response = HttpResponse(b"", content_type="application/octet-stream")
    media_headers(response, mime="video/mp4", filename="clip.mp4")
    assert response["Content-Type"] == "video/mp4"
    policy = response["Content-Security-Policy"]
    assert policy.endswith("sandbox allow-same-origin") and "allow-scripts" not in policy
    assert "script-src" not in policy and "default-src 'none'" in policy


def test_media_headers_replace_a_guessed_type() -> None:
    from django.http import HttpResponse

    response = HttpResponse(b"GIF89a", content_type="text/html")
    media_headers(response, mime="image/gif", filename="cat.gif")
    assert response["Content-Type"] == "image/gif"


def test_profile_images_are_served_like_uploads(client: Client, user) -> None:
    import base64

    from uploads.profile_assets import profile_image_set
    from uploads.sources import from_base64

    data = base64.b64encode(samples.png_bytes(64, 64)).decode()
    source = from_base64(data, max_bytes=10_000_000)
    profile_image_set(user=user, kind="avatar", source=source)
    user.refresh_from_db()
    response = client.get("/" + user.avatar)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == MEDIA_CSP


def test_s3_objects_are_written_with_the_rows_type_and_disposition() -> None:
    from django.core.files.base import ContentFile

    from uploads.files import typed
    from uploads.s3 import MediaS3Storage

    storage = MediaS3Storage(bucket_name="b", access_key="k", secret_key="s")
    # Named .html on purpose: the name must not decide the type.
    content = typed(ContentFile(b"\x89PNG"), mime="image/png", filename="x.html")
    params = storage._get_write_parameters("images/x.html", content)
    assert params["ContentType"] == "image/png"
    assert params["ContentDisposition"] == 'inline; filename="x.html"'


def test_signed_s3_urls_ask_s3_to_answer_with_the_rows_type(
    client: Client, png_upload: Image, settings: LazySettings
) -> None:
    from uploads.s3 import MediaS3Storage
    from uploads.serving import _remote_url

    signed = MediaS3Storage(
        bucket_name="b", access_key="k", secret_key="s", endpoint_url="http://127.0.0.1:9"
    )
    url = _remote_url(signed, "images/x.png", mime="image/png")
    assert "response-content-type=image%2Fpng" in url
    assert "response-content-disposition=inline" in url
    public = MediaS3Storage(bucket_name="b", custom_domain="cdn.example.com")
    assert _remote_url(public, "images/x.png", mime="image/png") == (
        "https://cdn.example.com/images/x.png"
    )


# -- cookies and passwords -------------------------------------------------------------------


def test_session_and_csrf_cookies_are_httponly_where_it_matters_and_lax(
    client: Client, user, settings: LazySettings
) -> None:
    login = client.get("/login")
    csrf = login.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"
    token = csrf.value
    response = client.post(
        "/login",
        {"username": "alice", "password": "pw-Alice-123", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert not session["secure"]  # plain http (make run) keeps working
    assert 3600 <= settings.SESSION_COOKIE_AGE <= 30 * 86400


def test_behind_a_tls_proxy_the_cookies_are_secure(monkeypatch) -> None:
    import importlib

    import chevereto.settings as site_settings

    monkeypatch.setenv("SECURE_PROXY_SSL", "1")
    try:
        reloaded = importlib.reload(site_settings)
        assert reloaded.SESSION_COOKIE_SECURE is True
        assert reloaded.CSRF_COOKIE_SECURE is True
        assert reloaded.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    finally:
        monkeypatch.delenv("SECURE_PROXY_SSL")
        importlib.reload(site_settings)


def test_password_validators_are_active() -> None:
    names = {type(v).__name__ for v in get_default_password_validators()}
    assert {
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
        "UserAttributeSimilarityValidator",
    } <= names


def test_signup_refuses_a_weak_password(client: Client) -> None:
    response = client.post(
        "/signup",
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": "password",
            "password2": "password",
        },
    )
    assert response.status_code in (200, 400)
    assert "too common" in response.content.decode()


def test_a_password_change_refuses_a_weak_password(client_logged_in: Client) -> None:
    response = client_logged_in.post(
        "/settings/password",
        {"old_password": "pw-Alice-123", "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 400
    assert "entirely numeric" in response.content.decode()


def test_the_admin_api_refuses_a_weak_password(client: Client, admin_key: str) -> None:
    response = client.post(
        "/api/4/admin/users/",
        {"username": "dave", "email": "dave@example.com", "password": "abc"},
        HTTP_X_API_KEY=admin_key,
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


def test_an_upload_body_is_not_needed_to_see_headers(client: Client, api_key: str) -> None:
    # API V1 errors (here: no source) still carry the page headers.
    response = client.post("/api/1/upload", {"source": io.BytesIO(b"")}, HTTP_X_API_KEY=api_key)
    assert response.status_code == 400
    assert_page_headers(response)
