from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from albums.models import Album
from social.tasks import fold_views
from tests.factories import make_album, make_image
from uploads.models import Image, ViewHit
from uploads.selectors import image_viewer_path
from uploads.viewcounts import view_record, views_fold

pytestmark = pytest.mark.django_db


def _views(obj: Image | Album) -> int:
    obj.refresh_from_db(fields=["views"])
    return obj.views


def test_a_view_is_one_insert_and_touches_no_counter(user: User) -> None:
    image = make_image(owner=user)
    with CaptureQueriesContext(connection) as queries:
        view_record(image_id=image.pk)
    writes = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT")
    assert _views(image) == 0


def test_n_views_become_n_after_a_fold(user: User) -> None:
    image, other = make_image(owner=user), make_image(owner=user)
    album = make_album(owner=user)
    for _ in range(7):
        view_record(image_id=image.pk)
    view_record(image_id=other.pk)
    for _ in range(3):
        view_record(album_id=album.pk)
    assert views_fold(batch_size=4) == 11
    assert (_views(image), _views(other), _views(album)) == (7, 1, 3)
    assert not ViewHit.objects.exists()


def test_folding_twice_counts_each_view_once(user: User) -> None:
    image = make_image(owner=user)
    for _ in range(5):
        view_record(image_id=image.pk)
    views_fold()
    assert views_fold() == 0
    assert _views(image) == 5


def test_views_of_a_deleted_image_are_dropped(user: User) -> None:
    image = make_image(owner=user)
    view_record(image_id=image.pk)
    Image.objects.filter(pk=image.pk).delete()
    assert views_fold() == 1 and not ViewHit.objects.exists()


def test_the_beat_task_folds_the_views(user: User) -> None:
    image = make_image(owner=user)
    view_record(image_id=image.pk)
    assert fold_views.delay().get() == 1
    assert _views(image) == 1


def test_the_fold_is_on_the_beat_schedule(settings) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "social.tasks.fold_views" in tasks


def test_the_viewer_page_records_a_view_per_get_and_none_per_head(
    client: Client, user: User
) -> None:
    image = make_image(owner=user)
    path = image_viewer_path(image)
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    assert client.head(path).status_code == 200
    views_fold()
    assert _views(image) == 2


def test_a_hidden_image_records_no_view(client: Client, user: User) -> None:
    image = make_image(owner=user, is_approved=False)
    assert client.get(image_viewer_path(image)).status_code == 404
    assert not ViewHit.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_folds_at_once_count_each_view_once() -> None:
    owner = User.objects.create_user(username="owner", email="o@example.com", password="x")
    image = make_image(owner=owner)
    ViewHit.objects.bulk_create([ViewHit(image_id=image.pk) for _ in range(200)])
    results: list[int] = []
    errors: list[BaseException] = []

    def fold() -> None:
        try:
            results.append(views_fold(batch_size=9))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fold) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(results) == 200
    assert _views(image) == 200 and not ViewHit.objects.exists()
