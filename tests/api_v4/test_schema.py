from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern
from openapi_spec_validator import validate

from api_v4.urls import urlpatterns as v4_urlpatterns

pytestmark = pytest.mark.django_db

# The schema and its docs page describe the API; they are not operations of it.
NOT_OPERATIONS = {"api-schema", "api-v4-docs"}


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/4/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _openapi_path(pattern: URLPattern) -> str:
    # Django's `<str:id>` is OpenAPI's `{id}`.
    return "/api/4/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))


def test_the_schema_is_a_valid_openapi_document(schema: dict[str, Any]) -> None:
    validate(schema)


def test_the_schema_declares_the_api_key_header_and_the_session_cookie(
    schema: dict[str, Any],
) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["cookieAuth"]["type"] == "apiKey"
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_v4_operations_accept_the_key_or_the_session_as_alternatives(
    schema: dict[str, Any],
) -> None:
    security = schema["paths"]["/api/4/user/account/"]["get"]["security"]
    # A list of single-scheme objects is OpenAPI's "any one of these".
    assert {"ApiKeyAuth": []} in security
    assert {"cookieAuth": []} in security


def test_every_v4_route_in_the_urlconf_is_in_the_schema(schema: dict[str, Any]) -> None:
    routes = [p for p in v4_urlpatterns if p.name not in NOT_OPERATIONS]
    assert routes
    for pattern in routes:
        assert _openapi_path(pattern) in schema["paths"], pattern.pattern


def test_v4_error_responses_are_documented_with_the_error_body(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status_code", "error", "status_txt"}
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/4/"):
            continue
        for operation in operations.values():
            errors = {s: r for s, r in operation["responses"].items() if s.startswith(("4", "5"))}
            assert "401" in errors, path
            for response in errors.values():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", path


def test_every_operation_documents_the_throttle_and_the_ban_answers(
    schema: dict[str, Any],
) -> None:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation["responses"]
            assert "Retry-After" in responses["429"]["headers"], (method, path)
            assert "403" in responses, (method, path)
            if "requestBody" in operation:
                assert {"408", "415"} <= responses.keys(), (method, path)


def test_the_admin_id_tools_are_documented_as_staff_errors_included(
    schema: dict[str, Any],
) -> None:
    encode = schema["paths"]["/api/4/admin/tools/id/{id}/encode/"]["get"]
    assert {"200", "400", "401", "403"} <= set(encode["responses"])
    (parameter,) = encode["parameters"]
    assert parameter["name"] == "id" and parameter["in"] == "path"


def test_the_schema_answers_yaml_by_default_and_json_when_asked(client: Client) -> None:
    assert client.get("/api/4/schema/").content.startswith(b"openapi:")
    assert client.get("/api/4/schema/?format=json").json()["openapi"].startswith("3.")


def test_an_unknown_schema_format_is_a_json_404(client: Client) -> None:
    response = client.get("/api/4/schema/?format=xml")
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


def test_a_body_that_refuses_unknown_fields_says_so_in_the_schema(
    schema: dict[str, Any],
) -> None:
    body = schema["components"]["schemas"]["PatchedAccountSettings"]
    assert body["additionalProperties"] is False


def test_per_page_is_documented_with_its_bounds(schema: dict[str, Any]) -> None:
    parameters = schema["paths"]["/api/4/user/images/list/"]["get"]["parameters"]
    per_page = next(p for p in parameters if p["name"] == "per_page")["schema"]
    assert (per_page["minimum"], per_page["maximum"]) == (1, 100)


@pytest.mark.parametrize("query", ["per_page=", "per_page=0", "per_page=101", "sort=", "sort=x"])
def test_an_empty_or_out_of_range_paging_parameter_is_a_400(
    client: Client, api_key: str, query: str
) -> None:
    response = client.get(f"/api/4/user/images/list/?{query}", HTTP_X_API_KEY=api_key)
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


@pytest.mark.parametrize("value", [1, 0, "true", "yes", None])
def test_a_json_boolean_must_be_true_or_false(client: Client, api_key: str, value: object) -> None:
    response = client.patch(
        "/api/4/user/account/settings/",
        {"is_private": value},
        content_type="application/json",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 400


def test_a_form_boolean_may_be_spelt_1_or_true(client: Client, api_key: str) -> None:
    response = client.patch(
        "/api/4/user/account/settings/",
        "is_private=1&show_nsfw=true",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 200, response.content
    assert response.json()["user"]["is_private"] == 1


@pytest.mark.parametrize("content_type", ["", "text/plain"], ids=["no-type", "text-plain"])
def test_a_body_of_a_type_the_api_does_not_read_is_a_documented_415(
    client: Client, api_key: str, schema: dict[str, Any], content_type: str
) -> None:
    path = "/api/4/user/account/settings/"
    response = client.generic(
        "PATCH", path, "ä".encode(), content_type=content_type, HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == 415
    assert "415" in schema["paths"][path]["patch"]["responses"]
