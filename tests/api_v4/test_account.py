from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import api_key_revoke
from chevereto.core.models import SiteSettings

pytestmark = pytest.mark.django_db


def test_a_key_reads_its_own_account(client: Client, api_key: str) -> None:
    response = client.get("/api/4/account/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_the_key_also_works_as_a_query_parameter(client: Client, api_key: str) -> None:
    assert client.get(f"/api/4/account/?key={api_key}").json()["username"] == "alice"


@pytest.mark.parametrize("key", ["chv_nope_123", "garbage"])
def test_a_wrong_key_gets_chevereto_error_shape_with_code_100(client: Client, key: str) -> None:
    response = client.get("/api/4/account/", HTTP_X_API_KEY=key)
    assert response.status_code == 401
    assert response.json() == {
        "status_code": 401,
        "error": {"message": "Invalid API V1 key.", "code": 100},
        "status_txt": "Unauthorized",
    }


def test_a_revoked_key_gets_401_code_100(client: Client, user: User, api_key: str) -> None:
    api_key_revoke(user=user)
    body = client.get("/api/4/account/", HTTP_X_API_KEY=api_key).json()
    assert body["status_code"] == 401 and body["error"]["code"] == 100


def test_no_key_at_all_is_401_code_100(client: Client) -> None:
    body = client.get("/api/4/account/").json()
    assert body["status_code"] == 401 and body["error"]["code"] == 100


def test_the_guest_key_is_not_an_account(client: Client, site: SiteSettings) -> None:
    response = client.get("/api/4/account/", HTTP_X_API_KEY=site.guest_api_key)
    assert response.status_code in {401, 403}
    assert response.json()["status_code"] == response.status_code


def test_the_web_session_works_too(client_logged_in: Client) -> None:
    assert client_logged_in.get("/api/4/account/").json()["username"] == "alice"
