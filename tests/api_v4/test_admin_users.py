"""API V4 admin users: list with filters and cursor, create, get, edit role/status/profile,
delete with or without content, export; each write audited."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import AuditEntry
from moderation.models import PurgeJob
from tests.factories import make_album, make_image, make_user
from uploads.models import Image

pytestmark = pytest.mark.django_db

BASE = "/api/4/admin/users/"


def _as(key: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": key}


def _patch(client: Client, key: str, user: User, body: dict) -> object:
    return client.patch(
        f"{BASE}{encode_id(user.pk)}/",
        json.dumps(body),
        content_type="application/json",
        **_as(key),
    )


def test_the_list_filters_by_text_role_and_status(
    client: Client, admin_key: str, user: User, other_user: User
) -> None:
    User.objects.filter(pk=other_user.pk).update(is_active=False)
    names = lambda q: [u["username"] for u in client.get(BASE, q, **_as(admin_key)).json()["users"]]  # noqa: E731
    assert names({"q": "ali"}) == ["alice"]
    assert names({"status": "banned"}) == ["bob"]
    assert names({"role": "admin"}) == ["root"]
    assert sorted(names({"role": "user"})) == ["alice", "bob"]
    body = client.get(BASE, {"q": "alice"}, **_as(admin_key)).json()["users"][0]
    assert body["email"] == "alice@example.com" and body["status"] == "valid"
    assert body["id_encoded"] == encode_id(user.pk) and body["role"] == "user"


def test_the_list_pages_by_cursor(client: Client, admin_key: str) -> None:
    for i in range(5):
        make_user(f"person{i}")
    first = client.get(BASE, {"per_page": 4}, **_as(admin_key)).json()
    second = client.get(BASE, {"per_page": 4, "cursor": first["cursor"]}, **_as(admin_key)).json()
    seen = [u["username"] for u in first["users"] + second["users"]]
    assert len(seen) == 6 and len(set(seen)) == 6 and second["cursor"] is None


def test_unknown_filters_and_values_are_refused(client: Client, admin_key: str) -> None:
    assert client.get(BASE, {"rol": "admin"}, **_as(admin_key)).status_code == 400
    assert client.get(BASE, {"role": "god"}, **_as(admin_key)).status_code == 400


def test_staff_create_an_account(client: Client, admin_key: str) -> None:
    body = {"username": "newbie", "email": "n@example.com", "password": "Long-pass-123!"}
    response = client.post(BASE, body, content_type="application/json", **_as(admin_key))
    assert response.status_code == 201
    user = User.objects.get(username="newbie")
    assert user.check_password("Long-pass-123!") and response.json()["user"]["role"] == "user"
    assert AuditEntry.objects.get().action == "user.create"


def test_a_bad_account_is_refused_field_by_field(
    client: Client, admin_key: str, user: User
) -> None:
    body = {"username": "ALICE", "email": "alice@example.com", "password": "123"}
    response = client.post(BASE, body, content_type="application/json", **_as(admin_key))
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username", "email", "password"}
    extra = {"username": "zed", "email": "z@example.com", "admin": True}
    assert (
        client.post(BASE, extra, content_type="application/json", **_as(admin_key)).status_code
        == 400
    )


def test_a_manager_cannot_make_an_admin(client: Client, user: User) -> None:
    manager = make_user("manager", is_staff=True)
    key = api_key_create(user=manager).key
    body = {"username": "boss2", "email": "b2@example.com", "role": "admin"}
    assert client.post(BASE, body, content_type="application/json", **_as(key)).status_code == 400
    assert _patch(client, key, user, {"role": "admin"}).status_code == 403
    assert _patch(client, key, user, {"role": "manager"}).status_code == 200
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser


def test_get_one_and_404_for_nothing(client: Client, admin_key: str, user: User) -> None:
    got = client.get(f"{BASE}{encode_id(user.pk)}/", **_as(admin_key)).json()["user"]
    assert got["username"] == "alice"
    assert client.get(f"{BASE}{encode_id(999999)}/", **_as(admin_key)).status_code == 404
    assert client.get(f"{BASE}not-an-id/", **_as(admin_key)).status_code == 404


def test_banning_and_unbanning_by_status(client: Client, admin_key: str, user: User) -> None:
    api_key_create(user=user)
    response = _patch(client, admin_key, user, {"status": "banned", "ban_reason": "spam"})
    assert response.json()["user"]["status"] == "banned"
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.details["reason"], entry.source) == ("user.ban", "spam", "api")
    assert _patch(client, admin_key, user, {"status": "valid"}).json()["user"]["status"] == "valid"
    assert AuditEntry.objects.latest("id").action == "user.unban"


def test_staff_cannot_ban_or_demote_themselves(
    client: Client, admin_key: str, admin_user: User
) -> None:
    assert _patch(client, admin_key, admin_user, {"role": "user"}).status_code == 403
    assert _patch(client, admin_key, admin_user, {"status": "banned"}).status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.is_superuser
    assert not AuditEntry.objects.exists()


def test_profile_edits_are_all_or_nothing(client: Client, admin_key: str, user: User) -> None:
    bad = _patch(
        client, admin_key, user, {"name": "New", "website": "not a url", "role": "manager"}
    )
    assert bad.status_code == 400
    user.refresh_from_db()
    assert (user.name, user.is_staff) == ("", False)
    good = _patch(client, admin_key, user, {"name": "New", "password": "Fresh-pass-456!"})
    assert good.status_code == 200
    user.refresh_from_db()
    assert user.name == "New" and user.check_password("Fresh-pass-456!")
    assert AuditEntry.objects.get().details["changed"] == ["name", "password"]


def test_deleting_without_content_keeps_the_uploads(
    client: Client, admin_key: str, user: User
) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    response = client.delete(f"{BASE}{encode_id(user.pk)}/", **_as(admin_key))
    assert response.json() == {
        "deleted": encode_id(user.pk),
        "with_content": False,
        "images_kept": 1,
        "albums_deleted": 1,
    }
    image.refresh_from_db()
    assert (image.user_id, image.album_id) == (None, None)
    assert not Album.objects.exists() and not User.objects.filter(pk=user.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_repr) == ("user.delete", "alice")


def test_deleting_with_content_purges_through_the_worker(
    client: Client, admin_key: str, user: User, django_capture_on_commit_callbacks
) -> None:
    make_image(owner=user, album=make_album(owner=user))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{BASE}{encode_id(user.pk)}/?with_content=1", **_as(admin_key))
    assert response.status_code == 202
    assert response.json()["purge_job"] == PurgeJob.objects.get().pk
    assert not Image.objects.exists() and not User.objects.filter(pk=user.pk).exists()
    assert AuditEntry.objects.filter(action="purge.start").count() == 1


def test_staff_cannot_delete_themselves(client: Client, admin_key: str, admin_user: User) -> None:
    assert client.delete(f"{BASE}{encode_id(admin_user.pk)}/", **_as(admin_key)).status_code == 403
    assert (
        client.delete(
            f"{BASE}{encode_id(admin_user.pk)}/?with_content=2", **_as(admin_key)
        ).status_code
        == 400
    )


def test_the_export_is_the_zip(client: Client, admin_key: str, user: User) -> None:
    make_image(owner=user, album=make_album(owner=user, name="Trips"))
    response = client.get(f"{BASE}{encode_id(user.pk)}/export/", **_as(admin_key))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "albums/Trips/harbour.png" in archive.namelist()
    assert AuditEntry.objects.get().action == "user.export"


def test_users_get_403_on_every_route(client: Client, api_key: str, other_user: User) -> None:
    target = f"{BASE}{encode_id(other_user.pk)}/"
    assert client.get(BASE, **_as(api_key)).status_code == 403
    assert client.get(f"{target}export/", **_as(api_key)).status_code == 403
    assert client.delete(target, **_as(api_key)).status_code == 403


def test_deleting_without_content_never_makes_a_private_albums_uploads_public(
    client: Client, admin_key: str, user: User
) -> None:
    public = make_image(owner=user, album=make_album(owner=user))
    hidden = make_image(owner=user, album=make_album(owner=user, privacy=Album.Privacy.PRIVATE))
    loose = make_image(owner=user)
    response = client.delete(f"{BASE}{encode_id(user.pk)}/", **_as(admin_key))
    assert response.json()["images_kept"] == 3
    approved = dict(Image.objects.values_list("pk", "is_approved"))
    assert approved == {public.pk: True, hidden.pk: False, loose.pk: True}
    # A guest no longer finds the private album's upload anywhere.
    listed = {i["id_encoded"] for i in client.get("/api/4/explore/").json()["images"]}
    assert encode_id(hidden.pk) not in listed and encode_id(loose.pk) in listed
