"""import_chevereto against a real MariaDB holding a Chevereto 4.2-shaped site: every old
URL answers the same content afterwards, users sign in with their old passwords, and new
rows get ids above the imported ones."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from albums.models import Album
from chevereto.core.idcodec import IdCodec
from chevereto.core.models import SiteSettings
from imports.models import ImportIssue, ImportItem, ImportJob
from imports.runner import job_run
from imports.services import import_job_create
from social.models import Follow, Like
from tests.conftest import require_env
from tests.imports.chevereto_site import ChevSite, drop, read_only_url
from tests.imports.chevereto_site import Follow as SrcFollow
from tests.imports.chevereto_site import Like as SrcLike
from uploads.models import Image

SALT, PADDING = "2c4d6f8a", 999
LONG_PASSWORD = "correct horse battery staple " * 3  # 87 bytes: PHP's bcrypt used 72 of them


def v42_site() -> ChevSite:
    site = ChevSite(version="4.2", salt=SALT, padding=PADDING)
    alice = site.user(
        "alice", name="Alice A.", password="alice-old-pw", is_admin=True, bio="hi", avatar="av.jpg"
    )
    bob = site.user("bob", password=LONG_PASSWORD)
    site.user("carol", status="banned")
    trip = site.album(alice, "Trip to the coast", description="Sea")
    site.album(alice, "Day one", parent_id=trip.id, cover_id=1)
    site.album(alice, "Secret", privacy="password", password="open-sesame")
    site.album(bob, "Link only", privacy="private_but_link")
    site.album(bob, "Chosen people", privacy="custom")
    site.category(4, "Animals", "animals")
    # 01:30 UTC is 22:30 the day before on the old site's clock: that day's folder.
    site.image(alice, album_id=trip.id, title="Cat on a mat", tags=("cats", "Pets"),
               date=datetime(2022, 3, 4, 1, 30, tzinfo=UTC), width=900, height=600,
               with_medium=True, category_id=4, views=17)  # fmt: skip
    site.image(bob, type=2, extension="mp4", title="Waves", with_frame=True, duration=4)
    site.image(None, title="Guest upload", storage_mode="direct", nsfw=True)
    site.image(alice, album_id=2, title="Harbour", storage_mode="path", path="2014/old-folder",
               extension="png", is_approved=False)  # fmt: skip
    site.image(alice, title="Gone file", write_file=False)
    site.image(alice, id=40, title="Kept until 2100", expires=datetime(2100, 1, 1, tzinfo=UTC))
    site.image(alice, id=41, title="In a deleted album", album_id=77)
    site.raw_rows.append(("images", _orphan_image_row(site, 42)))
    site.likes += [SrcLike(2, "image", 1), SrcLike(2, "album", 1), SrcLike(2, "image", 999)]
    site.follows += [SrcFollow(2, 1), SrcFollow(1, 2), SrcFollow(2, 55)]
    site.bans += [
        ("198.51.100.7", "Go away", None),
        ("10.1.*.*", "Not from this range", datetime(2100, 1, 1, tzinfo=UTC)),
        ("192.0.2.1", "Expired long ago", datetime(2020, 1, 1, tzinfo=UTC)),
        ("1.*.3.4", "A wildcard in the middle", None),
    ]
    return site


def _orphan_image_row(site: ChevSite, image_id: int) -> dict[str, object]:
    # An upload whose user row is gone (deleted by hand on the old site).
    when = datetime(2022, 1, 1)
    return dict(image_id=image_id, image_name="orphan", image_extension="jpg", image_size=1,
                image_width=1, image_height=1, image_date=when, image_date_gmt=when,
                image_user_id=99, image_storage_mode="datefolder")  # fmt: skip


@pytest.fixture
def mariadb() -> str:
    # No MariaDB, no test run: `make test` starts one (scripts/test-services.sh).
    return require_env("TEST_MARIADB_URL")


@pytest.fixture
def old_media(tmp_path: Path) -> Path:
    root = tmp_path / "chevereto"
    root.mkdir()
    return root


@pytest.fixture
def made(mariadb: str, old_media: Path) -> Iterator[tuple[ChevSite, str]]:
    site = v42_site()
    url = site.create(server_url=mariadb, media_root=old_media)
    try:
        yield site, read_only_url(url)
    finally:
        drop(url)


def run_import(db_url: str, media: Path, **options: object) -> ImportJob:
    job = import_job_create(
        kind=ImportJob.Kind.CHEVERETO,
        options={"db": db_url, "media": str(media), **options},
        actor=None,
        enqueue=False,
    )
    return job_run(job.pk)


@pytest.fixture
def imported(db: None, made: tuple[ChevSite, str], old_media: Path) -> ImportJob:
    return run_import(made[1], old_media)


old = IdCodec(SALT, PADDING)


def test_the_import_ends_done_with_missing_files_and_orphan_rows_reported(
    imported: ImportJob,
) -> None:
    assert imported.status == ImportJob.Status.DONE, imported.error
    issues = {(i.key, i.kind) for i in ImportIssue.objects.filter(job=imported)}
    assert ("image:5", "missing") in issues
    assert ("image:42", "orphan") in issues
    assert ("image:41", "orphan") in issues  # imported, outside the album that is gone
    assert ("like:3", "orphan") in issues
    assert ("follow:3", "orphan") in issues
    assert ("ipban:4", "unsupported") in issues
    # 3 users, 5 albums, 8 image rows, 3 likes, 3 follows, 4 bans: every row accounted for.
    assert imported.total == 26
    assert imported.processed == 26
    assert (imported.imported, imported.skipped, imported.failed) == (20, 1, 5)
    assert sorted(Image.objects.values_list("pk", flat=True)) == [1, 2, 3, 4, 40, 41]


def test_the_site_takes_the_old_salt_and_padding(imported: ImportJob) -> None:
    site = SiteSettings.load()
    assert (site.id_salt, site.id_padding) == (SALT, PADDING)


def test_old_viewer_urls_answer_the_same_uploads(imported: ImportJob, client: Client) -> None:
    page = client.get(f"/image/cat-on-a-mat.{old.encode(1)}")
    assert page.status_code == 200
    assert b"Cat on a mat" in page.content
    short = client.get(f"/image/{old.encode(1)}")
    assert short.status_code == 301
    assert short["Location"] == f"/image/cat-on-a-mat.{old.encode(1)}"
    video = client.get(f"/video/waves.{old.encode(2)}")
    assert video.status_code == 200
    assert b"Waves" in video.content
    guest = client.get(f"/image/guest-upload.{old.encode(3)}")
    assert guest.status_code == 200


def test_old_album_urls_answer_with_their_privacy(imported: ImportJob, client: Client) -> None:
    trip = client.get(f"/album/trip-to-the-coast.{old.encode(1)}")
    assert trip.status_code == 200
    assert b"Trip to the coast" in trip.content
    secret = client.get(f"/album/{old.encode(3)}")
    assert secret.status_code in (200, 401, 403)
    assert b"password" in secret.content.lower()
    privacy = dict(Album.objects.values_list("pk", "privacy"))
    assert privacy == {
        1: "public",
        2: "public",
        3: "password",
        4: "private_but_link",
        5: "private",
    }


def test_the_album_password_opens_the_album_and_is_not_stored_in_clear(
    imported: ImportJob, client: Client
) -> None:
    secret = Album.objects.get(pk=3)
    assert "open-sesame" not in secret.password_hash
    gate = client.get(f"/album/{old.encode(3)}").content.decode()
    token = re.search(r'name="auth_token" value="([^"]+)"', gate)
    assert token is not None
    opened = client.post(
        f"/album/{old.encode(3)}", {"content-password": "open-sesame", "auth_token": token[1]}
    )
    assert opened.status_code == 303
    assert client.get(f"/album/secret.{old.encode(3)}").status_code == 200


def test_nesting_covers_counters_and_dates_are_kept(imported: ImportJob) -> None:
    day_one = Album.objects.get(pk=2)
    assert day_one.parent_id == 1
    assert day_one.cover_id == 1
    trip = Album.objects.get(pk=1)
    assert trip.image_count == 1
    assert trip.likes == 1
    assert trip.created_at == datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)
    alice = User.objects.get(username="alice")
    assert alice.image_count == 4
    assert alice.album_count == 3
    assert alice.followers_count == 1
    assert alice.following_count == 1


def test_upload_fields_come_across(imported: ImportJob) -> None:
    cat = Image.objects.get(pk=1)
    assert cat.path == "images/2022/03/03/pic-1.jpg"
    assert cat.created_at == datetime(2022, 3, 4, 1, 30, tzinfo=UTC)
    assert cat.views == 17
    assert cat.likes == 1
    assert cat.category is not None and cat.category.slug == "animals"
    assert sorted(t.name for t in cat.tags.all()) == ["Pets", "cats"]
    assert cat.chain == Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
    assert (cat.medium_width, cat.medium_height) == (20, 15)
    assert cat.uploader_ip == "203.0.113.9"
    video = Image.objects.get(pk=2)
    assert video.kind == "video" and video.mime == "video/mp4" and video.duration == 4
    assert video.chain == Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_FRAME
    guest = Image.objects.get(pk=3)
    assert guest.user_id is None and guest.nsfw and guest.path == "images/pic-3.jpg"
    harbour = Image.objects.get(pk=4)
    assert harbour.path == "images/2014/old-folder/pic-4.png"
    assert harbour.is_approved is False
    assert Image.objects.get(pk=40).expires_at == datetime(2100, 1, 1, tzinfo=UTC)
    assert Image.objects.get(pk=41).album_id is None


def test_old_file_urls_serve_the_same_bytes(
    imported: ImportJob, client: Client, old_media: Path
) -> None:
    for name in (
        "images/2022/03/03/pic-1.jpg",
        "images/2022/03/03/pic-1.th.jpg",
        "images/2022/03/03/pic-1.md.jpg",
        "images/pic-3.jpg",
        "images/pic-3.th.jpg",
        "images/2022/03/04/pic-2.mp4",
        "images/2022/03/04/pic-2.fr.jpeg",
        "images/2022/03/04/pic-2.th.jpeg",
    ):
        answer = client.get(f"/{name}")
        assert answer.status_code == 200, name
        body = b"".join(answer.streaming_content) if answer.streaming else answer.content
        assert body == (old_media / name).read_bytes(), name


def test_the_md5_of_a_copied_original_is_its_content(imported: ImportJob, old_media: Path) -> None:
    cat = Image.objects.get(pk=1)
    assert cat.md5 == hashlib.md5((old_media / cat.path).read_bytes()).hexdigest()


def test_profiles_answer_under_the_old_usernames(imported: ImportJob, client: Client) -> None:
    page = client.get("/alice")
    assert page.status_code == 200
    assert b"Alice A." in page.content


def test_imported_users_sign_in_with_their_old_password_which_is_then_rehashed(
    imported: ImportJob,
) -> None:
    alice = User.objects.get(username="alice")
    assert alice.password.startswith("chevereto_bcrypt$$2y$")
    assert alice.is_superuser and alice.is_staff
    assert authenticate(username="alice", password="wrong") is None
    assert authenticate(username="alice", password="alice-old-pw") == alice
    alice.refresh_from_db()
    assert alice.password.startswith("pbkdf2_sha256$")
    assert authenticate(username="alice", password="alice-old-pw") == alice


def test_a_password_over_72_bytes_signs_in_as_it_did_on_php(imported: ImportJob) -> None:
    assert authenticate(username="bob", password=LONG_PASSWORD) is not None


def test_the_login_page_takes_the_old_password(imported: ImportJob, client: Client) -> None:
    answer = client.post("/login", {"username": "alice", "password": "alice-old-pw"})
    assert answer.status_code == 302
    assert client.session.get("_auth_user_id") == str(User.objects.get(username="alice").pk)


def test_a_banned_user_comes_across_unable_to_sign_in(imported: ImportJob) -> None:
    carol = User.objects.get(username="carol")
    assert carol.is_active is False
    assert (
        not carol.has_usable_password()
        or authenticate(username="carol", password="pw-secret-123") is None
    )


def test_likes_and_follows_come_across(imported: ImportJob) -> None:
    bob = User.objects.get(username="bob")
    alice = User.objects.get(username="alice")
    assert Like.objects.filter(user=bob, image_id=1).exists()
    assert Like.objects.filter(user=bob, album_id=1).exists()
    assert Like.objects.get(user=bob, image_id=1).created_at == datetime(2023, 1, 1, tzinfo=UTC)
    assert Follow.objects.filter(follower=bob, followed=alice).exists()
    assert Follow.objects.filter(follower=alice, followed=bob).exists()


def test_new_rows_get_ids_above_the_imported_ones(imported: ImportJob) -> None:
    from tests.factories import make_album, make_image, make_user

    dave = make_user("dave")
    assert dave.pk > 3
    assert make_album(owner=dave, name="New").pk > 5
    assert make_image(owner=dave).pk > 41  # 42 was the orphan, not imported


def test_a_second_import_into_the_same_site_is_refused(
    imported: ImportJob, made: tuple[ChevSite, str], old_media: Path
) -> None:
    again = run_import(made[1], old_media)
    assert again.status == ImportJob.Status.FAILED
    assert "fresh site" in again.error
    assert Image.objects.count() == 6


def test_an_existing_user_with_the_same_name_and_another_email_stops_the_import(
    db: None, made: tuple[ChevSite, str], old_media: Path
) -> None:
    User.objects.create_user(username="Bob", email="someone-else@example.com", password="x")
    job = run_import(made[1], old_media)
    assert job.status == ImportJob.Status.FAILED
    assert "Bob" in job.error
    assert not Image.objects.exists()


def test_the_site_admin_with_the_same_username_and_email_is_kept_and_not_renamed(
    db: None, made: tuple[ChevSite, str], old_media: Path
) -> None:
    admin = User.objects.create_superuser(
        username="alice", email="alice@example.org", password="new-site-pw-1"
    )
    job = run_import(made[1], old_media)
    assert job.status == ImportJob.Status.DONE, job.error
    assert Image.objects.get(pk=1).user_id == admin.pk
    assert ImportItem.objects.get(job=job, key="user:1").target_id == admin.pk
    # Their own password here stays theirs.
    assert authenticate(username="alice", password="new-site-pw-1") == admin


def test_the_command_imports_and_prints_the_issues(
    db: None, made: tuple[ChevSite, str], old_media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import_chevereto", db=made[1], media=str(old_media), no_progress=True)
    out = capsys.readouterr().out
    assert "done: 20 imported, 1 skipped, 5 failed of 26" in out
    assert "missing: image:5: File not found: images/2022/03/04/pic-5.jpg" in out
    assert Image.objects.count() == 6


def test_an_expired_upload_keeps_its_expiry(db: None, mariadb: str, old_media: Path) -> None:
    site = ChevSite()
    owner = site.user("erin")
    site.image(owner, expires=datetime.now(UTC) - timedelta(days=1))
    url = site.create(server_url=mariadb, media_root=old_media)
    try:
        job = run_import(url, old_media)
    finally:
        drop(url)
    assert job.status == ImportJob.Status.DONE
    assert Image.objects.get(pk=1).expires_at is not None


def test_the_old_sites_ip_bans_apply_here(imported: ImportJob) -> None:
    from chevereto.core.models import IpBan

    bans = dict(IpBan.objects.values_list("ip", "expires_at"))
    assert bans == {"198.51.100.7": None, "10.1.0.0/16": datetime(2100, 1, 1, tzinfo=UTC)}
    assert Client(REMOTE_ADDR="10.1.200.3").get("/").status_code == 403
    assert Client(REMOTE_ADDR="198.51.100.7").get("/").status_code == 403
    assert Client(REMOTE_ADDR="192.0.2.1").get("/").status_code == 200


def test_an_avatar_comes_across_through_the_profile_pipeline(
    imported: ImportJob, client: Client
) -> None:
    alice = User.objects.get(username="alice")
    assert alice.avatar.startswith("profiles/avatars/")
    assert client.get(f"/{alice.avatar}").status_code == 200
