"""Every admin operation of the schema (`/api/4/admin/...`) is staff only: a user's key gets
403 and no credentials 401, before the route looks at its input; staff get past the gate.

The walk reads the operations from the schema, so a new admin route is walked the day it is
added. What each route does for staff is tested with the route; here staff only have to
get an answer that is neither a refusal of who they are nor a crash.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db

# Path parameters of admin routes, filled with things that do not exist: the gate comes
# first, so users never learn whether they do.
PLACEHOLDERS = {"id": "999999", "ip": "203.0.113.250", "username": "nobody_here"}


def admin_operations() -> list[tuple[str, str]]:
    client = Client()
    schema = client.get("/api/4/schema/?format=json").json()
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/4/admin/")
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)


def _keys() -> dict[str, str]:
    user = User.objects.create_user(username="walker", email="w@example.com", password=None)
    staff = User.objects.create_user(
        username="root", email="r@example.com", password=None, is_staff=True, is_superuser=True
    )
    return {"user": api_key_create(user=user).key, "staff": api_key_create(user=staff).key}


def _call(client: Client, method: str, path: str, key: str | None) -> Any:
    headers = {"HTTP_X_API_KEY": key} if key else {}
    body = json.dumps({}) if method in {"POST", "PATCH", "PUT"} else None
    if body is None:
        return client.generic(method, _url(path), **headers)
    return client.generic(method, _url(path), body, content_type="application/json", **headers)


def test_the_schema_has_admin_operations() -> None:
    assert len(admin_operations()) >= 2


def test_every_admin_operation_refuses_users_and_guests(client: Client) -> None:
    keys = _keys()
    wrong: list[str] = []
    for method, path in admin_operations():
        for who, key, expected in (("user", keys["user"], 403), ("guest", None, 401)):
            response = _call(client, method, path, key)
            if response.status_code != expected:
                wrong.append(f"{method} {path} as {who}: {response.status_code}")
                continue
            body = response.json()
            if body.get("status_code") != expected or "error" not in body:
                wrong.append(f"{method} {path} as {who}: not Chevereto's error shape: {body}")
    assert wrong == []


def test_every_admin_operation_lets_staff_through(client: Client) -> None:
    keys = _keys()
    wrong = []
    for method, path in admin_operations():
        response = _call(client, method, path, keys["staff"])
        if response.status_code in {401, 403} or response.status_code >= 500:
            wrong.append(f"{method} {path}: {response.status_code} {response.content[:200]!r}")
    assert wrong == []
