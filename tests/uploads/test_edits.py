"""Editing and deleting uploads after ingest (uploads.edits), without HTTP; and the private
profile rule of upload listings (uploads.selectors)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from albums.selectors import GUEST, viewer_for_user
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests import samples
from tests.factories import make_album, make_image, make_user, source_file
from uploads.edits import (
    image_changes,
    image_changes_from,
    image_edit,
    images_bulk_delete,
    images_bulk_edit,
)
from uploads.errors import UploadError
from uploads.files import all_files
from uploads.models import Category, Image, Tag
from uploads.selectors import (
    image_listed_for,
    image_visible_to,
    images_of_actor,
    images_visible_to,
)
from uploads.services import image_upload

pytestmark = pytest.mark.django_db


def refused(call, status: int) -> UploadError:
    with pytest.raises(UploadError) as caught:
        call()
    assert caught.value.status == status
    return caught.value


def fresh(image: Image) -> Image:
    return Image.objects.get(pk=image.pk)


# --- One upload ----------------------------------------------------------------------------


def test_an_edit_changes_only_the_fields_given(user: User) -> None:
    image = make_image(owner=user, title="Before", description="Kept")
    image_edit(image=image, actor=user, title="  After   dark ", nsfw=True)
    row = fresh(image)
    assert (row.title, row.description, row.nsfw) == ("After dark", "Kept", True)


def test_none_clears_title_description_tags_and_category(user: User) -> None:
    category = Category.objects.create(name="Sea", slug="sea")
    image = make_image(owner=user, description="Words", category=category)
    image_edit(image=image, actor=user, tags="a, b")
    image_edit(image=image, actor=user, title=None, description=None, tags=None, category_id=None)
    row = fresh(image)
    assert (row.title, row.description, row.category_id) == ("", "", None)
    assert list(row.tags.all()) == []


def test_tags_come_as_a_comma_string_or_a_list_deduplicated_ignoring_case(user: User) -> None:
    image = make_image(owner=user)
    image_edit(image=image, actor=user, tags=["Sea", "sea", "Dawn"])
    assert sorted(t.name for t in fresh(image).tags.all()) == ["Dawn", "Sea"]
    image_edit(image=image, actor=user, tags="boat,  harbour lights ")
    assert sorted(t.name for t in fresh(image).tags.all()) == ["boat", "harbour lights"]


def test_an_upload_given_one_tag_under_two_cases_links_it_once(user: User, tmp_path) -> None:
    Tag.objects.create(name="Sea", slug="sea")
    data = samples.png_bytes(40, 30)
    with source_file(tmp_path / "cat.png", data, name="cat.png") as source:
        result = image_upload(source=source, user=user, ip="10.0.0.1", tags=["sea", "SEA", "Dawn"])
    assert [t.name for t in result.image.tags.all()] == ["Dawn", "Sea"]
    assert [t.name for t in fresh(result.image).tags.all()] == ["Dawn", "Sea"]


def test_an_edit_refuses_what_an_upload_refuses(user: User) -> None:
    image = make_image(owner=user, title="Same")
    refused(lambda: image_edit(image=image, actor=user, title="x" * 101), 400)
    refused(
        lambda: image_edit(image=image, actor=user, tags=",".join(f"t{i}" for i in range(31))), 400
    )
    refused(lambda: image_edit(image=image, actor=user, category_id=999), 404)
    refused(lambda: image_edit(image=image, actor=user, expires_at="P2Y"), 400)
    refused(lambda: image_edit(image=image, actor=user, expires_at="30"), 400)
    assert fresh(image).title == "Same"


def test_wrong_types_are_a_400_not_a_crash(user: User) -> None:
    for bad in (
        {"title": 5},
        {"tags": {"a": 1}},
        {"tags": [1, 2]},
        {"is_nsfw": "maybe"},
        {"is_nsfw": 2},
        {"category_id": 1.5},
        {"category_id": True},
        {"expiration": [60]},
        {"album_id": 7},
        {"description": ["x"]},
    ):
        refused(lambda bad=bad: image_changes_from(bad, actor=user), 400)


def test_expiration_takes_an_iso_duration_or_seconds_and_zero_means_never(user: User) -> None:
    image = make_image(owner=user)
    before = timezone.now()
    image_edit(image=image, actor=user, expires_at="PT5M")
    assert timedelta(minutes=4) < fresh(image).expires_at - before <= timedelta(minutes=6)
    image_edit(image=image, actor=user, expires_at="3600")
    assert timedelta(minutes=59) < fresh(image).expires_at - before <= timedelta(minutes=61)
    image_edit(image=image, actor=user, expires_at="0")
    assert fresh(image).expires_at is None


def test_expiration_is_refused_when_the_site_disables_expiring_uploads(user: User) -> None:
    site = SiteSettings.load()
    site.expirable_uploads = False
    site.save()
    SiteSettings.clear_cache()
    image = make_image(owner=user)
    refused(lambda: image_edit(image=image, actor=user, expires_at="PT5M"), 400)


def test_only_staff_may_approve_or_unapprove(user: User, admin_user: User) -> None:
    image = make_image(owner=user, is_approved=False)
    error = refused(lambda: image_edit(image=image, actor=user, is_approved=True), 403)
    assert "staff" in error.message
    image_edit(image=image, actor=admin_user, is_approved=True)
    assert fresh(image).is_approved is True


def test_someone_elses_upload_cannot_be_edited(user: User, other_user: User) -> None:
    image = make_image(owner=other_user, title="Theirs")
    refused(lambda: image_edit(image=image, actor=user, title="Mine now"), 403)
    assert fresh(image).title == "Theirs"


def test_moving_into_an_album_keeps_both_counts(user: User) -> None:
    first = make_album(owner=user, name="First")
    second = make_album(owner=user, name="Second")
    image = make_image(owner=user, album=first)
    image_edit(image=image, actor=user, album=second)
    assert fresh(image).album_id == second.pk
    counts = dict(Album.objects.values_list("name", "image_count"))
    assert counts == {"First": 0, "Second": 1}
    image_edit(image=image, actor=user, album=None)
    assert fresh(image).album_id is None
    assert Album.objects.get(pk=second.pk).image_count == 0


def test_an_upload_only_goes_into_its_uploaders_albums_even_when_staff_moves_it(
    user: User, other_user: User, admin_user: User
) -> None:
    theirs = make_album(owner=other_user)
    staffs = make_album(owner=admin_user)
    image = make_image(owner=user)
    refused(lambda: image_edit(image=image, actor=user, album=theirs), 403)
    refused(lambda: image_edit(image=image, actor=admin_user, album=staffs), 403)
    assert fresh(image).album_id is None
    mine = make_album(owner=user)
    image_edit(image=image, actor=admin_user, album=mine)
    assert fresh(image).album_id == mine.pk


def test_a_bad_value_changes_nothing_even_beside_good_ones(user: User) -> None:
    image = make_image(owner=user, title="Kept")
    refused(lambda: image_edit(image=image, actor=user, title="New", tags="x" * 51), 400)
    assert fresh(image).title == "Kept"


# --- Many uploads -------------------------------------------------------------------------


def test_bulk_edit_reports_each_id_and_changes_only_the_callers_uploads(
    user: User, other_user: User
) -> None:
    mine = [make_image(owner=user, title=f"Mine {i}") for i in range(2)]
    theirs = make_image(owner=other_user, title="Theirs")
    ids = [encode_id(i.pk) for i in mine] + [encode_id(theirs.pk), "!!bad", encode_id(10**9)]
    changes = image_changes(actor=user, title="Renamed", nsfw=True)
    report = images_bulk_edit(actor=user, encoded_ids=ids, changes=changes)
    assert report.edited == [i.pk for i in mine]
    assert [failed_id for failed_id, _ in report.failed] == ids[2:]
    assert all(reason == "Image not found." for _, reason in report.failed)
    assert {fresh(i).title for i in mine} == {"Renamed"}
    assert fresh(theirs).title == "Theirs"


def test_bulk_move_fails_only_the_uploads_the_album_cannot_take(
    user: User, other_user: User, admin_user: User
) -> None:
    album = make_album(owner=user)
    alices = make_image(owner=user)
    bobs = make_image(owner=other_user)
    changes = image_changes(actor=admin_user, album=album)
    ids = [encode_id(alices.pk), encode_id(bobs.pk)]
    report = images_bulk_edit(actor=admin_user, encoded_ids=ids, changes=changes)
    assert report.edited == [alices.pk]
    assert report.failed == [(encode_id(bobs.pk), "Invalid album: it is not yours")]
    assert Album.objects.get(pk=album.pk).image_count == 1


def test_bulk_delete_removes_rows_counts_and_then_files(
    user: User, other_user: User, django_capture_on_commit_callbacks
) -> None:
    album = make_album(owner=user)
    mine = make_image(owner=user, album=album)
    theirs = make_image(owner=other_user)
    names = [f.name for f in all_files(mine)]
    assert all(default_storage.exists(n) for n in names)
    with django_capture_on_commit_callbacks(execute=True):
        report = images_bulk_delete(
            actor=user, encoded_ids=[encode_id(mine.pk), encode_id(theirs.pk)]
        )
    assert report.edited == [mine.pk]
    assert report.failed == [(encode_id(theirs.pk), "Image not found.")]
    assert not Image.objects.filter(pk=mine.pk).exists()
    assert Image.objects.filter(pk=theirs.pk).exists()
    assert not any(default_storage.exists(n) for n in names)
    assert Album.objects.get(pk=album.pk).image_count == 0
    assert User.objects.get(pk=user.pk).image_count == 0


def test_staff_manage_anyones_uploads_but_expired_ones_are_gone_for_everyone(
    user: User, admin_user: User
) -> None:
    live = make_image(owner=user)
    expired = make_image(owner=user, expires_at=timezone.now() - timedelta(minutes=1))
    assert list(images_of_actor(actor=admin_user)) == [live]
    assert list(images_of_actor(actor=user)) == [live]
    report = images_bulk_delete(actor=admin_user, encoded_ids=[encode_id(expired.pk)])
    assert report.edited == []


# --- Private profiles in listings ---------------------------------------------------------


def test_a_private_profiles_uploads_are_listed_only_for_its_owner_and_staff(
    user: User, other_user: User, admin_user: User
) -> None:
    private = make_user("hermit", is_private=True)
    hidden = make_image(owner=private)
    shown = make_image(owner=user)
    hidden = Image.objects.select_related("user", "album").get(pk=hidden.pk)
    for viewer, sees in (
        (GUEST, False),
        (viewer_for_user(user=other_user), False),
        (viewer_for_user(user=private), True),
        (viewer_for_user(user=admin_user), True),
    ):
        listed = set(images_visible_to(viewer=viewer))
        assert (hidden in listed) is sees
        assert shown in listed
        # The one-row rule agrees with the listing.
        assert image_listed_for(viewer=viewer, image=hidden) is sees


def test_a_link_to_a_private_profiles_upload_still_opens(other_user: User) -> None:
    private = make_user("hermit", is_private=True)
    image = Image.objects.select_related("user").get(pk=make_image(owner=private).pk)
    assert image_visible_to(viewer=viewer_for_user(user=other_user), image=image)
    assert image_visible_to(viewer=GUEST, image=image)


def test_making_a_profile_private_takes_its_uploads_out_of_listings(user: User) -> None:
    image = make_image(owner=user)
    assert image in set(images_visible_to(viewer=GUEST))
    User.objects.filter(pk=user.pk).update(is_private=True)
    assert image not in set(images_visible_to(viewer=GUEST))


def test_tags_whose_slugs_collide_are_both_kept(user: User) -> None:
    # "!" and "?" both slug to "tag"; "Straße" and "straße" differ only by case.
    image = make_image(owner=user)
    image_edit(image=image, actor=user, tags=["!", "?", "Straße"])
    image_edit(image=image, actor=user, tags="!, ?, straße, Straße")
    names = sorted(t.name for t in fresh(image).tags.all())
    assert {"!", "?", "Straße"} <= set(names)
