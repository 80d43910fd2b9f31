"""API V4 bodies are bounded before they are read: an operation that takes no upload
refuses a body bigger than its fields can need, whatever its type, with a 413 in the one
error shape; Django's own field limits answer in that shape too, never its HTML page."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import LazySettings
from django.test import Client

from accounts.models import User
from chevereto.core.encoding import encode_id
from tests.conftest import files_under
from uploads.parsers import BODY_MAX_WITHOUT_UPLOAD

pytestmark = pytest.mark.django_db
SETTINGS = "/api/4/user/account/settings/"
NOTIFICATIONS = "/api/4/user/account/notifications/social/"
BOUNDARY = "limits-boundary"


def multipart(fields: list[tuple[str, str]], file: bytes | None = None) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    if file is not None:
        parts.append(
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            'name="source"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + file
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def patch(client: Client, key: str, body: bytes, content_type: str, path: str = SETTINGS):
    return client.generic("PATCH", path, body, content_type=content_type, HTTP_X_API_KEY=key)


def assert_too_big(response) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "status_code": 413,
        "error": {"message": "Request body too big", "code": 413},
        "status_txt": "Request Entity Too Large",
    }


@pytest.mark.parametrize("operation", ["settings", "notification"])
@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
def test_a_body_over_the_limit_of_an_operation_without_uploads_is_a_413_unread(
    client: Client, api_key: str, user: User, settings: LazySettings, kind: str, operation: str
) -> None:
    path = SETTINGS if operation == "settings" else f"{NOTIFICATIONS}{encode_id(1)}/"
    bio = "x" * BODY_MAX_WITHOUT_UPLOAD
    body, content_type = {
        "json": (json.dumps({"bio": bio}).encode(), "application/json"),
        "form": (urlencode({"bio": bio}).encode(), "application/x-www-form-urlencoded"),
        "multipart": (
            multipart([("bio", "short")], file=bio.encode()),
            f"multipart/form-data; boundary={BOUNDARY}",
        ),
    }[kind]
    assert_too_big(patch(client, api_key, body, content_type, path))
    user.refresh_from_db()
    assert user.bio == ""
    # A file part of a multipart body never reached the disk.
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def test_a_body_under_the_limit_is_read_and_validated(client: Client, api_key: str) -> None:
    body = json.dumps({"bio": "x" * (BODY_MAX_WITHOUT_UPLOAD // 2)}).encode()
    response = patch(client, api_key, body, "application/json")
    assert response.status_code == 400
    assert "bio" in response.json()["error"]["fields"]


@pytest.mark.parametrize("kind", ["form", "multipart"])
def test_more_fields_than_django_reads_is_a_413_in_the_error_shape(
    client: Client, api_key: str, kind: str
) -> None:
    fields = [(f"field{n}", "x") for n in range(300)]
    if kind == "form":
        response = patch(
            client, api_key, urlencode(fields).encode(), "application/x-www-form-urlencoded"
        )
    else:
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
        response = patch(client, api_key, multipart(fields), content_type)
    assert_too_big(response)


def test_a_query_string_of_more_fields_than_django_reads_is_a_400_naming_the_limit(
    client: Client, api_key: str, settings: LazySettings
) -> None:
    query = urlencode([(f"field{n}", "x") for n in range(300)])
    for path in ("/api/4/explore/", "/api/4/user/images/bulk/"):
        response = client.get(f"{path}?{query}", HTTP_X_API_KEY=api_key)
        assert response.status_code == 400, path
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        assert response.json()["error"] == {
            "message": f"Too many query parameters: at most {limit}.",
            "code": 400,
        }


def test_a_json_upload_over_the_sites_data_ceiling_is_a_413_unread(
    client: Client, api_key: str, settings: LazySettings
) -> None:
    # JSON is held whole to be parsed: its ceiling is the site's, not the uploader's.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({"source": "A" * (128 * 1024)}).encode()
    response = client.post(
        "/api/4/user/images/", body, content_type="application/json", HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "Request body too big"
