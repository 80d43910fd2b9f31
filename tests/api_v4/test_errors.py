from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/4/nope/", "/api/4/nope", "/api/9/x", "/api/1/nothing", "/api/", "/api", "/api/4/"],
)
def test_an_unknown_api_path_is_a_json_404_in_chevereto_shape(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status_code"] == 404
    assert body["status_txt"] == "Not Found"
    assert body["error"]["code"] == 404
    assert path in body["error"]["message"]


def test_a_post_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page(client: Client) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/api/4/nope/", {"a": "b"})
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


def test_a_wrong_method_on_a_v4_route_is_a_json_405_in_chevereto_shape(
    client: Client, api_key: str
) -> None:
    response = client.delete("/api/4/account/", HTTP_X_API_KEY=api_key)
    assert response.status_code == 405
    assert response.json() == {
        "status_code": 405,
        "error": {"message": 'Method "DELETE" not allowed.', "code": 405},
        "status_txt": "Method Not Allowed",
    }


def test_a_wrong_method_on_the_schema_is_a_json_405(client: Client) -> None:
    response = client.post("/api/4/schema/")
    assert response.status_code == 405
    assert response.json()["status_code"] == 405


@pytest.mark.parametrize("path", ["/api/1/upload", "/api/1/upload/", "/1/upload"])
def test_api_v1_paths_still_reach_api_v1_not_the_catch_all(client: Client, path: str) -> None:
    # No key: API V1 answers its own 401 with code 100, which the catch-all never would.
    body = client.get(path).json()
    assert body["status_code"] == 401
    assert body["error"]["code"] == 100


def test_web_pages_outside_api_keep_their_html_404(client: Client) -> None:
    response = client.get("/apinope/definitely/not/here")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_a_wrong_method_on_the_docs_page_is_a_json_405_not_html(client: Client) -> None:
    response = client.post("/api/4/docs/")
    assert response.status_code == 405
    assert response.json()["status_code"] == 405
