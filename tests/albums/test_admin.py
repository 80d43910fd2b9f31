"""The albums admin: names editable, the tree and counters left to the services."""

from __future__ import annotations

import pytest
from django.test import Client

from albums.models import Album
from tests.factories import make_album, make_image
from uploads.models import Image

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def test_the_album_list_and_change_pages_open(staff_client: Client, user) -> None:
    album = make_album(owner=user, privacy="password", password="pw")
    assert staff_client.get("/dashboard/albums/album/").status_code == 200
    page = staff_client.get(f"/dashboard/albums/album/{album.pk}/change/")
    assert page.status_code == 200
    assert album.password_hash not in page.content.decode()


def test_albums_are_not_added_in_the_admin(staff_client: Client) -> None:
    assert staff_client.get("/dashboard/albums/album/add/").status_code == 403


def test_deleting_in_the_admin_keeps_the_uploads_and_the_count(staff_client: Client, user) -> None:
    top = make_album(owner=user, name="Top")
    child = make_album(owner=user, name="Child", parent=top)
    image = make_image(owner=user, album=child)
    response = staff_client.post(f"/dashboard/albums/album/{top.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert not Album.objects.exists()
    assert user.album_count == 0
    assert Image.objects.get(pk=image.pk).album_id is None


def test_bulk_deleting_in_the_admin_counts_each_album_once(staff_client: Client, user) -> None:
    top = make_album(owner=user, name="Top")
    child = make_album(owner=user, name="Child", parent=top)
    other = make_album(owner=user, name="Other")
    kept = make_album(owner=user, name="Kept")
    response = staff_client.post(
        "/dashboard/albums/album/",
        {
            "action": "delete_selected",
            "_selected_action": [top.pk, child.pk, other.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert list(Album.objects.values_list("pk", flat=True)) == [kept.pk]
    assert user.album_count == 1
