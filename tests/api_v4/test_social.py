from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import api_key_create, api_key_revoke
from albums.services import album_unlock
from api_v4.social import NotificationSerializer
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from social.models import Follow, Like, Notification
from social.services import follow_add, like_add
from tests.factories import make_album, make_image
from tests.social.people import make_person

pytestmark = pytest.mark.django_db


def _like_url(image) -> str:
    return f"/api/4/user/images/{encode_id(image.pk)}/like/"


def _album_like_url(album) -> str:
    return f"/api/4/user/albums/{encode_id(album.pk)}/like/"


def _key(user: User) -> dict[str, str]:
    return {"HTTP_X_API_KEY": api_key_create(user=user).key}


# --- likes ------------------------------------------------------------------------------------


def test_liking_an_image_answers_it_with_the_new_count(
    client: Client, api_key: str, other_user: User
) -> None:
    image = make_image(owner=other_user)
    response = client.post(_like_url(image), HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    body = response.json()
    assert body["liked"] is True
    assert body["image"]["id_encoded"] == encode_id(image.pk)
    assert body["image"]["likes"] == 1


def test_liking_twice_still_counts_one(client: Client, api_key: str, other_user: User) -> None:
    image = make_image(owner=other_user)
    client.post(_like_url(image), HTTP_X_API_KEY=api_key)
    again = client.post(_like_url(image), HTTP_X_API_KEY=api_key)
    assert again.status_code == 200 and again.json()["image"]["likes"] == 1


def test_unliking_an_image_answers_it_with_the_count_back_down(
    client: Client, api_key: str, other_user: User
) -> None:
    image = make_image(owner=other_user)
    client.post(_like_url(image), HTTP_X_API_KEY=api_key)
    response = client.delete(_like_url(image), HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    assert response.json()["liked"] is False and response.json()["image"]["likes"] == 0
    assert not Like.objects.exists()


def test_liking_an_album_answers_it_with_the_new_count(
    client: Client, api_key: str, other_user: User
) -> None:
    album = make_album(owner=other_user)
    response = client.post(_album_like_url(album), HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    assert response.json()["album"]["likes"] == 1 and response.json()["liked"] is True
    response = client.delete(_album_like_url(album), HTTP_X_API_KEY=api_key)
    assert response.json()["album"]["likes"] == 0


def test_liking_someones_private_image_is_a_404_like_a_missing_one(
    client: Client, api_key: str, other_user: User
) -> None:
    hidden = make_image(owner=other_user, album=make_album(owner=other_user, privacy="private"))
    response = client.post(_like_url(hidden), HTTP_X_API_KEY=api_key)
    missing = client.post("/api/4/user/images/zzzzzz/like/", HTTP_X_API_KEY=api_key)
    assert response.status_code == missing.status_code == 404
    assert response.json()["error"]["message"] == missing.json()["error"]["message"]
    assert not Like.objects.exists()


def test_liking_someones_image_awaiting_moderation_is_a_404(
    client: Client, api_key: str, other_user: User
) -> None:
    image = make_image(owner=other_user, is_approved=False)
    assert client.post(_like_url(image), HTTP_X_API_KEY=api_key).status_code == 404


def test_liking_someones_private_album_is_a_404(
    client: Client, api_key: str, other_user: User
) -> None:
    album = make_album(owner=other_user, privacy="private")
    assert client.post(_album_like_url(album), HTTP_X_API_KEY=api_key).status_code == 404
    assert client.delete(_album_like_url(album), HTTP_X_API_KEY=api_key).status_code == 404


def test_liking_a_password_album_opened_in_the_session_works(
    client_logged_in: Client, other_user: User
) -> None:
    album = make_album(owner=other_user, privacy="password", password="s3cret")
    image = make_image(owner=other_user, album=album)
    assert client_logged_in.post(_album_like_url(album)).status_code == 404
    session = client_logged_in.session
    assert album_unlock(session=session, album=album, password="s3cret")
    session.save()
    assert client_logged_in.post(_album_like_url(album)).status_code == 200
    assert client_logged_in.post(_like_url(image)).status_code == 200


def test_liking_with_the_guest_key_is_a_403(
    client: Client, site: SiteSettings, other_user: User
) -> None:
    image = make_image(owner=other_user)
    response = client.post(_like_url(image), HTTP_X_API_KEY=site.guest_api_key)
    assert response.status_code == 403


def test_liking_without_a_key_is_a_401(client: Client, other_user: User) -> None:
    image = make_image(owner=other_user)
    response = client.post(_like_url(image))
    assert response.status_code == 401 and response.json()["error"]["code"] == 100


def test_liking_with_a_revoked_key_is_a_401(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    image = make_image(owner=other_user)
    api_key_revoke(user=user)
    assert client.post(_like_url(image), HTTP_X_API_KEY=api_key).status_code == 401


def test_liking_with_a_session_needs_the_csrf_token(user: User, other_user: User) -> None:
    image = make_image(owner=other_user)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(_like_url(image)).status_code == 403
    assert not Like.objects.exists()


def test_a_like_with_an_unknown_query_parameter_is_a_400(
    client: Client, api_key: str, other_user: User
) -> None:
    image = make_image(owner=other_user)
    response = client.post(_like_url(image) + "?force=1", HTTP_X_API_KEY=api_key)
    assert response.status_code == 400 and not Like.objects.exists()


# --- follows ----------------------------------------------------------------------------------


def test_following_answers_the_user_with_the_new_count(
    client: Client, api_key: str, other_user: User
) -> None:
    response = client.post("/api/4/users/bob/follow/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    body = response.json()
    assert body["following"] is True
    assert body["user"]["username"] == "bob" and body["user"]["followers"] == 1
    assert "email" not in body["user"]


def test_following_is_case_insensitive_and_idempotent(
    client: Client, api_key: str, other_user: User
) -> None:
    client.post("/api/4/users/bob/follow/", HTTP_X_API_KEY=api_key)
    again = client.post("/api/4/users/BOB/follow/", HTTP_X_API_KEY=api_key)
    assert again.status_code == 200 and again.json()["user"]["followers"] == 1
    assert Follow.objects.count() == 1


def test_unfollowing_answers_the_user_with_the_count_back_down(
    client: Client, api_key: str, other_user: User
) -> None:
    client.post("/api/4/users/bob/follow/", HTTP_X_API_KEY=api_key)
    response = client.delete("/api/4/users/bob/follow/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    assert response.json()["following"] is False and response.json()["user"]["followers"] == 0


def test_following_yourself_is_a_403(client: Client, api_key: str) -> None:
    response = client.post("/api/4/users/alice/follow/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 403
    assert response.json()["error"] == {"message": "You cannot follow yourself.", "code": 403}


def test_unfollowing_yourself_is_a_200_that_changes_nothing(client: Client, api_key: str) -> None:
    # Idempotent like any unfollow of someone not followed: schema-valid, so never a 400.
    response = client.delete("/api/4/users/alice/follow/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    assert response.json()["following"] is False
    assert response.json()["user"]["followers"] == 0


@pytest.mark.parametrize("username", ["nobody", "shy", "banned", "x" * 40])
def test_following_an_unknown_private_or_banned_user_is_a_404(
    client: Client, api_key: str, username: str
) -> None:
    make_person("shy", is_private=True)
    make_person("banned", is_active=False)
    response = client.post(f"/api/4/users/{username}/follow/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "User not found."


def test_following_with_the_guest_key_is_a_403(
    client: Client, site: SiteSettings, other_user: User
) -> None:
    response = client.post("/api/4/users/bob/follow/", HTTP_X_API_KEY=site.guest_api_key)
    assert response.status_code == 403


def test_following_without_a_key_is_a_401(client: Client, other_user: User) -> None:
    assert client.post("/api/4/users/bob/follow/").status_code == 401


# --- followers and following ------------------------------------------------------------------


def _followed_by(user: User, count: int) -> list[User]:
    fans = [make_person(f"fan{i}") for i in range(count)]
    for fan in fans:
        follow_add(follower=fan, followed=user)
    return fans


def test_followers_are_listed_newest_first_to_anyone(client: Client, user: User) -> None:
    _followed_by(user, 3)
    response = client.get("/api/4/users/alice/followers/")
    assert response.status_code == 200
    assert [u["username"] for u in response.json()["users"]] == ["fan2", "fan1", "fan0"]
    assert response.json()["next"] is None


def test_followers_page_with_a_cursor_and_oldest_first(client: Client, user: User) -> None:
    _followed_by(user, 5)
    first = client.get("/api/4/users/alice/followers/?per_page=2&sort=date_asc").json()
    assert [u["username"] for u in first["users"]] == ["fan0", "fan1"]
    second = client.get(
        f"/api/4/users/alice/followers/?per_page=2&sort=date_asc&cursor={first['cursor']}"
    ).json()
    assert [u["username"] for u in second["users"]] == ["fan2", "fan3"]


def test_following_lists_whom_the_user_follows(client: Client, user: User) -> None:
    for name in ("carol", "dave"):
        follow_add(follower=user, followed=make_person(name))
    response = client.get("/api/4/users/alice/following/")
    assert [u["username"] for u in response.json()["users"]] == ["dave", "carol"]


def test_a_private_profiles_followers_are_a_404_to_others_but_not_to_its_owner(
    client: Client, user: User
) -> None:
    _followed_by(user, 1)
    User.objects.filter(pk=user.pk).update(is_private=True)
    assert client.get("/api/4/users/alice/followers/").status_code == 404
    assert client.get("/api/4/users/alice/following/").status_code == 404
    client.force_login(user)
    assert client.get("/api/4/users/alice/followers/").status_code == 200


def test_private_followers_are_not_listed_to_others(client: Client, user: User) -> None:
    fan, shy = make_person("fan"), make_person("shy")
    follow_add(follower=fan, followed=user)
    follow_add(follower=shy, followed=user)
    User.objects.filter(pk=shy.pk).update(is_private=True)
    users = client.get("/api/4/users/alice/followers/").json()["users"]
    assert [u["username"] for u in users] == ["fan"]


def test_followers_with_an_unknown_query_parameter_are_a_400(client: Client, user: User) -> None:
    assert client.get("/api/4/users/alice/followers/?order=new").status_code == 400
    assert client.get("/api/4/users/alice/followers/?sort=likes").status_code == 400
    assert client.get("/api/4/users/alice/followers/?cursor=%%%").status_code == 400


def test_followers_with_a_revoked_key_are_a_401(client: Client, user: User, api_key: str) -> None:
    api_key_revoke(user=user)
    response = client.get("/api/4/users/alice/followers/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 401


@pytest.mark.parametrize("route", ["followers", "following"])
def test_a_followers_page_costs_the_same_queries_for_3_and_30_people(
    client: Client, user: User, route: str
) -> None:
    def queries_for(count: int) -> int:
        Follow.objects.all().delete()
        fans = [make_person(f"p{count}x{i}") for i in range(count)]
        for fan in fans:
            if route == "followers":
                follow_add(follower=fan, followed=user)
            else:
                follow_add(follower=user, followed=fan)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/4/users/alice/{route}/?per_page=100")
        assert len(response.json()["users"]) == count
        return len(queries)

    assert queries_for(3) == queries_for(30)


# --- notifications ----------------------------------------------------------------------------

NOTIFICATIONS = "/api/4/user/account/notifications/social/"


def test_notifications_list_likes_and_follows_with_their_actor_and_target(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    image = make_image(owner=user)
    album = make_album(owner=user)
    like_add(user=other_user, image=image)
    like_add(user=other_user, album=album)
    follow_add(follower=other_user, followed=user)
    response = client.get(NOTIFICATIONS, HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    follow, album_like, image_like = response.json()["notifications"]
    assert follow["kind"] == "follow" and follow["image"] is None and follow["album"] is None
    assert follow["actor"]["username"] == "bob" and follow["is_read"] is False
    assert album_like["album"]["id_encoded"] == encode_id(album.pk)
    assert image_like["image"]["id_encoded"] == encode_id(image.pk)
    assert image_like["image"]["likes"] == 1


def test_notifications_filter_on_is_read(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    follow_add(follower=other_user, followed=user)
    like_add(user=other_user, image=make_image(owner=user))
    Notification.objects.filter(kind="follow").update(is_read=True)
    unread = client.get(NOTIFICATIONS + "?is_read=0", HTTP_X_API_KEY=api_key).json()
    read = client.get(NOTIFICATIONS + "?is_read=1", HTTP_X_API_KEY=api_key).json()
    assert [n["kind"] for n in unread["notifications"]] == ["like"]
    assert [n["kind"] for n in read["notifications"]] == ["follow"]


@pytest.mark.parametrize(
    "query", ["?is_read=maybe", "?is_read=2", "?is_read=", "?unread=1", "?sort=kind"]
)
def test_notifications_with_a_bad_query_are_a_400(client: Client, api_key: str, query: str) -> None:
    response = client.get(NOTIFICATIONS + query, HTTP_X_API_KEY=api_key)
    assert response.status_code == 400 and response.json()["status_code"] == 400


def test_notifications_are_not_for_the_guest_key_or_anonymous(
    client: Client, site: SiteSettings
) -> None:
    assert client.get(NOTIFICATIONS, HTTP_X_API_KEY=site.guest_api_key).status_code == 403
    assert client.get(NOTIFICATIONS).status_code == 401


def test_a_notifications_page_costs_the_same_queries_for_3_and_30_notifications(
    client: Client, api_key: str, user: User
) -> None:
    def queries_for(count: int) -> int:
        Notification.objects.all().delete()
        for i in range(count):
            fan = make_person(f"n{count}x{i}")
            like_add(user=fan, image=make_image(owner=user))
            like_add(user=fan, album=make_album(owner=user))
            follow_add(follower=fan, followed=user)
        # The first call also stamps the key's last use; measure the second.
        client.get(NOTIFICATIONS, HTTP_X_API_KEY=api_key)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(NOTIFICATIONS + "?per_page=100", HTTP_X_API_KEY=api_key)
        assert len(response.json()["notifications"]) == 3 * count
        return len(queries)

    assert queries_for(1) == queries_for(10)


def _notification_url(notification: Notification) -> str:
    return f"{NOTIFICATIONS}{encode_id(notification.pk)}/"


def test_marking_a_notification_read_and_unread(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    follow_add(follower=other_user, followed=user)
    notification = Notification.objects.get()
    response = client.patch(
        _notification_url(notification), "{}", "application/json", HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 200 and response.json()["notification"]["is_read"] is True
    response = client.patch(
        _notification_url(notification),
        json.dumps({"is_read": False}),
        "application/json",
        HTTP_X_API_KEY=api_key,
    )
    assert response.json()["notification"]["is_read"] is False
    assert response.json()["notification"]["id"] == encode_id(notification.pk)


def test_marking_read_with_a_form_body(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    follow_add(follower=other_user, followed=user)
    notification = Notification.objects.get()
    response = client.patch(
        _notification_url(notification),
        "is_read=1",
        "application/x-www-form-urlencoded",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.is_read


@pytest.mark.parametrize("body", ['{"is_read": "maybe"}', '{"is_read": 2}', "[1]", '"x"'])
def test_marking_read_with_a_wrongly_typed_body_is_a_400(
    client: Client, api_key: str, user: User, other_user: User, body: str
) -> None:
    follow_add(follower=other_user, followed=user)
    notification = Notification.objects.get()
    response = client.patch(
        _notification_url(notification), body, "application/json", HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 400
    notification.refresh_from_db()
    assert not notification.is_read


def test_someone_elses_notification_is_a_404(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    follow_add(follower=user, followed=other_user)
    theirs = Notification.objects.get()
    response = client.patch(
        _notification_url(theirs), "{}", "application/json", HTTP_X_API_KEY=api_key
    )
    missing = client.patch(
        f"{NOTIFICATIONS}zzzzzz/", "{}", "application/json", HTTP_X_API_KEY=api_key
    )
    assert response.status_code == missing.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_staff_may_mark_anyones_notification_read(
    client: Client, admin_key: str, user: User, other_user: User
) -> None:
    follow_add(follower=user, followed=other_user)
    theirs = Notification.objects.get()
    response = client.patch(
        _notification_url(theirs), "{}", "application/json", HTTP_X_API_KEY=admin_key
    )
    assert response.status_code == 200 and response.json()["notification"]["is_read"] is True


def test_the_notification_body_has_exactly_the_documented_fields(
    client: Client, api_key: str, user: User, other_user: User
) -> None:
    like_add(user=other_user, image=make_image(owner=user))
    (item,) = client.get(NOTIFICATIONS, HTTP_X_API_KEY=api_key).json()["notifications"]
    assert list(item) == list(NotificationSerializer().fields)
