"""Accounts and albums in the dashboard: avatars and covers in the lists, and the actions
against abuse through their services (ban, unban, purge, delete keeping the uploads,
export), each audited."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.models import AuditEntry
from moderation.models import PurgeJob
from social.models import Follow
from tests.factories import client_as, make_album, make_image, make_user
from uploads.models import Image

pytestmark = pytest.mark.django_db

USERS = "/dashboard/accounts/user/"


def _act(client: Client, action: str, users: list[User], url: str = USERS):
    return client.post(url, {"action": action, "_selected_action": [u.pk for u in users]})


def test_the_user_list_shows_avatars_roles_and_statuses(admin_user: User, user: User) -> None:
    User.objects.filter(pk=user.pk).update(avatar="avatars/alice.png", is_active=False)
    html = client_as(admin_user).get(USERS).content.decode()
    assert 'src="/avatars/alice.png"' in html
    assert "banned" in html and "admin" in html


def test_the_user_list_searches_and_filters(admin_user: User, user: User, other_user: User) -> None:
    client = client_as(admin_user)
    found = client.get(USERS, {"q": "bob"}).context["cl"].result_list
    assert [u.username for u in found] == ["bob"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    banned = client.get(USERS, {"is_active__exact": "0"}).context["cl"].result_list
    assert [u.username for u in banned] == ["alice"]


def test_banning_from_the_list_revokes_keys_and_is_audited(admin_user: User, user: User) -> None:
    api_key_create(user=user)
    response = _act(client_as(admin_user), "ban", [user])
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id, entry.source) == ("user.ban", str(user.pk), "dashboard")


def test_unbanning_reactivates_the_account(admin_user: User, user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)
    _act(client_as(admin_user), "unban", [user])
    user.refresh_from_db()
    assert user.is_active
    assert AuditEntry.objects.get().action == "user.unban"


def test_a_manager_cannot_ban_an_admin(user: User) -> None:
    manager = make_user("manager", is_staff=True)
    manager.user_permissions.add(*_user_permissions())
    boss = make_user("boss", is_staff=True, is_superuser=True)
    _act(client_as(manager), "ban", [boss])
    boss.refresh_from_db()
    assert boss.is_active
    assert not AuditEntry.objects.exists()


def _user_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="accounts", codename__endswith="_user")


def test_the_ban_field_is_not_a_plain_checkbox(admin_user: User, user: User) -> None:
    html = client_as(admin_user).get(f"{USERS}{user.pk}/change/").content.decode()
    assert 'name="is_active"' not in html
    assert f"{USERS}{user.pk}/export/" in html


def test_deleting_with_content_starts_a_purge_that_deletes_the_account(
    admin_user: User, user: User, django_capture_on_commit_callbacks
) -> None:
    make_image(owner=user)
    make_album(owner=user)
    with django_capture_on_commit_callbacks(execute=True):
        _act(client_as(admin_user), "delete_with_content", [user])
    job = PurgeJob.objects.get()
    assert job.delete_user
    # The eager worker ran the purge to its end.
    assert not Image.objects.exists() and not Album.objects.exists()
    assert not User.objects.filter(pk=user.pk).exists()
    assert AuditEntry.objects.filter(action="purge.start").count() == 1


def test_the_stock_delete_keeps_the_uploads_as_guest_uploads(
    admin_user: User, user: User, other_user: User
) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    Follow.objects.create(follower=user, followed=other_user)
    User.objects.filter(pk=other_user.pk).update(followers_count=1)
    response = client_as(admin_user).post(f"{USERS}{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    image.refresh_from_db()
    assert (image.user_id, image.album_id) == (None, None)
    assert not Album.objects.exists()
    other_user.refresh_from_db()
    assert other_user.followers_count == 0
    assert AuditEntry.objects.get().action == "user.delete"


def test_exporting_from_the_change_page_answers_the_zip(admin_user: User, user: User) -> None:
    make_image(owner=user)
    response = client_as(admin_user).get(f"{USERS}{user.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("manifest.json"))["user"]["username"] == "alice"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id) == ("user.export", str(user.pk))


def test_the_export_action_takes_one_user(admin_user: User, user: User, other_user: User) -> None:
    client = client_as(admin_user)
    one = _act(client, "export_data", [user])
    assert one["Content-Type"] == "application/zip"
    two = _act(client, "export_data", [user, other_user])
    assert two.status_code == 302
    assert AuditEntry.objects.count() == 1


def test_users_cannot_reach_the_export(user: User, other_user: User) -> None:
    response = client_as(user).get(f"{USERS}{other_user.pk}/export/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_album_list_shows_cover_thumbnails(admin_user: User, user: User) -> None:
    album = make_album(owner=user)
    cover = make_image(owner=user, album=album)
    Album.objects.filter(pk=album.pk).update(cover=cover)
    html = client_as(admin_user).get("/dashboard/albums/album/").content.decode()
    assert f'src="/{cover.path.rsplit(".", 1)[0]}.th.' in html


def test_deleting_albums_with_their_uploads(admin_user: User, user: User) -> None:
    album = make_album(owner=user)
    make_image(owner=user, album=album)
    kept = make_image(owner=user)
    _act(client_as(admin_user), "delete_with_uploads", [album], url="/dashboard/albums/album/")
    assert list(Image.objects.values_list("pk", flat=True)) == [kept.pk]
    user.refresh_from_db()
    assert (user.album_count, user.image_count) == (0, 1)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.details["with_images"]) == ("album.delete", True)
