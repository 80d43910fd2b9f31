"""Moving uploads between albums: counters, covers, and random names in hidden albums."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from albums.models import Album
from tests.factories import make_album, make_image
from uploads.album_services import image_files_randomize, images_move
from uploads.files import all_files
from uploads.models import Image

pytestmark = pytest.mark.django_db


def names_of(image: Image) -> list[str]:
    return [f.name for f in all_files(image)]


def test_moving_uploads_moves_the_album_counts(user) -> None:
    first = make_album(owner=user, name="First")
    second = make_album(owner=user, name="Second")
    images = [make_image(owner=user, album=first) for _ in range(3)]
    images_move(images=images[:2], album=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.image_count, second.image_count) == (1, 2)
    assert Image.objects.filter(album=second).count() == 2


def test_moving_out_of_any_album_keeps_the_uploads_and_the_users_count(user) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    images_move(images=[image], album=None)
    album.refresh_from_db()
    user.refresh_from_db()
    assert album.image_count == 0
    assert Image.objects.get(pk=image.pk).album_id is None
    assert user.image_count == 1


def test_a_stale_upload_object_does_not_skew_the_counts(user) -> None:
    first = make_album(owner=user, name="First")
    second = make_album(owner=user, name="Second")
    image = make_image(owner=user, album=first)
    stale = Image.objects.get(pk=image.pk)
    images_move(images=[image], album=second)
    # `stale` still says "first": moving it to second again must change nothing.
    images_move(images=[stale], album=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.image_count, second.image_count) == (0, 1)


def test_an_album_losing_its_cover_upload_loses_the_cover(user) -> None:
    album = make_album(owner=user)
    cover = make_image(owner=user, album=album)
    Album.objects.filter(pk=album.pk).update(cover=cover)
    images_move(images=[cover], album=None)
    album.refresh_from_db()
    assert album.cover_id is None


def test_moving_into_a_private_album_renames_every_file(
    user, media_root: Path, django_capture_on_commit_callbacks
) -> None:
    public = make_album(owner=user, name="Open")
    hidden = make_album(owner=user, name="Hidden", privacy=Album.Privacy.PRIVATE)
    image = make_image(owner=user, album=public)
    before = names_of(image)
    contents = [default_storage.open(n).read() for n in before]
    with django_capture_on_commit_callbacks(execute=True):
        images_move(images=[image], album=hidden)
    image.refresh_from_db()
    after = names_of(image)
    assert image.path != before[0]
    assert [default_storage.open(n).read() for n in after] == contents
    assert not any(default_storage.exists(n) for n in before)
    # The new stem is random: 16 letters and digits, nothing of the old name.
    stem = image.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    assert len(stem) == 16 and stem.isalnum()


@pytest.mark.parametrize("privacy", [Album.Privacy.PRIVATE_BUT_LINK, Album.Privacy.PASSWORD])
def test_every_non_public_album_wants_random_names(
    user, privacy: str, django_capture_on_commit_callbacks
) -> None:
    album = make_album(owner=user, privacy=privacy, password="pw" if privacy == "password" else "")
    image = make_image(owner=user)
    old = image.path
    with django_capture_on_commit_callbacks(execute=True):
        images_move(images=[image], album=album)
    image.refresh_from_db()
    assert image.path != old and default_storage.exists(image.path)


def test_moving_into_a_public_album_keeps_the_names(
    user, django_capture_on_commit_callbacks
) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user)
    old = names_of(image)
    with django_capture_on_commit_callbacks(execute=True):
        images_move(images=[image], album=album)
    image.refresh_from_db()
    assert names_of(image) == old


def test_the_rename_runs_only_once(user, django_capture_on_commit_callbacks) -> None:
    hidden = make_album(owner=user, privacy=Album.Privacy.PRIVATE)
    image = make_image(owner=user)
    old = image.path
    with django_capture_on_commit_callbacks(execute=True):
        images_move(images=[image], album=hidden)
    image.refresh_from_db()
    renamed = image.path
    # A redelivered task (same arguments) and a fresh one both find nothing to do.
    assert image_files_randomize(image_id=image.pk, from_path=old) is None
    assert image_files_randomize(image_id=image.pk) is None
    image.refresh_from_db()
    assert image.path == renamed
    assert all(default_storage.exists(n) for n in names_of(image))


def test_the_rename_of_a_deleted_upload_does_nothing(user) -> None:
    image = make_image(owner=user)
    pk = image.pk
    Image.objects.filter(pk=pk).delete()
    assert image_files_randomize(image_id=pk) is None


def test_the_rename_skips_derivatives_not_made_yet(
    user, django_capture_on_commit_callbacks
) -> None:
    hidden = make_album(owner=user, privacy=Album.Privacy.PRIVATE)
    image = make_image(owner=user)
    # Only the original exists so far; the thumb and medium will be made later.
    for stored in all_files(image)[1:]:
        default_storage.delete(stored.name)
    Image.objects.filter(pk=image.pk).update(chain=Image.CHAIN_IMAGE)
    image.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        images_move(images=[image], album=hidden)
    image.refresh_from_db()
    assert default_storage.exists(image.path)
    assert image.album_id == hidden.pk


def test_a_rename_that_fails_halfway_leaves_the_upload_as_it_was(
    user, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uploads import album_services

    hidden = make_album(owner=user, privacy=Album.Privacy.PRIVATE)
    image = make_image(owner=user)
    Image.objects.filter(pk=image.pk).update(album=hidden)
    before = names_of(image)
    copy = album_services._copy
    calls: list[str] = []

    def failing_copy(storage: object, source: str, target: str, *, mime: str) -> str:
        calls.append(target)
        if len(calls) == 2:
            raise OSError("storage went away")
        return copy(storage, source, target, mime=mime)

    monkeypatch.setattr(album_services, "_copy", failing_copy)
    with pytest.raises(OSError):
        image_files_randomize(image_id=image.pk, from_path=image.path)
    image.refresh_from_db()
    assert names_of(image) == before
    assert all(default_storage.exists(n) for n in before)
    # The copy made before the failure was removed: nothing is left under the new name.
    assert not default_storage.exists(calls[0])
    # The retry (the task retries storage errors) then does the whole job.
    monkeypatch.setattr(album_services, "_copy", copy)
    new_path = image_files_randomize(image_id=image.pk, from_path=image.path)
    assert new_path is not None and default_storage.exists(new_path)
    assert not any(default_storage.exists(n) for n in before)


def test_an_upload_object_that_wrongly_says_it_is_there_already_still_moves(user) -> None:
    target = make_album(owner=user)
    image = make_image(owner=user)
    image.album_id = target.pk  # stale or wrong in memory; the row has no album
    images_move(images=[image], album=target)
    target.refresh_from_db()
    assert Image.objects.get(pk=image.pk).album_id == target.pk
    assert target.image_count == 1
