"""API V4: POST /api/4/user/images/, API V1's parameters through the same ingest."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import api_key_revoke
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests import samples
from tests.factories import make_album
from uploads.models import Category, Image, Tag

pytestmark = pytest.mark.django_db

UPLOAD = "/api/4/user/images/"


def post_file(client: Client, key: str | None, data: bytes, name: str = "cat.png", **fields):
    upload = SimpleUploadedFile(name, data, content_type="image/png")
    headers = {"HTTP_X_API_KEY": key} if key else {}
    return client.post(UPLOAD, {"source": upload, **fields}, **headers)


def assert_error(response, status: int, code: int | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status_code"] == status
    assert set(body) >= {"status_code", "error", "status_txt"}
    if code is not None:
        assert body["error"]["code"] == code
    return body


def test_a_multipart_upload_with_every_option_answers_the_image_and_its_delete_url(
    client: Client, user: User, api_key: str
) -> None:
    album = make_album(owner=user)
    category = Category.objects.create(name="Sea", slug="sea")
    response = post_file(
        client,
        api_key,
        samples.png_bytes(),
        title="Harbour",
        description="At dawn",
        tags="sea, dawn",
        album_id=encode_id(album.pk),
        category_id=str(category.pk),
        nsfw="1",
        expiration="PT1H",
    )
    assert response.status_code == 200, response.content
    image = response.json()["image"]
    row = Image.objects.get(pk=Image.objects.get().pk)
    assert image["id_encoded"] == encode_id(row.pk)
    assert (image["title"], image["description"], image["nsfw"]) == ("Harbour", "At dawn", 1)
    assert sorted(image["tags"]) == ["dawn", "sea"]
    assert image["category_id"] == category.pk
    assert image["expiration_date_gmt"] is not None
    assert "/delete/" in image["delete_url"]
    assert (row.user_id, row.album_id) == (user.pk, album.pk)
    assert Album.objects.get(pk=album.pk).image_count == 1


def test_image_as_base64_in_json_is_an_upload_too(client: Client, user: User, api_key: str) -> None:
    body = {"image": base64.b64encode(samples.png_bytes()).decode(), "name": "From JSON"}
    response = client.post(
        UPLOAD, data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 200, response.content
    assert response.json()["image"]["title"] == "From JSON"


def test_a_session_upload_needs_the_csrf_token(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert_error(post_file(client, None, samples.png_bytes()), 403)
    token = "abcdefghijklmnopqrstuvwxyz012345"
    client.cookies["csrftoken"] = token
    upload = SimpleUploadedFile("cat.png", samples.png_bytes(), content_type="image/png")
    response = client.post(UPLOAD, {"source": upload}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert Image.objects.get().user_id == user.pk


def test_no_source_is_chevereto_code_130(client: Client, api_key: str) -> None:
    response = client.post(UPLOAD, {"title": "Nothing"}, HTTP_X_API_KEY=api_key)
    assert_error(response, 400, 130)


def test_invalid_base64_and_a_non_image_are_refused(client: Client, api_key: str) -> None:
    assert_error(client.post(UPLOAD, {"source": "@@@@"}, HTTP_X_API_KEY=api_key), 400)
    assert_error(post_file(client, api_key, samples.svg_bytes(), name="x.png"), 415)
    assert not Image.objects.exists()


def test_an_upload_into_someone_elses_album_is_refused_as_in_api_v1(
    client: Client, other_user: User, api_key: str
) -> None:
    theirs = make_album(owner=other_user)
    foreign = post_file(client, api_key, samples.png_bytes(), album_id=encode_id(theirs.pk))
    body = assert_error(foreign, 403, 400)
    malformed = post_file(client, api_key, samples.png_bytes(), album_id="!!")
    assert malformed.json() == body
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "x" * 101},
        {"tags": ",".join(f"t{i}" for i in range(31))},
        {"nsfw": "maybe"},
        {"width": "-1"},
        {"expiration": "forever"},
        {"category_id": "999"},
    ],
)
def test_bad_options_are_a_400(client: Client, api_key: str, fields: dict[str, str]) -> None:
    assert_error(post_file(client, api_key, samples.png_bytes(), **fields), 400)
    assert not Image.objects.exists()


def test_wrong_types_in_json_are_a_400(client: Client, api_key: str) -> None:
    source = base64.b64encode(samples.png_bytes()).decode()
    for extra in ({"tags": {"a": 1}}, {"title": ["x"]}):
        response = client.post(
            UPLOAD,
            data=json.dumps({"source": source, **extra}),
            content_type="application/json",
            HTTP_X_API_KEY=api_key,
        )
        assert_error(response, 400)
    assert not Image.objects.exists()


def test_use_file_date_is_for_admins(client: Client, api_key: str) -> None:
    assert_error(post_file(client, api_key, samples.png_bytes(), use_file_date="1"), 403)


def test_a_duplicate_refused_by_policy_is_a_409(client: Client, api_key: str) -> None:
    site = SiteSettings.load()
    site.duplicate_policy = SiteSettings.DuplicatePolicy.REFUSE
    site.save()
    SiteSettings.clear_cache()
    png = samples.png_bytes()
    assert post_file(client, api_key, png).status_code == 200
    assert_error(post_file(client, api_key, png), 409, 101)


def test_a_file_over_the_size_limit_is_a_413(client: Client, api_key: str) -> None:
    site = SiteSettings.load()
    site.user_max_filesize_mb = 1
    site.save()
    SiteSettings.clear_cache()
    big = samples.png_bytes() + b"\0" * (2 * 1024 * 1024)
    assert_error(post_file(client, api_key, big), 413)
    assert not Image.objects.exists()


def test_unknown_query_parameters_are_a_400(client: Client, api_key: str) -> None:
    upload = SimpleUploadedFile("cat.png", samples.png_bytes(), content_type="image/png")
    response = client.post(UPLOAD + "?colour=red", {"source": upload}, HTTP_X_API_KEY=api_key)
    assert_error(response, 400)


def test_keys_and_guests(client: Client, user: User, api_key: str) -> None:
    guest_key = SiteSettings.load().guest_api_key
    assert_error(post_file(client, guest_key, samples.png_bytes()), 403)
    assert_error(post_file(client, None, samples.png_bytes()), 401, 100)
    api_key_revoke(user=user)
    assert_error(post_file(client, api_key, samples.png_bytes()), 401, 100)
    assert not Image.objects.exists()


def test_a_body_that_does_not_parse_is_a_400_not_a_500(client: Client, api_key: str) -> None:
    response = client.post(
        UPLOAD, data="{", content_type="application/json", HTTP_X_API_KEY=api_key
    )
    assert_error(response, 400)


def test_tags_whose_slugs_collide_upload_fine(client: Client, api_key: str) -> None:
    response = post_file(client, api_key, samples.png_bytes(), tags="!, ?, #")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["image"]["tags"]) == ["!", "#", "?"]


def test_the_answer_lists_the_tags_as_stored_in_their_order_without_asking_again(
    client: Client, api_key: str
) -> None:
    Tag.objects.create(name="Sea", slug="sea")  # an existing tag keeps its own case
    with CaptureQueriesContext(connection) as captured:
        response = post_file(client, api_key, samples.png_bytes(), tags="zephyr, sea, Dawn")
    assert response.status_code == 200, response.content
    image = Image.objects.get()
    assert response.json()["image"]["tags"] == ["Dawn", "Sea", "zephyr"]
    assert [tag.name for tag in image.tags.all()] == ["Dawn", "Sea", "zephyr"]
    # Read from the rows once, while they are set: not again for the answer.
    reads = [q["sql"] for q in captured if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if "uploads_image_tags" in sql], reads
