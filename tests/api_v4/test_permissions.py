"""The permission walk: every API V4 operation of the schema, called as the owner of the
things in its path, as another user, as a guest and as staff, answers what the table says.

OPERATIONS is the table. A schema operation without a row fails the authorization matrix
(tests/test_authorization_matrix.py, which walks the schema and the URLconf), and so does
a row for an operation the schema lacks. Each (operation, role) is its own test, on fresh
rows, so a DELETE never takes another test's fixtures with it. Path parameters name the
owner's things: `{id}` is the image, album or notification the path is about, `{username}`
the owner. Users call with their key (X-API-Key); the guest sends no credentials.

User routes act on the caller's own things: another user's id is the 404 of an id that does
not exist; staff may act on anyone's. Public routes answer everyone alike. Admin routes
(staff only) are walked by test_admin_permissions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.encoding import encode_id
from tests import samples
from tests.factories import make_album, make_image

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other", "guest", "staff")
# Not operations of the API: the documents that describe it.
NOT_WALKED = {"/api/4/schema/", "/api/4/docs/"}


@dataclass(frozen=True)
class Row:
    """The status each role gets, and what a write sends."""

    owner: int
    other: int
    guest: int
    staff: int
    # A JSON body (sent as application/json).
    body: dict[str, Any] | None = None
    # A multipart upload: this field carries a small PNG (plus `form`).
    upload: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    # `{album}` and `{image}` in the query or the body are the owner's album and image.
    query: str = ""
    # A bulk route on the owner's album or image: it answers 200 to users either way, and
    # reports the id `edited` for the owner and staff, `failed` for another user.
    bulk: str | None = None

    def expected(self, role: str) -> int:
        return int(getattr(self, role))


def mine(ok: int = 200, **kw: Any) -> Row:
    """A user route on the owner's thing: someone else's id is a 404; staff may act."""
    return Row(owner=ok, other=404, guest=401, staff=ok, **kw)


def own_account(ok: int = 200, **kw: Any) -> Row:
    """A route on the caller's own account: every user gets their own."""
    return Row(owner=ok, other=ok, guest=401, staff=ok, **kw)


def any_user(ok: int = 200, **kw: Any) -> Row:
    """A user route on something the caller may see (a like, a follow): any user."""
    return Row(owner=ok, other=ok, guest=401, staff=ok, **kw)


def public(ok: int = 200, **kw: Any) -> Row:
    return Row(owner=ok, other=ok, guest=ok, staff=ok, **kw)


# (method, schema path) -> the outcome per role.
OPERATIONS: dict[tuple[str, str], Row] = {
    # The account (ours, and its alias).
    ("GET", "/api/4/account/"): own_account(),
    ("GET", "/api/4/user/account/"): own_account(),
    ("PATCH", "/api/4/user/account/settings/"): own_account(body={"name": "Walker"}),
    ("GET", "/api/4/user/account/api-key/"): own_account(),
    ("POST", "/api/4/user/account/api-key/"): own_account(201),
    ("DELETE", "/api/4/user/account/api-key/"): own_account(),
    # Profile images: the named user's; staff may change anyone's.
    ("POST", "/api/4/user/{username}/assets/avatar/"): mine(upload="source"),
    ("DELETE", "/api/4/user/{username}/assets/avatar/"): mine(),
    ("POST", "/api/4/user/{username}/assets/background/"): mine(upload="source"),
    ("DELETE", "/api/4/user/{username}/assets/background/"): mine(),
    # The caller's uploads.
    ("POST", "/api/4/user/images/"): own_account(upload="source"),
    ("GET", "/api/4/user/images/list/"): own_account(),
    ("PATCH", "/api/4/user/images/bulk/"): own_account(
        body={"image_ids": ["{image}"], "title": "Walked"}, bulk="image"
    ),
    ("DELETE", "/api/4/user/images/bulk/"): own_account(
        body={"image_ids": ["{image}"]}, bulk="image"
    ),
    ("GET", "/api/4/user/images/{id}/"): mine(),
    ("PATCH", "/api/4/user/images/{id}/"): mine(body={"title": "Walked"}),
    ("DELETE", "/api/4/user/images/{id}/"): mine(),
    # The caller's albums.
    ("POST", "/api/4/user/albums/"): own_account(201, body={"name": "New"}),
    ("GET", "/api/4/user/albums/list/"): own_account(),
    ("GET", "/api/4/user/albums/{id}/"): mine(),
    ("PATCH", "/api/4/user/albums/{id}/"): mine(body={"name": "Renamed", "privacy": "private"}),
    ("DELETE", "/api/4/user/albums/{id}/"): mine(query="with_images=1"),
    ("GET", "/api/4/user/albums/{id}/contents/"): mine(),
    ("DELETE", "/api/4/user/albums/bulk/"): own_account(query="album_ids={album}", bulk="album"),
    ("PATCH", "/api/4/user/albums/bulk/parent/"): own_account(
        body={"album_ids": ["{album}"], "parent_id": None}, bulk="album"
    ),
    # Likes of the owner's public things; follows of the owner (not by the owner).
    ("POST", "/api/4/user/images/{id}/like/"): any_user(),
    ("DELETE", "/api/4/user/images/{id}/like/"): any_user(),
    ("POST", "/api/4/user/albums/{id}/like/"): any_user(),
    ("DELETE", "/api/4/user/albums/{id}/like/"): any_user(),
    ("POST", "/api/4/users/{username}/follow/"): Row(owner=403, other=200, guest=401, staff=200),
    ("DELETE", "/api/4/users/{username}/follow/"): Row(owner=200, other=200, guest=401, staff=200),
    ("GET", "/api/4/users/{username}/followers/"): public(),
    ("GET", "/api/4/users/{username}/following/"): public(),
    # Notifications: the recipient's own; staff may mark anyone's, as on every user route.
    ("GET", "/api/4/user/account/notifications/social/"): own_account(),
    ("PATCH", "/api/4/user/account/notifications/social/{id}/"): mine(body={"is_read": True}),
    # Public profiles and discovery: the owner's profile and things are public.
    ("GET", "/api/4/users/list/"): public(),
    ("GET", "/api/4/users/{username}/"): public(),
    ("GET", "/api/4/users/{username}/images/"): public(),
    ("GET", "/api/4/users/{username}/albums/"): public(),
    ("GET", "/api/4/explore/"): public(),
    ("GET", "/api/4/search/"): public(query="q=harbour"),
    ("GET", "/api/4/tags/"): public(),
    ("GET", "/api/4/categories/"): public(),
}


@dataclass
class World:
    """The fixtures one call needs: three users with keys, and the owner's things."""

    owner: User
    keys: dict[str, str]
    album: Album
    image_id: str
    notification_id: str

    def fill(self, text: str) -> str:
        """`{album}` and `{image}` in a query or a body: the owner's."""
        return text.replace("{album}", encode_id(self.album.pk)).replace("{image}", self.image_id)

    def url(self, path: str) -> str:
        """The schema path with its parameters filled from the owner's things."""
        if "{username}" in path:
            path = path.replace("{username}", self.owner.username)
        if "{id}" in path:
            path = path.replace("{id}", self._id_for(path))
        leftover = re.findall(r"\{\w+\}", path)
        assert not leftover, f"fill {leftover} in World.url for {path}"
        return path

    def _id_for(self, path: str) -> str:
        if "/notifications/" in path:
            return self.notification_id
        if "/albums/" in path:
            return encode_id(self.album.pk)
        if "/images/" in path:
            return self.image_id
        raise AssertionError(f"which of the owner's things is {{id}} in {path}? (World._id_for)")


def _user(username: str, **extra: Any) -> User:
    # No password: hashing one costs most of a test's setup, and keys are what the walk uses.
    return User.objects.create_user(
        username=username, email=f"{username}@example.com", password=None, **extra
    )


@pytest.fixture
def world() -> World:
    from social.models import Notification

    user = _user("alice")
    other_user = _user("bob")
    admin_user = _user("root", is_staff=True, is_superuser=True)
    album = make_album(owner=user, name="Walked")
    image = make_image(owner=user, album=album)
    notification = Notification.objects.create(
        recipient=user, actor=other_user, kind=Notification.Kind.FOLLOW
    )
    return World(
        owner=user,
        keys={
            "owner": api_key_create(user=user).key,
            "other": api_key_create(user=other_user).key,
            "staff": api_key_create(user=admin_user).key,
        },
        album=album,
        image_id=encode_id(image.pk),
        notification_id=encode_id(notification.pk),
    )


def _call(client: Client, world: World, method: str, path: str, role: str, row: Row) -> Any:
    url = world.url(path) + (f"?{world.fill(row.query)}" if row.query else "")
    headers = {"HTTP_X_API_KEY": world.keys[role]} if role in world.keys else {}
    if row.upload is not None:
        png = SimpleUploadedFile("walk.png", samples.png_bytes(), content_type="image/png")
        return client.generic(
            method,
            url,
            **_multipart({**row.form, row.upload: png}),
            **headers,
        )
    if row.body is not None:
        body = world.fill(json.dumps(row.body))
        return client.generic(method, url, body, content_type="application/json", **headers)
    return client.generic(method, url, **headers)


def _multipart(data: dict[str, Any]) -> dict[str, Any]:
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path"), sorted(OPERATIONS), ids=[f"{m} {p}" for m, p in sorted(OPERATIONS)]
)
def test_each_operation_answers_each_role_as_the_table_says(
    client: Client, world: World, method: str, path: str, role: str
) -> None:
    row = OPERATIONS[(method, path)]
    response = _call(client, world, method, path, role, row)
    assert response.status_code == row.expected(role), (
        f"{method} {path} as {role}: {response.status_code} {response.content[:400]!r}"
    )
    if row.bulk is not None and response.status_code == 200:
        thing = world.fill("{" + row.bulk + "}")
        outcome = "failed" if role == "other" else "edited"
        reported = response.json()[outcome]
        assert thing in [(r["id"] if isinstance(r, dict) else r) for r in reported], (
            f"{method} {path} as {role}: {thing} not in {outcome}: {response.json()}"
        )
    if response.status_code >= 400:
        # Every refusal, whoever asks, is Chevereto's error body.
        body = response.json()
        assert body["status_code"] == response.status_code
        assert set(body) >= {"status_code", "error", "status_txt"}


# The same calls once the owner's profile is private and the album (holding the image) is
# private: what others saw above is now a 404, as for a thing that does not exist.
HIDDEN = Row(owner=200, other=404, guest=404, staff=200)
HIDDEN_FROM_USERS = Row(owner=200, other=404, guest=401, staff=200)
PRIVATE: dict[tuple[str, str], Row] = {
    ("GET", "/api/4/users/{username}/"): HIDDEN,
    ("GET", "/api/4/users/{username}/images/"): HIDDEN,
    ("GET", "/api/4/users/{username}/albums/"): HIDDEN,
    ("GET", "/api/4/users/{username}/followers/"): HIDDEN,
    ("GET", "/api/4/users/{username}/following/"): HIDDEN,
    ("POST", "/api/4/user/images/{id}/like/"): HIDDEN_FROM_USERS,
    ("DELETE", "/api/4/user/images/{id}/like/"): HIDDEN_FROM_USERS,
    ("POST", "/api/4/user/albums/{id}/like/"): HIDDEN_FROM_USERS,
    ("DELETE", "/api/4/user/albums/{id}/like/"): HIDDEN_FROM_USERS,
    ("POST", "/api/4/users/{username}/follow/"): Row(owner=403, other=404, guest=401, staff=200),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path"), sorted(PRIVATE), ids=[f"{m} {p}" for m, p in sorted(PRIVATE)]
)
def test_the_owners_private_things_are_a_404_to_others(
    client: Client, world: World, method: str, path: str, role: str
) -> None:
    assert (method, path) in OPERATIONS
    User.objects.filter(pk=world.owner.pk).update(is_private=True)
    Album.objects.filter(pk=world.album.pk).update(privacy=Album.Privacy.PRIVATE)
    row = PRIVATE[(method, path)]
    response = _call(client, world, method, path, role, row)
    assert response.status_code == row.expected(role), (
        f"{method} {path} as {role}: {response.status_code} {response.content[:400]!r}"
    )
