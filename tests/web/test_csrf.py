"""CSRF: every form on every page carries a token, and posting any of them without it is
refused with a 403; API V4 writes over a session cookie need the token too (in Chevereto's
error shape), while a request with an API key needs none."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from albums.models import Album
from albums.selectors import album_path
from chevereto.core.encoding import encode_id
from tests.factories import make_album, make_user
from tests.uploads.test_visibility import make_upload
from uploads.representation import delete_path
from uploads.selectors import image_viewer_path

pytestmark = pytest.mark.django_db

TOKEN_FIELDS = {"csrfmiddlewaretoken", "auth_token"}


class _Forms(HTMLParser):
    """The POST forms of a page: action and the fields they send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form" and found.get("method", "get").lower() == "post":
            self._open = {"action": found.get("action", ""), "fields": {}}
            self.forms.append(self._open)
        elif self._open is not None and tag in ("input", "textarea", "select", "button"):
            name = found.get("name")
            if name and found.get("type") not in ("file", "submit"):
                self._open["fields"][name] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def post_forms(client: Client, url: str) -> list[dict]:
    response = client.get(url, follow=True)
    assert response.status_code == 200, (url, response.status_code)
    parser = _Forms()
    parser.feed(response.content.decode())
    for form in parser.forms:
        form["page"] = url
        form["action"] = urlsplit(urljoin(url, form["action"] or url)).path
    return parser.forms


def _site() -> dict[str, object]:
    owner = make_user("marta")
    make_user("root", password="pw-Root-123", is_staff=True, is_superuser=True)
    album = make_album(owner=owner, name="Harbour walks")
    locked = make_album(
        owner=owner, name="Diary", privacy=Album.Privacy.PASSWORD, password="open-sesame-42"
    )
    upload = make_upload(owner=owner, album=album)
    image = upload.image
    return {
        "owner": owner,
        "album": album,
        "locked": locked,
        "image": image,
        "delete": delete_path(image, upload.delete_token),
    }


def _pages(site: dict) -> dict[str, list[str]]:
    """Every page with a form, by who sees it."""
    owner: User = site["owner"]  # type: ignore[assignment]
    image = site["image"]
    album = site["album"]
    encoded = encode_id(image.pk)  # type: ignore[attr-defined]
    album_id = encode_id(album.pk)  # type: ignore[attr-defined]
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    reset = f"/password-reset/{uid}/{default_token_generator.make_token(owner)}"
    return {
        "guest": [
            "/login",
            "/signup",
            "/password-reset",
            reset,
            album_path(site["locked"]),  # type: ignore[arg-type]
            "/",  # the home page's upload form (guest uploads on)
            site["delete"],  # type: ignore[list-item]
        ],
        "owner": [
            "/upload",
            "/settings",
            "/settings/password",
            "/settings/api",
            "/settings/export",
            "/notifications",
            image_viewer_path(image),  # type: ignore[arg-type]
            f"/image/{encoded}/edit",
            f"/image/{encoded}/report",
            "/albums/new",
            f"/album/{album_id}/edit",
            f"/album/{album_id}/delete",
            f"/album/{album_id}/add",
            "/logout",
        ],
        "staff": [
            f"/image/{encoded}/remove",
            "/dashboard/",
            f"/dashboard/accounts/user/{owner.pk}/change/",
            "/dashboard/uploads/category/add/",
        ],
    }


def _client_for(who: str, site: dict) -> Client:
    client = Client(enforce_csrf_checks=True)
    if who == "owner":
        client.force_login(site["owner"])  # type: ignore[arg-type]
    elif who == "staff":
        client.force_login(User.objects.get(username="root"))
    return client


def test_every_post_form_carries_a_token_and_is_refused_without_it(site) -> None:
    world = _site()
    checked: list[str] = []
    for who, urls in _pages(world).items():
        for url in urls:
            client = _client_for(who, world)
            forms = post_forms(client, url)
            assert forms, f"{url} has no POST form"
            for form in forms:
                assert TOKEN_FIELDS & set(form["fields"]), (url, form)
                data = {k: v for k, v in form["fields"].items() if k not in TOKEN_FIELDS}
                refused = _client_for(who, world).post(form["action"], data)
                assert refused.status_code == 403, (who, url, form["action"], refused.status_code)
                checked.append(form["action"])
    # The walk reached the forms that matter most.
    for action in ("/login", "/signup", "/settings/password", "/upload", "/logout"):
        assert action in checked, action


def test_a_refused_form_says_so_on_the_sites_own_page(site) -> None:
    response = Client(enforce_csrf_checks=True).post("/login", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert b'data-testid="csrf-failure"' in response.content


def test_an_api_write_with_a_session_and_no_token_is_refused_in_cheveretos_shape(site) -> None:
    owner = make_user("marta")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/api/4/user/albums/", {"name": "Trips"})
    assert response.status_code == 403
    body = response.json()
    assert body["status_code"] == 403 and body["status_txt"] == "Forbidden"
    assert "CSRF" in body["error"]["message"]
    assert not Album.objects.filter(name="Trips").exists()
    # Reads over the session need no token.
    assert client.get("/api/4/user/albums/list/").status_code == 200


def test_an_api_write_with_a_session_and_the_token_goes_through(site) -> None:
    owner = make_user("marta")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get("/settings")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/4/user/albums/", {"name": "Trips"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (200, 201), response.content


def test_an_api_write_with_a_key_needs_no_csrf_token(api_key: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/4/user/albums/", {"name": "Trips"}, HTTP_X_API_KEY=api_key)
    assert response.status_code in (200, 201), response.content


def test_api_v1_uploads_over_a_session_without_a_token_are_refused(site) -> None:
    owner = make_user("marta")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/api/1/upload", {"source": "https://example.com/a.png"})
    assert response.status_code in (401, 403)
    assert response.json()["status_code"] == response.status_code


def test_the_upload_pages_script_endpoint_refuses_a_post_without_the_token(site) -> None:
    owner = make_user("marta")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/upload/json", {"source": "https://example.com/a.png"})
    assert response.status_code == 403
