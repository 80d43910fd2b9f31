from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_user_account_route_answers_like_the_account_alias(
    client: Client, api_key: str
) -> None:
    user_route = client.get("/api/4/user/account/", HTTP_X_API_KEY=api_key)
    alias = client.get("/api/4/account/", HTTP_X_API_KEY=api_key)
    assert user_route.status_code == 200
    assert user_route.json()["username"] == "alice"
    assert user_route.json() == alias.json()


def test_the_user_account_route_works_with_the_web_session(client_logged_in: Client) -> None:
    assert client_logged_in.get("/api/4/user/account/").json()["username"] == "alice"


def test_the_user_account_route_without_a_key_is_401_code_100(client: Client) -> None:
    response = client.get("/api/4/user/account/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 100
