"""Purges: everything from a user or an address, hidden at once, deleted in batches."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.models import AuditEntry
from moderation import services, tasks
from moderation.models import PurgeJob
from social.models import Follow, Like
from social.services import follow_add, like_add
from tests.conftest import files_under
from tests.factories import make_album, make_image, make_user
from uploads.counters import image_counts_changed
from uploads.models import Image
from uploads.selectors import image_viewer_path


def bulk_images(count: int, *, owner: User | None, ip: str = "198.51.100.9", prefix: str) -> None:
    """Rows with an original and a thumb each, counted on their owner like real uploads."""
    now = timezone.now()
    rows = []
    for n in range(count):
        path = f"images/2026/01/01/{prefix}{n}.png"
        default_storage.save(path, ContentFile(b"png"))
        default_storage.save(path.replace(".png", ".th.png"), ContentFile(b"th"))
        rows.append(
            Image(
                user=owner,
                uploader_ip=ip,
                path=path,
                mime="image/png",
                size=3,
                width=10,
                height=10,
                md5="0" * 32,
                created_at=now,
                chain=Image.CHAIN_IMAGE | Image.CHAIN_THUMB,
            )
        )
    Image.objects.bulk_create(rows)
    image_counts_changed(added=[(owner.pk if owner else None, None)] * count)


@pytest.fixture
def spammer(db: None) -> User:
    return make_user("spammer")


def test_a_purge_hides_every_upload_of_the_user_at_once(
    spammer: User, admin_user: User, client: Client
) -> None:
    image = make_image(owner=spammer)
    with mock.patch.object(services, "purge_enqueue"):  # the worker has not run yet
        job = services.purge_start(actor=admin_user, user=spammer)
    assert Image.objects.filter(pk=image.pk).exists()
    assert client.get(image_viewer_path(image)).status_code == 404
    assert job.status == PurgeJob.Status.PENDING and job.images_total == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_deletes_the_users_uploads_files_and_albums_in_batches(
    media_root: Path, admin_user: User
) -> None:
    spammer = make_user("spammer")
    bystander = make_user("bystander")
    album = make_album(owner=spammer, name="Junk")
    make_album(owner=spammer, name="Inner", parent=album)
    bulk_images(450, owner=spammer, prefix="spam")
    bulk_images(3, owner=bystander, prefix="keep", ip="192.0.2.1")
    with mock.patch.object(services, "purge_enqueue"):
        job = services.purge_start(actor=admin_user, user=spammer)
    assert Album.objects.filter(owner=spammer).count() == 0
    job = services.purge_run(job_id=job.pk, batch_size=200)
    assert job is not None and job.status == PurgeJob.Status.DONE
    assert (job.images_deleted, job.files_deleted, job.albums_deleted) == (450, 900, 2)
    assert not Image.objects.filter(user=spammer).exists()
    assert len(files_under(media_root)) == 6  # the bystander's three uploads, two files each
    spammer.refresh_from_db()
    bystander.refresh_from_db()
    assert (spammer.image_count, spammer.album_count, spammer.is_active) == (0, 0, True)
    assert bystander.image_count == 3


@pytest.mark.django_db(transaction=True)
def test_a_purge_by_address_deletes_guest_and_user_uploads_from_it(admin_user: User) -> None:
    someone = make_user("someone")
    bulk_images(4, owner=None, prefix="guest", ip="2001:db8::7")
    bulk_images(2, owner=someone, prefix="user", ip="2001:db8::7")
    bulk_images(2, owner=someone, prefix="other", ip="2001:db8::8")
    job = services.purge_start(actor=admin_user, ip="2001:DB8:0::7")
    job.refresh_from_db()
    assert job.ip == "2001:db8::7" and job.status == PurgeJob.Status.DONE
    assert Image.objects.count() == 2
    someone.refresh_from_db()
    assert someone.image_count == 2 and someone.is_active


@pytest.mark.django_db(transaction=True)
def test_a_run_stops_after_its_share_and_the_next_run_carries_on(admin_user: User) -> None:
    spammer = make_user("spammer")
    bulk_images(50, owner=spammer, prefix="spam")
    with mock.patch.object(services, "purge_enqueue"):
        job = services.purge_start(actor=admin_user, user=spammer)
    job = services.purge_run(job_id=job.pk, max_batches=2, batch_size=10)
    assert job is not None and job.status == PurgeJob.Status.RUNNING
    assert job.images_deleted == 20 and job.lease_until is None
    assert services.purges_to_resume() == [job.pk]
    job = services.purge_run(job_id=job.pk, batch_size=10)
    assert job is not None and job.status == PurgeJob.Status.DONE and job.images_deleted == 50


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_a_batch_commits_leaves_its_files_for_the_next_run(
    media_root: Path, admin_user: User
) -> None:
    spammer = make_user("spammer")
    bulk_images(5, owner=spammer, prefix="spam")
    with mock.patch.object(services, "purge_enqueue"):
        job = services.purge_start(actor=admin_user, user=spammer)
    killed = mock.patch.object(services, "stored_files_delete", side_effect=SystemExit("killed"))
    with killed, pytest.raises(SystemExit):
        services.purge_run(job_id=job.pk, batch_size=5)
    job.refresh_from_db()
    assert Image.objects.count() == 0 and len(job.pending_files) == 10
    assert len(files_under(media_root)) == 10
    # The dead worker's lease lapses; the periodic resume hands the job to another run.
    PurgeJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert tasks.purge_resume() == 1
    job.refresh_from_db()
    assert job.status == PurgeJob.Status.DONE and job.files_deleted == 10
    assert files_under(media_root) == []


@pytest.mark.django_db(transaction=True)
def test_a_live_worker_keeps_its_job_from_a_second_run(admin_user: User) -> None:
    spammer = make_user("spammer")
    bulk_images(2, owner=spammer, prefix="spam")
    with mock.patch.object(services, "purge_enqueue"):
        job = services.purge_start(actor=admin_user, user=spammer)
    PurgeJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() + timedelta(minutes=5))
    assert services.purge_run(job_id=job.pk) is None
    assert services.purges_to_resume() == []
    assert Image.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_deleting_the_user_at_the_end_keeps_others_counters_right(admin_user: User) -> None:
    spammer = make_user("spammer")
    friend = make_user("friend")
    liked = make_image(owner=friend)
    like_add(user=spammer, image=liked)
    follow_add(follower=spammer, followed=friend)
    follow_add(follower=friend, followed=spammer)
    make_image(owner=spammer)
    with mock.patch.object(services, "purge_enqueue"):
        job = services.purge_start(actor=admin_user, user=spammer, delete_user=True)
    spammer.refresh_from_db()
    assert not spammer.is_active  # no logins while the worker deletes
    job = services.purge_run(job_id=job.pk)
    assert job is not None and job.user_deleted and job.user_id is None
    assert job.username == "spammer"
    assert not User.objects.filter(username="spammer").exists()
    liked.refresh_from_db()
    friend.refresh_from_db()
    assert liked.likes == 0 and (friend.followers_count, friend.following_count) == (0, 0)
    assert not Like.objects.exists() and not Follow.objects.exists()


def test_starting_a_purge_writes_one_audit_entry(spammer: User, admin_user: User) -> None:
    with mock.patch.object(services, "purge_enqueue"):
        services.purge_start(actor=admin_user, user=spammer, source="dashboard")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.target_id) == (
        "purge.start",
        "dashboard",
        str(spammer.pk),
    )


def test_starting_the_same_purge_twice_returns_the_running_job(
    spammer: User, admin_user: User
) -> None:
    with mock.patch.object(services, "purge_enqueue"):
        first = services.purge_start(actor=admin_user, user=spammer)
        second = services.purge_start(actor=admin_user, user=spammer, delete_user=True)
    assert first.pk == second.pk and second.delete_user
    assert PurgeJob.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a user or an IP"),
        ({"ip": "10.0.0.0/8"}, "not an IP address"),
        ({"ip": "not-an-ip"}, "not an IP address"),
        ({"ip": "192.0.2.1", "delete_user": True}, "Only a purge of a user"),
    ],
)
def test_a_purge_without_a_proper_target_is_refused(
    admin_user: User, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        services.purge_start(actor=admin_user, **kwargs)  # type: ignore[arg-type]
    assert not PurgeJob.objects.exists()


def test_an_admin_cannot_purge_themselves(admin_user: User) -> None:
    with pytest.raises(ValidationError, match="your own account"):
        services.purge_start(actor=admin_user, user=admin_user)


def test_the_worker_is_asked_only_once_the_transaction_commits(
    spammer: User, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch.object(tasks.purge_run, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = services.purge_start(actor=admin_user, user=spammer)
        delay.assert_not_called()
    delay.assert_called_once_with(job.pk)


def test_a_broker_that_is_down_leaves_the_job_for_the_periodic_resume(
    spammer: User, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch.object(tasks.purge_run, "delay", side_effect=OSError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = services.purge_start(actor=admin_user, user=spammer)
    assert services.purges_to_resume() == [job.pk]


def test_beat_resumes_unfinished_purges_periodically(settings: Any) -> None:
    entries = settings.CELERY_BEAT_SCHEDULE.values()
    assert any(entry["task"] == "moderation.tasks.purge_resume" for entry in entries)
