"""API V4 album routes: the caller's albums, their contents, bulk moves and deletes, and every
bad input the issue lists (each a documented 4xx, never a 500)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import api_key_revoke
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests.factories import make_album, make_image
from uploads.files import all_files
from uploads.models import Image

pytestmark = pytest.mark.django_db

BASE = "/api/4/user/albums/"


class Api:
    """A client speaking JSON with one key."""

    def __init__(self, client: Client, key: str) -> None:
        self.client = client
        self.key = key

    def _send(self, method: str, url: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"HTTP_X_API_KEY": self.key, **extra}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(url, **kwargs)

    def get(self, url: str, **extra: Any) -> Any:
        return self.client.get(url, HTTP_X_API_KEY=self.key, **extra)

    def post(self, url: str, body: Any = None) -> Any:
        return self._send("post", url, body)

    def patch(self, url: str, body: Any = None) -> Any:
        return self._send("patch", url, body)

    def delete(self, url: str, body: Any = None) -> Any:
        return self._send("delete", url, body)


@pytest.fixture
def api(client: Client, api_key: str) -> Api:
    return Api(client, api_key)


@pytest.fixture
def staff(client: Client, admin_key: str) -> Api:
    return Api(client, admin_key)


def url_of(album: Album, suffix: str = "") -> str:
    return f"{BASE}{encode_id(album.pk)}/{suffix}"


def error_of(response: Any) -> str:
    body = response.json()
    assert body["status_code"] == response.status_code
    return body["error"]["message"]


# --- create ------------------------------------------------------------------------------------


def test_creating_an_album_answers_201_with_the_album(api: Api, user: User) -> None:
    response = api.post(BASE, {"name": "Trips", "description": "Summer", "privacy": "private"})
    assert response.status_code == 201
    album = response.json()["album"]
    assert (album["name"], album["privacy"], album["username"]) == ("Trips", "private", "alice")
    user.refresh_from_db()
    assert user.album_count == 1


def test_an_album_is_created_under_a_parent(api: Api, user: User) -> None:
    parent = make_album(owner=user)
    response = api.post(BASE, {"name": "Child", "parent_id": encode_id(parent.pk)})
    assert response.status_code == 201
    assert response.json()["album"]["parent_id"] == encode_id(parent.pk)


def test_an_album_can_be_created_from_a_form_body(client: Client, api_key: str) -> None:
    response = client.post(
        BASE, {"name": "Form", "privacy": "password", "password": "pw"}, HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 201
    assert response.json()["album"]["password"] is True


def test_a_password_album_without_a_password_is_a_400(api: Api) -> None:
    response = api.post(BASE, {"name": "Locked", "privacy": "password"})
    assert response.status_code == 400
    assert "password" in error_of(response)
    assert not Album.objects.exists()


def test_another_users_album_as_parent_is_a_400(api: Api, other_user: User) -> None:
    theirs = make_album(owner=other_user)
    response = api.post(BASE, {"name": "Mine", "parent_id": encode_id(theirs.pk)})
    nonexistent = api.post(BASE, {"name": "Mine", "parent_id": encode_id(theirs.pk + 999)})
    assert response.status_code == nonexistent.status_code == 400
    assert response.json() == nonexistent.json()


@pytest.mark.parametrize(
    "body",
    [
        {"name": 5},
        {"name": ["x"]},
        {"name": "ok", "privacy": ["x"]},
        {"name": "ok", "privacy": "secret"},
        {"name": "ok", "parent_id": 123},
        {"name": "ok", "description": {"a": 1}},
        {"name": ""},
        {"name": "x" * 101},
        {},
        ["name"],
        "name",
    ],
)
def test_wrong_types_in_a_json_body_are_a_400(api: Api, body: Any) -> None:
    response = api.post(BASE, body)
    assert response.status_code == 400, response.content
    assert response.json()["status_code"] == 400


def test_a_json_body_that_does_not_parse_is_a_400(client: Client, api_key: str) -> None:
    response = client.post(BASE, "{nope", content_type="application/json", HTTP_X_API_KEY=api_key)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "form",
    [{"privacy": "secret", "name": "x"}, {"name": ""}, {"name": "ok", "parent_id": "zz!"}],
)
def test_bad_form_bodies_are_a_400(client: Client, api_key: str, form: dict) -> None:
    response = client.post(BASE, form, HTTP_X_API_KEY=api_key)
    assert response.status_code == 400


# --- authentication ----------------------------------------------------------------------------


def test_no_key_is_a_401(client: Client) -> None:
    response = client.get(f"{BASE}list/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 100


def test_a_revoked_key_is_a_401(client: Client, api_key: str, user: User) -> None:
    api_key_revoke(user=user)
    assert client.get(f"{BASE}list/", HTTP_X_API_KEY=api_key).status_code == 401
    assert client.post(BASE, {"name": "x"}, HTTP_X_API_KEY=api_key).status_code == 401


def test_the_guest_key_is_a_403(client: Client, db: None) -> None:
    guest = SiteSettings.load().guest_api_key
    assert guest
    assert client.get(f"{BASE}list/", HTTP_X_API_KEY=guest).status_code == 403
    assert client.post(BASE, {"name": "x"}, HTTP_X_API_KEY=guest).status_code == 403


def test_a_session_write_without_csrf_is_a_403(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(BASE, {"name": "Trips"}, content_type="application/json")
    assert response.status_code == 403
    assert not Album.objects.exists()
    # Reads need no token.
    assert client.get(f"{BASE}list/").status_code == 200


# --- someone else's album is a 404 like a missing one -----------------------------------------


ONE_ALBUM_CALLS = [
    ("get", ""),
    ("patch", ""),
    ("delete", ""),
    ("get", "contents/"),
]


@pytest.mark.parametrize(("method", "suffix"), ONE_ALBUM_CALLS)
def test_another_users_album_is_a_404_like_a_missing_one(
    api: Api, other_user: User, method: str, suffix: str
) -> None:
    theirs = make_album(owner=other_user, name="Theirs")
    missing_id = encode_id(theirs.pk + 1000)
    body = {"name": "Mine now"} if method == "patch" else None
    foreign = getattr(api, method)(url_of(theirs, suffix), *([body] if body else []))
    missing = getattr(api, method)(f"{BASE}{missing_id}/{suffix}", *([body] if body else []))
    garbage = getattr(api, method)(f"{BASE}!!/{suffix}", *([body] if body else []))
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert foreign.json() == missing.json() == garbage.json()
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_another_users_album_in_bulk_fails_like_a_missing_one(
    api: Api, user: User, other_user: User
) -> None:
    mine = make_album(owner=user)
    theirs = make_album(owner=other_user)
    ids = [encode_id(mine.pk), encode_id(theirs.pk), encode_id(theirs.pk + 1000), "!!"]
    response = api.delete(f"{BASE}bulk/", {"album_ids": ids})
    assert response.status_code == 200
    body = response.json()
    assert body["edited"] == [encode_id(mine.pk)]
    errors = {f["id"]: f["error"] for f in body["failed"]}
    assert set(errors) == set(ids[1:])
    assert len(set(errors.values())) == 1
    assert Album.objects.filter(pk=theirs.pk).exists()


def test_staff_may_act_on_anyones_album(staff: Api, user: User) -> None:
    album = make_album(owner=user, name="Old")
    assert staff.get(url_of(album)).status_code == 200
    response = staff.patch(url_of(album), {"name": "Moderated"})
    assert response.status_code == 200
    assert response.json()["album"]["username"] == "alice"
    assert staff.delete(url_of(album)).json() == {"deleted": encode_id(album.pk)}


# --- read, edit, move --------------------------------------------------------------------------


def test_an_album_reads_back(api: Api, user: User) -> None:
    album = make_album(owner=user, name="Trips")
    response = api.get(url_of(album))
    assert response.status_code == 200
    assert response.json()["album"]["id_encoded"] == encode_id(album.pk)


def test_patch_changes_only_the_fields_sent(api: Api, user: User) -> None:
    album = make_album(owner=user, name="Old", description="Kept")
    response = api.patch(url_of(album), {"name": "New"})
    assert response.status_code == 200
    assert response.json()["album"]["name"] == "New"
    assert response.json()["album"]["description"] == "Kept"


def test_patch_sets_and_clears_the_cover(api: Api, user: User) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    response = api.patch(url_of(album), {"cover_id": encode_id(image.pk)})
    assert response.json()["album"]["cover_id"] == encode_id(image.pk)
    assert api.patch(url_of(album), {"cover_id": None}).json()["album"]["cover_id"] is None


def test_a_cover_not_in_the_album_is_a_400(api: Api, user: User, other_user: User) -> None:
    album = make_album(owner=user)
    elsewhere = make_image(owner=user)
    theirs = make_image(owner=other_user)
    for image in (elsewhere, theirs):
        response = api.patch(url_of(album), {"cover_id": encode_id(image.pk)})
        assert response.status_code == 400
        assert "cover" in error_of(response)
    assert Album.objects.get(pk=album.pk).cover_id is None


def test_patch_moves_an_album_and_back_to_the_top(api: Api, user: User) -> None:
    album = make_album(owner=user, name="A")
    parent = make_album(owner=user, name="B")
    moved = api.patch(url_of(album), {"parent_id": encode_id(parent.pk)})
    assert moved.json()["album"]["parent_id"] == encode_id(parent.pk)
    assert api.patch(url_of(album), {"parent_id": ""}).json()["album"]["parent_id"] is None


def test_an_album_moved_under_its_own_descendant_is_a_400(api: Api, user: User) -> None:
    top = make_album(owner=user, name="Top")
    child = make_album(owner=user, name="Child", parent=top)
    grandchild = make_album(owner=user, name="Grandchild", parent=child)
    for target in (top, grandchild):
        response = api.patch(url_of(top), {"parent_id": encode_id(target.pk)})
        assert response.status_code == 400
        assert "inside itself" in error_of(response)
    assert Album.objects.get(pk=top.pk).parent_id is None


def test_a_failed_move_leaves_the_other_edits_undone(api: Api, user: User) -> None:
    top = make_album(owner=user, name="Top")
    child = make_album(owner=user, name="Child", parent=top)
    response = api.patch(url_of(top), {"name": "Renamed", "parent_id": encode_id(child.pk)})
    assert response.status_code == 400
    assert Album.objects.get(pk=top.pk).name == "Top"


def test_turning_an_album_to_password_without_one_is_a_400(api: Api, user: User) -> None:
    album = make_album(owner=user)
    response = api.patch(url_of(album), {"privacy": "password"})
    assert response.status_code == 400
    ok = api.patch(url_of(album), {"privacy": "password", "password": "pw"})
    assert ok.status_code == 200 and ok.json()["album"]["password"] is True


@pytest.mark.parametrize(
    "body", [{"name": 5}, {"privacy": ["x"]}, {"parent_id": 123}, {"cover_id": 7}, ["x"]]
)
def test_wrong_types_in_a_patch_are_a_400(api: Api, user: User, body: Any) -> None:
    album = make_album(owner=user)
    assert api.patch(url_of(album), body).status_code == 400


def test_a_form_patch_works_and_a_bad_one_is_a_400(
    client: Client, api_key: str, user: User
) -> None:
    album = make_album(owner=user)
    from urllib.parse import urlencode

    form = "application/x-www-form-urlencoded"
    ok = client.patch(
        url_of(album), urlencode({"name": "Form"}), content_type=form, HTTP_X_API_KEY=api_key
    )
    assert ok.status_code == 200 and ok.json()["album"]["name"] == "Form"
    bad = client.patch(
        url_of(album), urlencode({"privacy": "nope"}), content_type=form, HTTP_X_API_KEY=api_key
    )
    assert bad.status_code == 400


def test_an_unknown_query_parameter_on_a_write_is_a_400(api: Api, user: User) -> None:
    album = make_album(owner=user)
    assert api.patch(url_of(album) + "?nmae=x", {"name": "y"}).status_code == 400


# --- delete ------------------------------------------------------------------------------------


def test_deleting_keeps_the_uploads_by_default(api: Api, user: User) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    response = api.delete(url_of(album))
    assert response.status_code == 200
    assert response.json() == {"deleted": encode_id(album.pk)}
    assert Image.objects.get(pk=image.pk).album_id is None


@pytest.mark.parametrize("how", ["query", "body"])
def test_deleting_with_images_deletes_the_uploads_and_their_files(
    api: Api, user: User, how: str, django_capture_on_commit_callbacks
) -> None:
    album = make_album(owner=user)
    child = make_album(owner=user, parent=album)
    images = [make_image(owner=user, album=album), make_image(owner=user, album=child)]
    names = [f.name for image in images for f in all_files(image)]
    with django_capture_on_commit_callbacks(execute=True):
        if how == "query":
            response = api.delete(url_of(album) + "?with_images=1")
        else:
            response = api.delete(url_of(album), {"with_images": True})
    assert response.status_code == 200
    assert not Image.objects.exists() and not Album.objects.exists()
    assert not any(default_storage.exists(name) for name in names)
    user.refresh_from_db()
    assert (user.image_count, user.album_count) == (0, 0)


def test_a_bad_with_images_value_is_a_400(api: Api, user: User) -> None:
    album = make_album(owner=user)
    assert api.delete(url_of(album) + "?with_images=maybe").status_code == 400
    assert api.delete(url_of(album), {"with_images": ["x"]}).status_code == 400
    assert Album.objects.filter(pk=album.pk).exists()


# --- list --------------------------------------------------------------------------------------


def test_the_list_holds_only_my_albums(api: Api, user: User, other_user: User) -> None:
    mine = make_album(owner=user, name="Mine")
    make_album(owner=other_user, name="Theirs")
    response = api.get(f"{BASE}list/")
    assert response.status_code == 200
    body = response.json()
    assert [a["id_encoded"] for a in body["albums"]] == [encode_id(mine.pk)]
    assert body["next"] is None and body["cursor"] is None


def test_the_list_pages_by_cursor_in_each_sort(api: Api, user: User) -> None:
    names = ["b", "a", "c", "a", "d"]
    albums = [make_album(owner=user, name=name) for name in names]
    Album.objects.filter(pk=albums[2].pk).update(image_count=5)
    expected = {
        "date_desc": [a.pk for a in reversed(albums)],
        "date_asc": [a.pk for a in albums],
        "name_asc": [a.pk for a in sorted(albums, key=lambda a: (a.name, a.pk))],
        "image_count_desc": [albums[2].pk] + [a.pk for a in reversed(albums) if a is not albums[2]],
    }
    for sort, order in expected.items():
        seen: list[str] = []
        url = f"{BASE}list/?sort={sort}&per_page=2"
        while url:
            body = api.get(url).json()
            seen += [a["id_encoded"] for a in body["albums"]]
            url = body["next"]
        assert seen == [encode_id(pk) for pk in order], sort


def test_the_list_filters_by_parent_privacy_and_name(api: Api, user: User) -> None:
    top = make_album(owner=user, name="Holidays 2024")
    child = make_album(owner=user, name="Beach", parent=top, privacy="private")
    make_album(owner=user, name="Work")

    def ids(query: str) -> list[str]:
        response = api.get(f"{BASE}list/?{query}")
        assert response.status_code == 200, response.content
        return [a["id_encoded"] for a in response.json()["albums"]]

    assert ids(f"parent_id={encode_id(top.pk)}") == [encode_id(child.pk)]
    assert len(ids("parent_id=root")) == 2
    assert ids("privacy=private") == [encode_id(child.pk)]
    assert ids("q=holi") == [encode_id(top.pk)]


@pytest.mark.parametrize(
    "query",
    [
        "sort=size",
        "order=name",
        "privacy=secret",
        "parent_id=!!",
        "per_page=1000",
        "cursor=garbage",
    ],
)
def test_an_unknown_sort_or_filter_is_a_400(api: Api, user: User, query: str) -> None:
    response = api.get(f"{BASE}list/?{query}")
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


def test_the_list_costs_the_same_queries_for_5_and_30_albums(api: Api, user: User) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"{BASE}list/?per_page=100").status_code == 200
        return len(queries)

    for n in range(5):
        album = make_album(owner=user, name=f"A{n}")
        Album.objects.filter(pk=album.pk).update(cover=make_image(owner=user, album=album))
    count()  # the key's first use of the minute records `last_used_at`: not the list's cost
    few = count()
    for n in range(25):
        album = make_album(owner=user, name=f"B{n}")
        Album.objects.filter(pk=album.pk).update(cover=make_image(owner=user, album=album))
    assert count() == few


# --- contents ----------------------------------------------------------------------------------


def test_contents_lists_uploads_and_sub_albums(api: Api, user: User) -> None:
    album = make_album(owner=user, privacy="private")
    child = make_album(owner=user, parent=album, privacy="password", password="pw")
    images = [make_image(owner=user, album=album) for _ in range(3)]
    make_image(owner=user)  # not in the album
    first = api.get(url_of(album, "contents/") + "?per_page=2").json()
    assert first["album"]["id_encoded"] == encode_id(album.pk)
    assert [a["id_encoded"] for a in first["albums"]] == [encode_id(child.pk)]
    second = api.get(first["next"]).json()
    seen = [i["id_encoded"] for i in first["images"] + second["images"]]
    assert seen == [encode_id(i.pk) for i in reversed(images)]
    # Sub-albums come with the first page only.
    assert second["albums"] == [] and second["next"] is None


def test_contents_costs_the_same_queries_for_5_and_30_uploads(api: Api, user: User) -> None:
    album = make_album(owner=user)
    for n in range(3):
        make_album(owner=user, parent=album, name=f"Sub {n}")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url_of(album, "contents/") + "?per_page=100").status_code == 200
        return len(queries)

    for _ in range(5):
        make_image(owner=user, album=album)
    count()  # the key's first use of the minute records `last_used_at`: not the list's cost
    few = count()
    for _ in range(25):
        make_image(owner=user, album=album)
    assert count() == few


def test_contents_refuses_unknown_parameters(api: Api, user: User) -> None:
    album = make_album(owner=user)
    assert api.get(url_of(album, "contents/") + "?type=video").status_code == 400


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_delete_takes_a_comma_separated_query(api: Api, user: User) -> None:
    albums = [make_album(owner=user, name=f"A{n}") for n in range(3)]
    ids = ",".join(encode_id(a.pk) for a in albums[:2])
    response = api.delete(f"{BASE}bulk/?album_ids={ids}")
    assert response.status_code == 200
    assert response.json() == {"edited": ids.split(","), "failed": []}
    assert list(Album.objects.values_list("pk", flat=True)) == [albums[2].pk]


def test_bulk_over_100_ids_is_a_400(api: Api, user: User) -> None:
    ids = [encode_id(n) for n in range(1, 102)]
    assert api.delete(f"{BASE}bulk/", {"album_ids": ids}).status_code == 400
    assert (
        api.patch(f"{BASE}bulk/parent/", {"album_ids": ids, "parent_id": None}).status_code == 400
    )


@pytest.mark.parametrize("ids", [None, [], 5, [1, 2], "[", {"a": 1}])
def test_bulk_without_a_list_of_ids_is_a_400(api: Api, user: User, ids: Any) -> None:
    body = {} if ids is None else {"album_ids": ids}
    assert api.delete(f"{BASE}bulk/", body).status_code == 400
    assert api.patch(f"{BASE}bulk/parent/", body).status_code == 400


def test_bulk_parent_moves_each_album_and_fails_a_cycle_alone(
    api: Api, user: User, other_user: User
) -> None:
    target = make_album(owner=user, name="Target")
    a = make_album(owner=user, name="A")
    b = make_album(owner=user, name="B")
    theirs = make_album(owner=other_user)
    ids = [encode_id(a.pk), encode_id(target.pk), encode_id(theirs.pk), "!!", encode_id(b.pk)]
    response = api.patch(
        f"{BASE}bulk/parent/", {"album_ids": ids, "parent_id": encode_id(target.pk)}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["edited"] == [encode_id(a.pk), encode_id(b.pk)]
    failed = {f["id"]: f["error"] for f in body["failed"]}
    assert set(failed) == {encode_id(target.pk), encode_id(theirs.pk), "!!"}
    assert "inside itself" in failed[encode_id(target.pk)]
    assert failed[encode_id(theirs.pk)] == failed["!!"]
    assert set(Album.objects.filter(parent=target).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_bulk_parent_to_the_top_level(api: Api, user: User) -> None:
    top = make_album(owner=user)
    child = make_album(owner=user, parent=top)
    for parent in (None, ""):
        response = api.patch(
            f"{BASE}bulk/parent/", {"album_ids": [encode_id(child.pk)], "parent_id": parent}
        )
        assert response.json()["edited"] == [encode_id(child.pk)]
    assert Album.objects.get(pk=child.pk).parent_id is None


def test_bulk_parent_with_another_users_parent_is_a_400(
    api: Api, user: User, other_user: User
) -> None:
    mine = make_album(owner=user)
    theirs = make_album(owner=other_user)
    for parent in (encode_id(theirs.pk), 123, "!!"):
        response = api.patch(
            f"{BASE}bulk/parent/", {"album_ids": [encode_id(mine.pk)], "parent_id": parent}
        )
        assert response.status_code == 400
    assert Album.objects.get(pk=mine.pk).parent_id is None


def test_bulk_parent_takes_a_form_body(client: Client, api_key: str, user: User) -> None:
    from urllib.parse import urlencode

    parent = make_album(owner=user)
    child = make_album(owner=user)
    response = client.patch(
        f"{BASE}bulk/parent/",
        urlencode({"album_ids": encode_id(child.pk), "parent_id": encode_id(parent.pk)}),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 200, response.content
    assert Album.objects.get(pk=child.pk).parent_id == parent.pk


def test_the_contents_body_has_exactly_the_documented_fields(api: Api, user: User) -> None:
    from api_v4.albums import AlbumContentsSerializer

    album = make_album(owner=user)
    make_image(owner=user, album=album)
    body = api.get(url_of(album, "contents/")).json()
    assert sorted(body) == sorted(AlbumContentsSerializer().fields)
