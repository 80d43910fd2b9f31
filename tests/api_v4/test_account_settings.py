"""PATCH user/account/settings/ and user/account/api-key/: the caller's own account."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from api_v4.views import AccountUserSerializer
from chevereto.core.models import SiteSettings
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SETTINGS = "/api/4/user/account/settings/"
API_KEY = "/api/4/user/account/api-key/"


def patch(client: Client, key: str, body: object) -> object:
    return client.patch(
        SETTINGS, data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=key
    )


def test_a_user_changes_their_profile_and_preferences(
    client: Client, user: User, api_key: str
) -> None:
    response = patch(
        client,
        api_key,
        {
            "name": "Alice Liddell",
            "bio": "Photos of harbours.",
            "website": "https://alice.example.com/",
            "is_private": True,
            "show_nsfw": True,
            "timezone": "Europe/Madrid",
            "email": "alice@wonderland.example",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()["user"]
    assert body["name"] == "Alice Liddell"
    assert body["bio"] == "Photos of harbours."
    assert body["website"] == "https://alice.example.com/"
    assert body["is_private"] == 1
    assert (body["email"], body["show_nsfw"], body["timezone"]) == (
        "alice@wonderland.example",
        1,
        "Europe/Madrid",
    )
    user.refresh_from_db()
    assert user.is_private and user.show_nsfw and user.timezone == "Europe/Madrid"


def test_the_answer_has_exactly_the_documented_owner_fields(client: Client, api_key: str) -> None:
    body = patch(client, api_key, {}).json()["user"]
    assert list(body) == list(AccountUserSerializer().fields)


def test_a_form_body_works_too(client: Client, user: User, api_key: str) -> None:
    response = client.patch(
        SETTINGS,
        data="name=Al&is_private=true",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert (user.name, user.is_private) == ("Al", True)


def test_an_empty_timezone_means_the_sites(client: Client, user: User, api_key: str) -> None:
    user.timezone = "Asia/Tokyo"
    user.save()
    assert patch(client, api_key, {"timezone": ""}).status_code == 200
    user.refresh_from_db()
    assert user.timezone == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_private": "maybe"}, "is_private"),
        ({"show_nsfw": None}, "show_nsfw"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://files.example.com/"}, "website"),
        ({"name": "x" * 61}, "name"),
        ({"bio": "x" * 501}, "bio"),
        ({"name": 5}, "name"),
        ({"name": ["Alice"]}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "mallory"}, "username"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_a_bad_field_is_a_400_naming_it_and_nothing_changes(
    client: Client, user: User, api_key: str, body: dict[str, object], field: str
) -> None:
    response = patch(client, api_key, {"name": "Changed", **body})
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["status_code"] == 400
    assert field in error["error"]["fields"]
    user.refresh_from_db()
    assert user.name == "" and user.username == "alice" and not user.is_staff


def test_a_body_that_is_not_an_object_is_a_400(client: Client, api_key: str) -> None:
    assert patch(client, api_key, ["name", "Al"]).status_code == 400


def test_an_email_of_another_account_is_refused_without_saying_it_is_taken(
    client: Client, user: User, other_user: User, api_key: str
) -> None:
    taken = patch(client, api_key, {"email": "BOB@example.com"})
    malformed = patch(client, api_key, {"email": "bob@"})
    assert taken.status_code == malformed.status_code == 400
    assert taken.json()["error"]["fields"] == malformed.json()["error"]["fields"]
    assert taken.json()["error"]["fields"]["email"] == ["This email cannot be used."]
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_keeping_your_own_email_in_another_case_is_fine(
    client: Client, user: User, api_key: str
) -> None:
    assert patch(client, api_key, {"email": "ALICE@example.com"}).status_code == 200


def test_settings_need_a_user(client: Client, site: SiteSettings) -> None:
    assert patch(client, "", {"name": "x"}).status_code == 401
    assert patch(client, site.guest_api_key, {"name": "x"}).status_code == 403


def test_a_session_needs_its_csrf_token(user: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.patch(SETTINGS, data="{}", content_type="application/json")
    assert response.status_code == 403


# -- API key -----------------------------------------------------------------------------


def test_the_key_route_shows_the_prefix_never_the_key(
    client: Client, user: User, api_key: str
) -> None:
    body = client.get(API_KEY, HTTP_X_API_KEY=api_key).json()["api_key"]
    assert api_key.startswith(body["prefix"])
    assert api_key not in json.dumps(body)
    assert body["created_at"] and body["last_used_at"]


def test_a_session_user_without_a_key_sees_null(client_logged_in: Client) -> None:
    assert client_logged_in.get(API_KEY).json() == {"api_key": None}


def test_rotating_shows_the_new_key_once_and_the_old_one_stops_working(
    client: Client, user: User, api_key: str
) -> None:
    response = client.post(API_KEY, HTTP_X_API_KEY=api_key)
    assert response.status_code == 201
    new_key = response.json()["api_key"]["key"]
    assert new_key.startswith(response.json()["api_key"]["prefix"])
    assert client.get(API_KEY, HTTP_X_API_KEY=api_key).status_code == 401
    shown = client.get(API_KEY, HTTP_X_API_KEY=new_key).json()["api_key"]
    assert "key" not in shown
    assert ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_a_revoked_key_gets_401(client: Client, user: User, api_key: str) -> None:
    response = client.delete(API_KEY, HTTP_X_API_KEY=api_key)
    assert response.json() == {"revoked": True}
    after = client.get(API_KEY, HTTP_X_API_KEY=api_key)
    assert after.status_code == 401 and after.json()["error"]["code"] == 100
    assert client.get(SETTINGS, HTTP_X_API_KEY=api_key).status_code == 401


def test_revoking_through_the_session_with_no_key_revokes_nothing(
    client_logged_in: Client,
) -> None:
    assert client_logged_in.delete(API_KEY).json() == {"revoked": False}


def test_the_guest_key_has_no_api_key_route(client: Client, site: SiteSettings) -> None:
    assert client.get(API_KEY, HTTP_X_API_KEY=site.guest_api_key).status_code == 403
    assert client.post(API_KEY, HTTP_X_API_KEY=site.guest_api_key).status_code == 403


def test_one_users_rotation_leaves_anothers_key_alone(client: Client, api_key: str) -> None:
    carol = make_user("carol")
    carols = api_key_create(user=carol).key
    client.post(API_KEY, HTTP_X_API_KEY=api_key)
    assert client.get(API_KEY, HTTP_X_API_KEY=carols).status_code == 200


def test_an_unknown_query_parameter_is_a_400(client: Client, api_key: str) -> None:
    assert client.get(API_KEY + "?verbose=1", HTTP_X_API_KEY=api_key).status_code == 400
