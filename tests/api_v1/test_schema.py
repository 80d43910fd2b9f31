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
    names = {param["name"] for param in upload["parameters"]}
    assert {"key", "source", "image", "title", "album_id", "expiration", "format"} <= names
