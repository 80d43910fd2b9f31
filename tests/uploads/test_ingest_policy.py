"""`image_upload` runs every policy check itself: no caller can skip one."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from accounts.models import User
from albums.models import Album
from chevereto.core.models import SiteSettings
from tests import samples
from tests.factories import source_file
from uploads.errors import UploadError
from uploads.models import Image
from uploads.services import image_upload, upload_precheck
from uploads.sources import Origin, SourceFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def png_source(tmp_path: Path):
    def make(origin: str = Origin.FILE) -> SourceFile:
        data = samples.png_bytes(40, 30)
        return source_file(tmp_path / f"source-{origin}.png", data, name="cat.png", origin=origin)

    return make


def refused(**kwargs: object) -> UploadError:
    with pytest.raises(UploadError) as caught:
        image_upload(**kwargs)  # type: ignore[arg-type]
    assert Image.objects.count() == 0
    return caught.value


def test_a_url_source_is_refused_for_a_user_who_may_not_upload_urls(user: User, png_source) -> None:
    error = refused(source=png_source(Origin.URL), user=user, ip="10.0.0.1")
    assert (error.status, error.code) == (403, 403)


def test_a_url_source_is_accepted_for_an_admin(admin_user: User, png_source) -> None:
    with png_source(Origin.URL) as source:
        result = image_upload(source=source, user=admin_user, ip="10.0.0.1")
    assert result.created and result.image.user == admin_user


def test_guests_are_refused_when_guest_uploads_are_off(site: SiteSettings, png_source) -> None:
    site.guest_uploads = False
    site.save()
    error = refused(source=png_source(), user=None, ip="10.0.0.1")
    assert (error.status, error.code) == (403, 401)


def test_an_inactive_user_is_refused(user: User, png_source) -> None:
    user.is_active = False
    user.save()
    error = refused(source=png_source(), user=user, ip="10.0.0.1")
    assert (error.status, error.code) == (403, 401)


def test_the_flood_limit_is_applied_by_the_service(
    site: SiteSettings, user: User, png_source
) -> None:
    site.flood_per_minute = 1
    site.save()
    with png_source() as source:
        image_upload(source=source, user=user, ip="10.0.0.1", title="first")
    with pytest.raises(UploadError) as caught:
        image_upload(source=png_source(), user=user, ip="10.0.0.1", title="second")
    assert caught.value.status == 429


def test_the_size_limit_is_applied_by_the_service(site: SiteSettings, png_source) -> None:
    site.guest_max_filesize_mb = 1
    site.save()
    source = png_source()
    source.size = 1024 * 1024 + 1  # what a careless caller might hand over
    error = refused(source=source, user=None, ip="10.0.0.1")
    assert error.status == 413


def test_an_album_of_another_user_is_refused_by_the_service(
    user: User, other_user: User, png_source
) -> None:
    album = Album.objects.create(owner=other_user, name="Bob's")
    error = refused(source=png_source(), user=user, ip=None, album_id=album.pk)
    assert (error.status, error.code) == (403, 400)
    error = refused(source=png_source(), user=None, ip=None, album_id=album.pk)
    assert (error.status, error.code) == (403, 400)


def test_expiring_uploads_are_refused_when_the_site_turned_them_off(
    site: SiteSettings, user: User, png_source
) -> None:
    from django.utils import timezone

    site.expirable_uploads = False
    site.save()
    error = refused(
        source=png_source(),
        user=user,
        ip=None,
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    assert error.status == 400


def test_use_file_date_is_refused_for_users_by_the_service(user: User, png_source) -> None:
    error = refused(source=png_source(), user=user, ip=None, use_file_date=True)
    assert (error.status, error.code) == (403, 401)


def test_an_unknown_category_is_refused_by_the_service(user: User, png_source) -> None:
    error = refused(source=png_source(), user=user, ip=None, category_id=999)
    assert (error.status, error.code) == (400, 400)


def test_the_precheck_refuses_a_url_before_anything_is_fetched(user: User) -> None:
    with pytest.raises(UploadError) as caught:
        upload_precheck(user=user, ip=None, origin=Origin.URL)
    assert caught.value.status == 403
    upload_precheck(user=user, ip=None, origin=Origin.BASE64)


def test_a_probe_error_never_shows_a_server_path(user: User, tmp_path: Path) -> None:
    data = samples.truncated_jpeg_bytes()
    path = tmp_path / "deep" / "secret-folder" / "upload.tmp"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    source = SourceFile(path=str(path), size=len(data), md5=hashlib.md5(data).hexdigest())
    error = refused(source=source, user=user, ip=None)
    assert str(tmp_path) not in error.message and "secret-folder" not in error.message
    shutil.rmtree(path.parent)


def test_an_image_whose_metadata_cannot_be_removed_is_refused_not_stored_with_it(
    site: SiteSettings, user: User, png_source, media_root: Path, settings
) -> None:
    from unittest import mock

    from tests.conftest import files_under
    from uploads import metadata

    site.keep_exif = False
    site.save()
    failing = mock.patch.object(
        metadata, "strip_metadata", side_effect=metadata.MetadataError("unsupported layout")
    )
    with failing, png_source() as source:
        error = refused(source=source, user=user, ip=None)
    assert (error.status, error.code) == (400, 400)
    assert "metadata" in error.message
    assert files_under(media_root) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []
