from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_documents_the_v1_upload(client: Client) -> None:
    response = client.get("/api/4/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    upload = schema["paths"]["/api/1/upload"]["post"]
    assert {param["name"] for param in upload["parameters"]} == {"key"}
    for media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        body = upload["requestBody"]["content"][media_type]["schema"]
        names = set(body["properties"])
        assert {"key", "source", "image", "title", "album_id", "expiration", "format"} <= names
        # V1's rule, stated by the schema: one of the two sources.
        assert body["anyOf"] == [{"required": ["source"]}, {"required": ["image"]}]
