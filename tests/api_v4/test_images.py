"""API V4: the caller's uploads under /api/4/user/images/ (list, one, bulk)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_revoke
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests.factories import make_album, make_image
from uploads.models import Category, Image, Tag

pytestmark = pytest.mark.django_db

LIST = "/api/4/user/images/list/"
BULK = "/api/4/user/images/bulk/"


def one(image: Image | str) -> str:
    encoded = image if isinstance(image, str) else encode_id(image.pk)
    return f"/api/4/user/images/{encoded}/"


def send(client: Client, method: str, url: str, key: str, body: Any = None, **extra: Any):
    kwargs: dict[str, Any] = {"HTTP_X_API_KEY": key, **extra}
    if body is not None and method != "get":
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def form(client: Client, method: str, url: str, key: str, body: str):
    return getattr(client, method)(
        url, data=body, content_type="application/x-www-form-urlencoded", HTTP_X_API_KEY=key
    )


def ids_of(response) -> list[str]:
    return [item["id_encoded"] for item in response.json()["images"]]


def assert_error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status_code"] == status
    assert set(body) >= {"status_code", "error", "status_txt"}
    assert {"message", "code"} <= set(body["error"])
    return body


# --- List ----------------------------------------------------------------------------------


def test_the_list_holds_only_my_live_uploads_newest_first(
    client: Client, user: User, other_user: User, api_key: str
) -> None:
    now = timezone.now()
    older = make_image(owner=user, created_at=now - timedelta(days=2))
    newer = make_image(owner=user, created_at=now - timedelta(days=1))
    make_image(owner=other_user)
    make_image(owner=user, expires_at=now - timedelta(minutes=1))
    response = send(client, "get", LIST, api_key)
    assert response.status_code == 200
    assert ids_of(response) == [encode_id(newer.pk), encode_id(older.pk)]
    assert response.json()["next"] is None


def test_staff_list_only_their_own_uploads(
    client: Client, user: User, admin_user: User, admin_key: str
) -> None:
    make_image(owner=user)
    mine = make_image(owner=admin_user)
    assert ids_of(send(client, "get", LIST, admin_key)) == [encode_id(mine.pk)]


def test_the_cursor_walks_every_upload_once_in_each_sort(
    client: Client, user: User, api_key: str
) -> None:
    now = timezone.now()
    images = [
        make_image(owner=user, created_at=now - timedelta(hours=i), views=i % 3, likes=i % 2)
        for i in range(7)
    ]
    for sort in ("date_desc", "date_asc", "size_desc", "views_desc", "likes_desc"):
        seen: list[str] = []
        url = f"{LIST}?per_page=3&sort={sort}"
        while url:
            body = send(client, "get", url, api_key).json()
            seen += [item["id_encoded"] for item in body["images"]]
            url = body["next"]
        assert sorted(seen) == sorted(encode_id(i.pk) for i in images), sort
    by_views = ids_of(send(client, "get", f"{LIST}?sort=views_desc", api_key))
    ordered = sorted(images, key=lambda i: (-i.views, -i.pk))
    assert by_views == [encode_id(i.pk) for i in ordered]


def test_filters_narrow_the_list(client: Client, user: User, api_key: str) -> None:
    album = make_album(owner=user)
    category = Category.objects.create(name="Sea", slug="sea")
    in_album = make_image(owner=user, album=album, title="Boats in the harbour")
    loose = make_image(owner=user, title="Mountain", nsfw=True, category=category)
    video = make_image(owner=user, title="Clip", kind=Image.Kind.VIDEO, is_approved=False)
    loose.tags.add(Tag.objects.create(name="Peak"))
    old = make_image(owner=user, title="Old", created_at=timezone.now() - timedelta(days=40))

    def listed(query: str) -> set[str]:
        response = send(client, "get", f"{LIST}?{query}", api_key)
        assert response.status_code == 200, response.content
        return set(ids_of(response))

    enc = encode_id
    assert listed(f"album_id={enc(album.pk)}") == {enc(in_album.pk)}
    assert listed("album_id=none") == {enc(loose.pk), enc(video.pk), enc(old.pk)}
    assert listed("type=video") == {enc(video.pk)}
    assert listed("tag=peak") == {enc(loose.pk)}
    assert listed(f"category_id={category.pk}") == {enc(loose.pk)}
    assert listed("nsfw=1") == {enc(loose.pk)}
    assert listed("is_approved=0") == {enc(video.pk)}
    assert listed("q=HARBOUR") == {enc(in_album.pk)}
    old_day = (timezone.now() - timedelta(days=40)).date().isoformat()
    assert listed(f"date_to={old_day}") == {enc(old.pk)}
    assert enc(old.pk) not in listed(f"date_from={timezone.now().date().isoformat()}")


@pytest.mark.parametrize(
    "query",
    [
        "sort=random",
        "colour=red",
        "type=gif",
        "nsfw=maybe",
        "is_approved=2",
        "date_from=yesterday",
        "date_to=2024-13-01",
        "album_id=!!",
        "category_id=x",
        "per_page=0",
        "per_page=101",
        "cursor=not-a-cursor",
    ],
)
def test_an_unknown_sort_or_filter_or_a_bad_value_is_a_400(
    client: Client, api_key: str, query: str
) -> None:
    assert_error(send(client, "get", f"{LIST}?{query}", api_key), 400)


def _list_queries(client: Client, key: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = send(client, "get", f"{LIST}?per_page=100", key)
    assert response.status_code == 200
    return len(queries)


def test_a_page_costs_the_same_queries_for_5_uploads_as_for_60(
    client: Client, user: User, api_key: str
) -> None:
    tag = Tag.objects.create(name="sea")
    album = make_album(owner=user)
    for i in range(5):
        make_image(owner=user, album=album if i % 2 else None).tags.add(tag)
    _list_queries(client, api_key)  # the first request also warms per-process caches
    few = _list_queries(client, api_key)
    for i in range(55):
        make_image(owner=user, album=album if i % 2 else None).tags.add(tag)
    assert _list_queries(client, api_key) == few


# --- One upload ----------------------------------------------------------------------------


def test_get_answers_my_upload(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user, title="Mine")
    response = send(client, "get", one(image), api_key)
    assert response.status_code == 200
    assert response.json()["image"]["id_encoded"] == encode_id(image.pk)
    assert response.json()["image"]["title"] == "Mine"


def test_patch_changes_the_fields_sent(client: Client, user: User, api_key: str) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, title="Before", description="Kept")
    response = send(
        client,
        "patch",
        one(image),
        api_key,
        {
            "title": "After",
            "tags": ["sea", "dawn"],
            "is_nsfw": True,
            "album_id": encode_id(album.pk),
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()["image"]
    assert (body["title"], body["description"], body["nsfw"]) == ("After", "Kept", 1)
    assert sorted(body["tags"]) == ["dawn", "sea"]
    assert Image.objects.get(pk=image.pk).album_id == album.pk
    assert Album.objects.get(pk=album.pk).image_count == 1
    out = send(client, "patch", one(image), api_key, {"album_id": None})
    assert out.status_code == 200
    assert Image.objects.get(pk=image.pk).album_id is None


def test_patch_takes_a_form_body_too(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user)
    response = form(
        client, "patch", one(image), api_key, "title=From+a+form&nsfw=1&expiration=PT10M"
    )
    assert response.status_code == 200, response.content
    row = Image.objects.get(pk=image.pk)
    assert (row.title, row.nsfw) == ("From a form", True)
    assert row.expires_at is not None


def test_delete_answers_the_id_and_the_upload_is_gone(
    client: Client, user: User, api_key: str
) -> None:
    image = make_image(owner=user)
    response = send(client, "delete", one(image), api_key)
    assert response.status_code == 200
    assert response.json() == {"deleted": encode_id(image.pk)}
    assert not Image.objects.filter(pk=image.pk).exists()
    assert_error(send(client, "get", one(image), api_key), 404)


def test_staff_act_on_anyones_upload(client: Client, user: User, admin_key: str) -> None:
    image = make_image(owner=user, is_approved=False)
    assert send(client, "get", one(image), admin_key).status_code == 200
    response = send(client, "patch", one(image), admin_key, {"is_approved": 1})
    assert response.status_code == 200
    assert response.json()["image"]["is_approved"] == 1
    assert send(client, "delete", one(image), admin_key).status_code == 200


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_upload_is_a_404_like_a_missing_one(
    client: Client, other_user: User, api_key: str, method: str
) -> None:
    theirs = make_image(owner=other_user, title="Theirs")
    missing = encode_id(theirs.pk + 1000)
    body = {"title": "Mine now"} if method == "patch" else None
    foreign = send(client, method, one(theirs), api_key, body)
    absent = send(client, method, one(missing), api_key, body)
    garbage = send(client, method, one("!!not-an-id"), api_key, body)
    assert_error(foreign, 404)
    assert foreign.json() == absent.json() == garbage.json()
    assert Image.objects.get(pk=theirs.pk).title == "Theirs"


def test_someone_elses_id_in_a_bulk_request_fails_like_a_missing_one(
    client: Client, user: User, other_user: User, api_key: str
) -> None:
    mine = make_image(owner=user)
    theirs = make_image(owner=other_user)
    ids = [encode_id(mine.pk), encode_id(theirs.pk), encode_id(theirs.pk + 1000), "!!"]
    response = send(client, "patch", BULK, api_key, {"image_ids": ids, "title": "Bulk"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["edited"] == [encode_id(mine.pk)]
    assert [f["id"] for f in body["failed"]] == ids[1:]
    assert len({f["error"] for f in body["failed"]}) == 1
    assert Image.objects.get(pk=theirs.pk).title != "Bulk"


@pytest.mark.parametrize(
    "body",
    [
        {"title": 5},
        {"title": "x" * 101},
        {"tags": {"a": 1}},
        {"tags": ",".join(f"t{i}" for i in range(31))},
        {"is_nsfw": "maybe"},
        {"nsfw": [1]},
        {"category_id": "one"},
        {"expiration": "forever"},
        {"expiration": "P2Y"},
        {"album_id": 12},
        {"description": {"text": "x"}},
    ],
)
def test_wrong_types_and_values_in_json_are_a_400(
    client: Client, user: User, api_key: str, body: dict[str, Any]
) -> None:
    image = make_image(owner=user, title="Kept")
    assert_error(send(client, "patch", one(image), api_key, body), 400)
    assert Image.objects.get(pk=image.pk).title == "Kept"


@pytest.mark.parametrize(
    "body", ["is_nsfw=maybe", "category_id=-3", "expiration=soon", "title=" + "x" * 101]
)
def test_wrong_values_in_a_form_are_a_400(
    client: Client, user: User, api_key: str, body: str
) -> None:
    image = make_image(owner=user)
    assert_error(form(client, "patch", one(image), api_key, body), 400)


def test_a_body_that_is_not_an_object_is_a_400(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user)
    assert_error(send(client, "patch", one(image), api_key, ["title", "x"]), 400)
    bad_json = client.patch(
        one(image), data="{", content_type="application/json", HTTP_X_API_KEY=api_key
    )
    assert_error(bad_json, 400)


def test_a_missing_category_is_a_404(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user)
    assert_error(send(client, "patch", one(image), api_key, {"category_id": 999}), 404)


def test_is_approved_by_a_non_staff_user_is_a_403(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user, is_approved=False)
    for method, url, body in (
        ("patch", one(image), {"is_approved": 1}),
        ("patch", BULK, {"image_ids": [encode_id(image.pk)], "is_approved": True}),
    ):
        assert_error(send(client, method, url, api_key, body), 403)
    assert Image.objects.get(pk=image.pk).is_approved is False


def test_moving_into_someone_elses_album_is_refused(
    client: Client, user: User, other_user: User, api_key: str
) -> None:
    image = make_image(owner=user)
    theirs = make_album(owner=other_user)
    response = send(client, "patch", one(image), api_key, {"album_id": encode_id(theirs.pk)})
    assert_error(response, 403)
    missing = send(client, "patch", one(image), api_key, {"album_id": encode_id(theirs.pk + 99)})
    assert missing.json() == response.json()
    assert Image.objects.get(pk=image.pk).album_id is None


def test_bulk_over_the_limit_is_a_400(client: Client, user: User, api_key: str) -> None:
    ids = [encode_id(n) for n in range(1, 102)]
    assert_error(send(client, "patch", BULK, api_key, {"image_ids": ids, "nsfw": 1}), 400)
    assert_error(send(client, "delete", BULK, api_key, {"image_ids": ",".join(ids)}), 400)
    assert_error(send(client, "delete", BULK, api_key, {"image_ids": []}), 400)
    assert_error(send(client, "delete", BULK, api_key, {"image_ids": [1, 2]}), 400)
    assert_error(send(client, "delete", BULK, api_key, {}), 400)


def test_bulk_delete_takes_a_comma_string_and_reports_each_id(
    client: Client, user: User, other_user: User, api_key: str
) -> None:
    mine = [make_image(owner=user) for _ in range(2)]
    theirs = make_image(owner=other_user)
    ids = [encode_id(i.pk) for i in [*mine, theirs]]
    response = form(client, "delete", BULK, api_key, "image_ids=" + ",".join(ids))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "edited": ids[:2],
        "failed": [{"id": ids[2], "error": "Image not found."}],
    }
    assert Image.objects.filter(pk=theirs.pk).exists()
    assert not Image.objects.filter(pk__in=[i.pk for i in mine]).exists()


def test_a_bad_value_in_a_bulk_edit_refuses_the_whole_request(
    client: Client, user: User, api_key: str
) -> None:
    image = make_image(owner=user, title="Kept")
    body = {"image_ids": [encode_id(image.pk)], "title": "New", "tags": {"a": 1}}
    assert_error(send(client, "patch", BULK, api_key, body), 400)
    assert Image.objects.get(pk=image.pk).title == "Kept"


ROUTES = [("get", LIST), ("patch", BULK), ("delete", BULK)]


def test_a_revoked_key_is_a_401_on_every_route(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user)
    api_key_revoke(user=user)
    for method, url in [
        *ROUTES,
        ("get", one(image)),
        ("patch", one(image)),
        ("post", "/api/4/user/images/"),
    ]:
        body = assert_error(send(client, method, url, api_key, {}), 401)
        assert body["error"]["code"] == 100


def test_the_guest_key_is_a_403_and_no_key_a_401(client: Client, user: User) -> None:
    image = make_image(owner=user)
    guest_key = SiteSettings.load().guest_api_key
    assert guest_key
    for method, url in [*ROUTES, ("get", one(image)), ("delete", one(image))]:
        assert_error(send(client, method, url, guest_key, {}), 403)
        assert_error(getattr(client, method)(url), 401)
    assert Image.objects.filter(pk=image.pk).exists()


def test_a_session_write_without_csrf_is_a_403(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    image = make_image(owner=user, title="Kept")
    assert client.get(one(image)).status_code == 200
    response = client.patch(
        one(image), data=json.dumps({"title": "New"}), content_type="application/json"
    )
    assert_error(response, 403)
    assert_error(client.delete(one(image)), 403)
    assert Image.objects.get(pk=image.pk).title == "Kept"


def test_a_session_write_with_csrf_works(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    # The CSRF cookie a page of the site would have set, and the header echoing it.
    token = "abcdefghijklmnopqrstuvwxyz012345"
    client.cookies["csrftoken"] = token
    image = make_image(owner=user)
    response = client.patch(
        one(image),
        data=json.dumps({"title": "Session"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    assert Image.objects.get(pk=image.pk).title == "Session"


def test_bulk_delete_takes_the_ids_in_the_query(client: Client, user: User, api_key: str) -> None:
    image = make_image(owner=user)
    response = send(client, "delete", f"{BULK}?image_ids={encode_id(image.pk)}", api_key)
    assert response.status_code == 200, response.content
    assert response.json() == {"edited": [encode_id(image.pk)], "failed": []}
    assert not Image.objects.filter(pk=image.pk).exists()


def test_json_expiration_may_be_seconds_as_a_number(
    client: Client, user: User, api_key: str
) -> None:
    image = make_image(owner=user)
    response = send(client, "patch", one(image), api_key, {"expiration": 3600})
    assert response.status_code == 200, response.content
    assert response.json()["image"]["expiration_date_gmt"] is not None
    response = send(client, "patch", one(image), api_key, {"expiration": None})
    assert response.json()["image"]["expiration_date_gmt"] is None
    assert_error(send(client, "patch", one(image), api_key, {"expiration": True}), 400)


def test_an_album_filter_naming_no_album_of_mine_lists_nothing(
    client: Client, user: User, other_user: User, api_key: str
) -> None:
    make_image(owner=user)
    theirs = make_album(owner=other_user)
    make_image(owner=other_user, album=theirs)
    for album_id in (encode_id(theirs.pk), encode_id(theirs.pk + 500)):
        response = send(client, "get", f"{LIST}?album_id={album_id}", api_key)
        assert response.status_code == 200
        assert response.json()["images"] == []


def test_the_size_sort_reads_the_user_size_index(user: User) -> None:
    from uploads.selectors import images_owned_by

    page = images_owned_by(owner=user).order_by("-size", "-id")[:26]
    if connection.vendor == "postgresql":
        # On a near-empty table the planner rightly prefers a scan and a sort; with both
        # priced out, the plan shows whether the index can give this order by itself.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    plan = page.explain()
    assert "uploads_user_size_id" in plan
    # Neither database sorts the rows itself: the index gives the order.
    assert "TEMP B-TREE" not in plan and "Sort" not in plan
