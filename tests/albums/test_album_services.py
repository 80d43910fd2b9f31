"""The album services, without HTTP: create, edit, move, delete, and the counts they keep."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from albums.models import Album
from albums.selectors import (
    GUEST,
    Viewer,
    album_children_visible_to,
    album_depth,
    album_descendant_ids,
    album_unlock_mark,
)
from albums.services import AlbumError, album_create, album_move
from tests.factories import make_album, make_image, make_user
from uploads.album_services import album_delete, album_edit, images_move
from uploads.files import all_files
from uploads.models import Image

pytestmark = pytest.mark.django_db


def chain(owner, length: int) -> list[Album]:
    """`length` albums, each inside the one before."""
    albums: list[Album] = []
    for level in range(length):
        albums.append(
            album_create(owner=owner, name=f"L{level}", parent=albums[-1] if albums else None)
        )
    return albums


# --- create ------------------------------------------------------------------------------------


def test_creating_an_album_counts_it_on_its_owner(user) -> None:
    album = album_create(owner=user, name="  Trips  ", description="Summer")
    user.refresh_from_db()
    assert (album.name, album.description, album.privacy) == ("Trips", "Summer", "public")
    assert user.album_count == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "   "}, "1 to 100"),
        ({"name": "x" * 101}, "1 to 100"),
        ({"name": 5}, "text"),
        ({"name": "ok", "description": "d" * 2001}, "2000"),
        ({"name": "ok", "privacy": "secret"}, "Privacy is one of"),
        ({"name": "ok", "privacy": "password"}, "needs a password"),
        ({"name": "ok", "password": "pw"}, "Only a password album"),
    ],
)
def test_creating_an_album_refuses_bad_fields(user, fields: dict, message: str) -> None:
    with pytest.raises(AlbumError, match=message):
        album_create(owner=user, **fields)
    user.refresh_from_db()
    assert user.album_count == 0 and not Album.objects.exists()


def test_a_password_album_stores_only_a_hash(user) -> None:
    album = album_create(owner=user, name="Secret", privacy="password", password="open sesame")
    assert album.password_hash != "open sesame"
    assert check_password("open sesame", album.password_hash)


def test_an_album_goes_only_under_its_owners_album(user, other_user) -> None:
    theirs = make_album(owner=other_user)
    with pytest.raises(AlbumError, match="same owner"):
        album_create(owner=user, name="Mine", parent=theirs)


def test_albums_nest_at_most_max_depth_levels(user) -> None:
    albums = chain(user, Album.MAX_DEPTH + 1)
    assert album_depth(album=albums[-1]) == Album.MAX_DEPTH
    with pytest.raises(AlbumError, match="nest at most"):
        album_create(owner=user, name="Too deep", parent=albums[-1])


# --- move --------------------------------------------------------------------------------------


def test_an_album_moves_under_another_and_back_to_the_top(user) -> None:
    a = make_album(owner=user, name="A")
    b = make_album(owner=user, name="B")
    album_move(album=a, parent=b)
    assert Album.objects.get(pk=a.pk).parent_id == b.pk
    album_move(album=a, parent=None)
    assert Album.objects.get(pk=a.pk).parent_id is None


def test_an_album_cannot_move_under_itself_or_its_descendant(user) -> None:
    top, middle, bottom = chain(user, 3)
    for target in (top, middle, bottom):
        with pytest.raises(AlbumError, match="inside itself"):
            album_move(album=top, parent=target)
    assert Album.objects.get(pk=top.pk).parent_id is None


def test_a_move_counts_the_height_of_the_moved_subtree(user) -> None:
    deep = chain(user, Album.MAX_DEPTH)  # depths 0..MAX_DEPTH-1
    subtree = chain(user, 2)  # a top album with one child
    with pytest.raises(AlbumError, match="nest at most"):
        album_move(album=subtree[0], parent=deep[-1])
    album_move(album=subtree[0], parent=deep[-2])
    assert album_depth(album=Album.objects.get(pk=subtree[1].pk)) == Album.MAX_DEPTH


def test_an_album_cannot_move_under_another_owners_album(user, other_user) -> None:
    mine = make_album(owner=user)
    with pytest.raises(AlbumError, match="same owner"):
        album_move(album=mine, parent=make_album(owner=other_user))


def test_descendants_come_level_by_level(user) -> None:
    top, middle, bottom = chain(user, 3)
    sibling = make_album(owner=user, parent=top, name="Sibling")
    levels = album_descendant_ids(album=top)
    assert [sorted(level) for level in levels] == [sorted([middle.pk, sibling.pk]), [bottom.pk]]


# --- edit --------------------------------------------------------------------------------------


def test_editing_changes_only_what_was_given(user) -> None:
    album = make_album(owner=user, name="Old", description="Kept")
    album_edit(album=album, name="New")
    album.refresh_from_db()
    assert (album.name, album.description) == ("New", "Kept")


def test_turning_an_album_to_password_needs_a_password(user) -> None:
    album = make_album(owner=user)
    with pytest.raises(AlbumError, match="needs a password"):
        album_edit(album=album, privacy="password")
    album_edit(album=album, privacy="password", password="pw-1")
    album.refresh_from_db()
    assert album.privacy == "password" and check_password("pw-1", album.password_hash)
    # Already a password album: other edits keep the stored password.
    album_edit(album=album, name="Renamed", privacy="password")
    album.refresh_from_db()
    assert check_password("pw-1", album.password_hash)


def test_leaving_password_privacy_drops_the_hash(user) -> None:
    album = make_album(owner=user, privacy="password", password="pw")
    album_edit(album=album, privacy="private")
    album.refresh_from_db()
    assert album.password_hash == ""


def test_a_new_password_locks_out_sessions_that_opened_the_album(user) -> None:
    album = make_album(owner=user, privacy="password", password="pw")
    old_mark = album_unlock_mark(album)
    album_edit(album=album, password="another")
    assert album_unlock_mark(album) != old_mark


def test_the_cover_must_be_an_upload_of_the_album(user) -> None:
    album = make_album(owner=user)
    elsewhere = make_image(owner=user)
    with pytest.raises(AlbumError, match="cover"):
        album_edit(album=album, cover=elsewhere)
    inside = make_image(owner=user, album=album)
    album_edit(album=album, cover=inside)
    assert Album.objects.get(pk=album.pk).cover_id == inside.pk
    album_edit(album=album, cover=None)
    assert Album.objects.get(pk=album.pk).cover_id is None


def test_an_album_turning_private_renames_its_uploads_files(
    user, django_capture_on_commit_callbacks
) -> None:
    album = make_album(owner=user)
    images = [make_image(owner=user, album=album) for _ in range(3)]
    old = {image.pk: image.path for image in images}
    with django_capture_on_commit_callbacks(execute=True):
        album_edit(album=album, privacy="private_but_link")
    for image in Image.objects.filter(album=album):
        assert image.path != old[image.pk]
        assert all(default_storage.exists(f.name) for f in all_files(image))


# --- delete ------------------------------------------------------------------------------------


def test_deleting_without_uploads_keeps_them_outside_any_album(user) -> None:
    top, child = chain(user, 2)
    images = [make_image(owner=user, album=top), make_image(owner=user, album=child)]
    assert album_delete(album=top, with_images=False) == 2
    user.refresh_from_db()
    assert not Album.objects.exists()
    assert user.album_count == 0 and user.image_count == 2
    assert set(Image.objects.values_list("album_id", flat=True)) == {None}
    assert all(default_storage.exists(image.path) for image in images)


def test_deleting_with_uploads_deletes_rows_and_files_of_every_sub_album(
    user, django_capture_on_commit_callbacks
) -> None:
    keep = make_image(owner=user)
    top, child = chain(user, 2)
    images = [make_image(owner=user, album=top), make_image(owner=user, album=child)]
    names = [f.name for image in images for f in all_files(image)]
    with django_capture_on_commit_callbacks(execute=True):
        assert album_delete(album=top, with_images=True) == 2
    user.refresh_from_db()
    assert list(Image.objects.values_list("pk", flat=True)) == [keep.pk]
    assert (user.image_count, user.album_count) == (1, 0)
    assert not any(default_storage.exists(name) for name in names)
    assert default_storage.exists(keep.path)


def test_deleting_a_sub_album_leaves_its_parent(user) -> None:
    top, child = chain(user, 2)
    album_delete(album=child)
    user.refresh_from_db()
    assert list(Album.objects.values_list("pk", flat=True)) == [top.pk]
    assert user.album_count == 1


def test_files_stay_when_the_deletion_rolls_back(user, django_capture_on_commit_callbacks) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    # No commit, no callbacks: the files are deleted only once the rows are gone for good.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        album_delete(album=album, with_images=True)
    assert callbacks and default_storage.exists(image.path)


# --- counts ------------------------------------------------------------------------------------


def test_two_stale_album_objects_both_counting_leave_the_right_count(user) -> None:
    album = make_album(owner=user)
    first, second = Album.objects.get(pk=album.pk), Album.objects.get(pk=album.pk)
    # Each move is one UPDATE ... SET image_count = image_count + 1: neither object's stale
    # count of 0 is written back.
    images_move(images=[make_image(owner=user)], album=first)
    images_move(images=[make_image(owner=user)], album=second)
    album.refresh_from_db()
    assert album.image_count == 2


def test_counting_a_new_album_is_one_update_without_a_read(user) -> None:
    with CaptureQueriesContext(connection) as queries:
        album_create(owner=user, name="Counted")
    counting = [q["sql"] for q in queries if '"album_count"' in q["sql"]]
    assert any('"album_count" = ("accounts_user"."album_count" + 1)' in sql for sql in counting)
    assert not any(sql.lstrip().upper().startswith("SELECT") for sql in counting)


# --- selectors ---------------------------------------------------------------------------------


def test_sub_albums_listed_to_a_stranger_are_the_public_ones(user) -> None:
    top = make_album(owner=user, name="Top")
    public = make_album(owner=user, parent=top, name="Open")
    make_album(owner=user, parent=top, name="Link", privacy="private_but_link")
    locked = make_album(owner=user, parent=top, name="Locked", privacy="password", password="pw")
    make_album(owner=user, parent=top, name="Mine", privacy="private")
    assert list(album_children_visible_to(viewer=GUEST, album=top)) == [public]
    # Even unlocked, a password child stays out of listings: its link and password open it.
    unlocked = Viewer(unlocks={locked.pk: album_unlock_mark(locked)})
    assert list(album_children_visible_to(viewer=unlocked, album=top)) == [public]
    owner = Viewer(user_id=user.pk)
    assert album_children_visible_to(viewer=owner, album=top).count() == 4


def test_a_hidden_albums_sub_albums_are_hidden_too(user) -> None:
    top = make_album(owner=user, privacy="private")
    make_album(owner=user, parent=top)
    stranger = Viewer(user_id=make_user("carol").pk)
    assert not album_children_visible_to(viewer=stranger, album=top).exists()
