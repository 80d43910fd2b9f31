"""Album writes at the same time, on the file database (real locks, real transactions)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from albums.models import Album
from albums.services import AlbumError, album_create, album_move
from tests.factories import make_album, make_image, make_user
from uploads.album_services import images_move
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(actions: list[Callable[[], object]]) -> list[BaseException]:
    """Run each action in its own thread, released together; the errors they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait(10)
            action()
        except BaseException as exc:  # surfaced by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_uploads_moved_into_one_album_at_once_are_all_counted() -> None:
    owner = make_user("owner")
    source = make_album(owner=owner, name="Source")
    target = make_album(owner=owner, name="Target")
    images = [make_image(owner=owner, album=source) for _ in range(4)]

    def mover(image: Image) -> Callable[[], None]:
        # Each thread holds a stale album object, as concurrent requests would.
        return lambda: images_move(images=[image], album=Album.objects.get(pk=target.pk))

    assert not at_once([mover(image) for image in images])
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.image_count, target.image_count) == (0, 4)


def test_albums_created_at_once_are_all_counted() -> None:
    owner = make_user("owner")
    errors = at_once([lambda n=n: album_create(owner=owner, name=f"Album {n}") for n in range(4)])
    assert not errors
    owner.refresh_from_db()
    assert owner.album_count == Album.objects.count() == 4


def test_two_moves_at_once_never_make_a_cycle() -> None:
    owner = make_user("owner")
    a = make_album(owner=owner, name="A")
    b = make_album(owner=owner, name="B")
    # A under B and B under A, at the same time: each alone is fine, both make a cycle.
    errors = at_once(
        [
            lambda: album_move(album=Album.objects.get(pk=a.pk), parent=Album.objects.get(pk=b.pk)),
            lambda: album_move(album=Album.objects.get(pk=b.pk), parent=Album.objects.get(pk=a.pk)),
        ]
    )
    assert len(errors) == 1 and isinstance(errors[0], AlbumError)
    parents = dict(Album.objects.values_list("pk", "parent_id"))
    assert None in (parents[a.pk], parents[b.pk])
