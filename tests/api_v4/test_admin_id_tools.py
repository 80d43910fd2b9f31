from __future__ import annotations

import pytest
from django.test import Client

from chevereto.core.encoding import decode_id, encode_id
from chevereto.core.models import SiteSettings

pytestmark = pytest.mark.django_db


def test_staff_encode_an_id_with_the_sites_codec(
    client: Client, admin_key: str, site: SiteSettings
) -> None:
    response = client.get("/api/4/admin/tools/id/42/encode/", HTTP_X_API_KEY=admin_key)
    assert response.status_code == 200
    assert response.json() == {"id": 42, "id_encoded": encode_id(42)}


def test_staff_decode_an_encoded_id_back(
    client: Client, admin_key: str, site: SiteSettings
) -> None:
    encoded = encode_id(1234)
    response = client.get(f"/api/4/admin/tools/id/{encoded}/decode/", HTTP_X_API_KEY=admin_key)
    assert response.status_code == 200
    assert response.json() == {"id": 1234, "id_encoded": encoded}
    assert decode_id(encoded) == 1234


@pytest.mark.parametrize("bad", ["abc", "-5", "0", "1.5", "99999999999999999999999", "４２"])
def test_encoding_something_that_is_not_a_positive_id_is_a_400_in_the_error_shape(
    client: Client, admin_key: str, bad: str
) -> None:
    response = client.get(f"/api/4/admin/tools/id/{bad}/encode/", HTTP_X_API_KEY=admin_key)
    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400 and body["error"]["code"] == 400
    assert body["status_txt"] == "Bad Request"


@pytest.mark.parametrize("bad", ["!!!", "a" * 21, "-"])
def test_decoding_something_that_is_not_an_encoded_id_is_a_400_in_the_error_shape(
    client: Client, admin_key: str, bad: str
) -> None:
    response = client.get(f"/api/4/admin/tools/id/{bad}/decode/", HTTP_X_API_KEY=admin_key)
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


@pytest.mark.parametrize("action", ["encode", "decode"])
def test_a_user_who_is_not_staff_gets_403(client: Client, api_key: str, action: str) -> None:
    response = client.get(f"/api/4/admin/tools/id/1/{action}/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 403
    assert response.json()["status_code"] == 403


@pytest.mark.parametrize("action", ["encode", "decode"])
def test_no_key_gets_401_code_100(client: Client, action: str) -> None:
    response = client.get(f"/api/4/admin/tools/id/1/{action}/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 100
