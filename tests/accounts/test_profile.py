"""Profile fields (accounts.services.user_profile_update) and profile images: set through
API V4's user/{username}/assets/ routes with the upload pipeline's checks, served at
/profiles/..."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.db.models.functions import Lower
from django.test import Client
from PIL import Image as PILImage

from accounts.models import User
from accounts.services import user_profile_update
from chevereto.core.models import SiteSettings
from tests import samples
from tests.conftest import files_under
from tests.factories import make_user
from uploads import profile_assets
from uploads.errors import UploadError
from uploads.profile_assets import profile_image_set
from uploads.sources import SourceFile, md5_of_path

pytestmark = pytest.mark.django_db

AVATAR = "/api/4/user/{}/assets/avatar/"
BACKGROUND = "/api/4/user/{}/assets/background/"


# -- the profile service ------------------------------------------------------------------


def test_the_service_strips_and_saves_only_what_it_was_given(user: User) -> None:
    user_profile_update(user=user, name="  Alice  ", timezone="America/New_York")
    user.refresh_from_db()
    assert (user.name, user.timezone, user.bio) == ("Alice", "America/New_York", "")


def test_the_service_changes_nothing_when_one_field_is_wrong(user: User) -> None:
    with pytest.raises(ValidationError) as caught:
        user_profile_update(user=user, name="Alice", website="data:text/html,hi")
    assert set(caught.value.message_dict) == {"website"}
    user.refresh_from_db()
    assert user.name == ""


def test_the_service_refuses_fields_that_are_not_the_profiles(user: User) -> None:
    with pytest.raises(ValidationError) as caught:
        user_profile_update(user=user, is_superuser=True, avatar="profiles/x.png")
    assert set(caught.value.message_dict) == {"is_superuser", "avatar"}


def test_the_service_refuses_wrong_types(user: User) -> None:
    with pytest.raises(ValidationError) as caught:
        user_profile_update(user=user, is_private="yes", bio=42)
    assert set(caught.value.message_dict) == {"is_private", "bio"}


# -- setting profile images -----------------------------------------------------------------


def post_file(client: Client, url: str, key: str, data: bytes, name: str = "me.png") -> object:
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(url, {"source": upload}, HTTP_X_API_KEY=key)


def stored(media_root: Path, name: str) -> PILImage.Image:
    return PILImage.open(media_root / name)


def test_an_avatar_is_stored_square_and_shown_on_the_profile(
    client: Client, user: User, api_key: str, media_root: Path
) -> None:
    response = post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(900, 600))
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.avatar.startswith("profiles/avatars/") and user.avatar.endswith(".png")
    assert stored(media_root, user.avatar).size == (256, 256)
    assert response.json()["user"]["avatar"] == f"http://testserver/{user.avatar}"
    profile = client.get("/api/4/users/alice/").json()["user"]
    assert profile["avatar"] == f"http://testserver/{user.avatar}"


def test_a_background_is_at_most_1920_wide(
    client: Client, user: User, api_key: str, media_root: Path
) -> None:
    response = post_file(
        client, BACKGROUND.format("alice"), api_key, samples.jpeg_bytes(2400, 600), "bg.jpg"
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.background.startswith("profiles/backgrounds/")
    assert user.background.endswith(".jpg")
    assert stored(media_root, user.background).size == (1920, 480)


def test_a_profile_image_keeps_no_metadata_of_the_original(
    client: Client, user: User, api_key: str, media_root: Path
) -> None:
    picture = PILImage.new("RGB", (400, 300), (10, 120, 200))
    exif = PILImage.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (40.0, 26.0, 46.0)}  # GPS latitude
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes())
    assert b"SpyCam" in out.getvalue()
    response = post_file(client, BACKGROUND.format("alice"), api_key, out.getvalue(), "gps.jpg")
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    data = (media_root / user.background).read_bytes()
    assert b"SpyCam" not in data and b"Exif" not in data


def test_an_animated_gif_becomes_a_still_webp(
    client: Client, user: User, api_key: str, media_root: Path
) -> None:
    gif = samples.gif_bytes(300, 300, frames=3)
    assert post_file(client, AVATAR.format("alice"), api_key, gif, "a.gif").status_code == 200
    user.refresh_from_db()
    assert user.avatar.endswith(".webp")
    assert stored(media_root, user.avatar).format == "WEBP"


def test_base64_in_a_json_body_works(client: Client, user: User, api_key: str) -> None:
    body = {"image": base64.b64encode(samples.png_bytes(300, 300)).decode()}
    response = client.post(
        AVATAR.format("alice"),
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.avatar


def test_a_new_avatar_replaces_the_old_file_after_commit(
    client: Client,
    user: User,
    api_key: str,
    media_root: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(300, 300))
    user.refresh_from_db()
    first = user.avatar
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(320, 300))
    user.refresh_from_db()
    assert user.avatar != first
    assert files_under(media_root / "profiles") == [user.avatar.removeprefix("profiles/")]


def test_delete_clears_the_avatar_and_its_file(
    client: Client,
    user: User,
    api_key: str,
    media_root: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(300, 300))
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.delete(AVATAR.format("alice"), HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    assert response.json()["user"]["avatar"] is None
    user.refresh_from_db()
    assert user.avatar == ""
    assert files_under(media_root / "profiles") == []


@pytest.mark.parametrize(
    ("data", "name", "statuses"),
    [
        (samples.svg_bytes(), "me.svg", {415}),
        (samples.html_bytes(), "me.png", {415}),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "me.pdf", {415}),
        (b"", "empty.png", {400}),
        (samples.truncated_png_bytes(), "cut.png", {400}),
        (samples.mp4_bytes(), "clip.mp4", {415}),
    ],
    ids=["svg", "html", "pdf", "zero-byte", "truncated", "video"],
)
def test_a_file_that_is_no_picture_is_refused_and_nothing_is_stored(
    client: Client,
    user: User,
    api_key: str,
    media_root: Path,
    data: bytes,
    name: str,
    statuses: set[int],
) -> None:
    response = post_file(client, AVATAR.format("alice"), api_key, data, name)
    assert response.status_code in statuses, response.content
    body = response.json()
    assert body["status_code"] == response.status_code and body["error"]["message"]
    user.refresh_from_db()
    assert user.avatar == ""
    assert files_under(media_root) == []


def test_a_picture_over_the_size_limit_is_a_413(
    client: Client, user: User, api_key: str, site: SiteSettings, media_root: Path
) -> None:
    site.user_max_filesize_mb = 1
    site.save()
    big = samples.png_bytes(10, 10) + b"\0" * (1024 * 1024 + 1)
    response = post_file(client, AVATAR.format("alice"), api_key, big)
    assert response.status_code == 413
    assert files_under(media_root) == []


def test_no_source_is_a_400(client: Client, api_key: str) -> None:
    response = client.post(AVATAR.format("alice"), {}, HTTP_X_API_KEY=api_key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 130


def test_someone_elses_username_is_a_404_like_an_unknown_one(
    client: Client, user: User, other_user: User, api_key: str, media_root: Path
) -> None:
    for name in ("bob", "nobody"):
        response = post_file(client, AVATAR.format(name), api_key, samples.png_bytes())
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "User not found."
        assert client.delete(BACKGROUND.format(name), HTTP_X_API_KEY=api_key).status_code == 404
    assert files_under(media_root) == []


def test_staff_may_set_anyones_avatar(
    client: Client, user: User, admin_key: str, media_root: Path
) -> None:
    response = post_file(client, AVATAR.format("ALICE"), admin_key, samples.png_bytes(300, 300))
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.avatar


def test_the_assets_routes_need_a_user(client: Client, user: User, site: SiteSettings) -> None:
    png = samples.png_bytes()
    assert post_file(client, AVATAR.format("alice"), "", png).status_code == 401
    assert post_file(client, AVATAR.format("alice"), site.guest_api_key, png).status_code == 403


# -- serving them ---------------------------------------------------------------------------


def test_the_avatar_is_served_with_its_type_and_cache_headers(
    client: Client, user: User, api_key: str
) -> None:
    post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(300, 300))
    user.refresh_from_db()
    response = client.get(f"/{user.avatar}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    again = client.get(f"/{user.avatar}", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/profiles/avatars/" + "0" * 32 + ".png",
        "/profiles/backgrounds/" + "a" * 32 + ".jpg",
        "/profiles/avatars/../../etc/passwd",
        "/profiles/avatars/x.png",
    ],
)
def test_an_unknown_profile_file_is_a_404(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_replaced_or_banned_users_avatar_is_a_404(
    client: Client, user: User, api_key: str
) -> None:
    post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(300, 300))
    user.refresh_from_db()
    first = user.avatar
    post_file(client, AVATAR.format("alice"), api_key, samples.png_bytes(310, 300))
    assert client.get(f"/{first}").status_code == 404  # its file is deleted after commit
    user.refresh_from_db()
    assert client.get(f"/{user.avatar}").status_code == 200
    user.is_active = False
    user.save()
    assert client.get(f"/{user.avatar}").status_code == 404


def test_a_private_profiles_avatar_file_is_still_served(client: Client) -> None:
    # The random name is the capability: it is shown wherever the profile is.
    dave = make_user("dave", is_private=True)
    client.force_login(dave)
    post_file(client, AVATAR.format("dave"), "", samples.png_bytes(300, 300))
    client.logout()
    dave.refresh_from_db()
    assert dave.avatar and client.get(f"/{dave.avatar}").status_code == 200


# -- the profile image service, without HTTP ------------------------------------------------


def source_of(tmp_path: Path, data: bytes) -> SourceFile:
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    return SourceFile(path=str(path), size=len(data), md5=md5_of_path(str(path)))


def test_a_failed_save_leaves_no_new_file_and_the_old_avatar(
    user: User, tmp_path: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile_image_set(user=user, kind="avatar", source=source_of(tmp_path, samples.png_bytes()))
    before = files_under(media_root)

    def broken(**kwargs: object) -> None:
        raise DatabaseError("the database went away")

    monkeypatch.setattr(profile_assets, "_replace", broken)
    with pytest.raises(DatabaseError):
        profile_image_set(
            user=user, kind="avatar", source=source_of(tmp_path, samples.png_bytes(90, 90))
        )
    assert files_under(media_root) == before
    assert User.objects.get(pk=user.pk).avatar == before[0]


def test_a_video_is_no_profile_image(user: User, tmp_path: Path, media_root: Path) -> None:
    with pytest.raises(UploadError) as caught:
        profile_image_set(
            user=user, kind="background", source=source_of(tmp_path, samples.webm_bytes())
        )
    assert caught.value.status == 415
    assert files_under(media_root) == []


def test_a_banned_user_cannot_set_a_profile_image(user: User, tmp_path: Path) -> None:
    user.is_active = False
    with pytest.raises(UploadError) as caught:
        profile_image_set(user=user, kind="avatar", source=source_of(tmp_path, samples.png_bytes()))
    assert caught.value.status == 403


def test_a_url_is_refused_before_any_fetch_when_url_uploads_are_off(
    client: Client, user: User, api_key: str, site: SiteSettings
) -> None:
    site.url_uploads = SiteSettings.UrlUploads.OFF
    site.save()
    response = client.post(
        AVATAR.format("alice"),
        data=json.dumps({"source": "https://images.example.com/me.png"}),
        content_type="application/json",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "URL uploads are disabled"


def test_a_username_is_found_whatever_its_case_through_the_case_insensitive_index() -> None:
    from django.db import connection

    from accounts.selectors import user_get_by_username

    made = User.objects.create_user("MixedCase", "mixed@example.com", "pw-123456!")
    assert user_get_by_username("mixedcase") == made
    assert user_get_by_username("MIXEDCASE") == made
    assert user_get_by_username("mixedcas") is None
    lookup = User.objects.alias(username_lower=Lower("username")).filter(username_lower="x")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a tiny table is cheaper to scan: price it out
            cursor.execute("SET LOCAL enable_seqscan = off")
    assert "accounts_user_username_ci_unique" in lookup.explain()
