"""What every API V4 view shares: who may call it, how ids and id lists are read, how a
missing (or someone else's) resource answers, and strict query strings.

Views stay thin: parse with these helpers and a serializer, call one service or selector,
answer with the resource wrapped in its name (`{"image": {...}}`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request

from albums.selectors import Viewer, viewer_from_request
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id

# At most this many ids in one bulk request: bigger batches are refused with a 400.
BULK_LIMIT = 100
# Query parameters any route may receive: the legacy key, and the paging of lists.
ALWAYS_ALLOWED = frozenset({"key"})
PAGING = frozenset({"cursor", "per_page", "sort"})


class IsSiteUser(permissions.BasePermission):
    """A logged-in user or a user's API key. The guest key (which authenticates nobody)
    and an anonymous caller are refused: 401 without credentials, 403 with the guest key."""

    message = "This route needs a user's API key or session; the guest key is not one."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


def viewer_of(request: Request) -> Viewer:
    return viewer_from_request(request)


def not_found(what: str) -> exceptions.NotFound:
    """The answer for a resource that does not exist *or* that the caller may not see: the
    two are indistinguishable, so an id never reveals that someone else's thing exists."""
    return exceptions.NotFound(f"{what} not found.")


def decode_or_404(encoded: str, *, what: str) -> int:
    try:
        return decode_id(encoded)
    except InvalidEncodedId:
        raise not_found(what) from None


def id_path_parameter(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id", str, OpenApiParameter.PATH, description=f"The {what}'s encoded id (`id_encoded`)"
    )


def strict_query(request: Request, allowed: Iterable[str]) -> None:
    """Refuse query parameters a route does not know (a misspelt filter silently ignored
    would answer the wrong list)."""
    known = ALWAYS_ALLOWED | frozenset(allowed)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise exceptions.ValidationError(
            {name: "Unknown query parameter." for name in unknown[:10]}
        )


def id_list(value: Any, *, name: str) -> list[str]:
    """A bulk request's ids: a JSON list of strings, or one comma-separated string.

    Returns the encoded ids as sent (deduplicated, in order); each is decoded and checked by
    the bulk operation, which reports the bad ones in `failed` instead of refusing the batch.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                raise exceptions.ValidationError({name: "Not a JSON list of ids."}) from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise exceptions.ValidationError(
            {name: "A list of encoded ids, or one comma-separated string of them."}
        )
    ids = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if not ids:
        raise exceptions.ValidationError({name: "At least one id is required."})
    if len(ids) > BULK_LIMIT:
        raise exceptions.ValidationError({name: f"At most {BULK_LIMIT} ids per request."})
    return ids


def bulk_ids_from(request: Request, name: str) -> list[str]:
    """`name` from a JSON body, a form body (repeated or comma-separated) or the query."""
    data = request.data
    if hasattr(data, "getlist"):
        values = data.getlist(name)
        raw: Any = values[0] if len(values) == 1 else (values or None)
    else:
        raw = data.get(name) if isinstance(data, dict) else None
    if raw is None:
        raw = request.query_params.get(name)
    if raw is None:
        raise exceptions.ValidationError({name: "This field is required."})
    return id_list(raw, name=name)


class BulkFailureSerializer(serializers.Serializer):
    id = serializers.CharField()
    error = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    """What every bulk operation answers: the ids it changed and why the others failed."""

    edited = serializers.ListField(child=serializers.CharField())
    failed = BulkFailureSerializer(many=True)


class BulkResult:
    """Collects a bulk operation's outcome id by id."""

    def __init__(self) -> None:
        self.edited: list[str] = []
        self.failed: list[dict[str, str]] = []

    def ok(self, pk: int) -> None:
        self.edited.append(encode_id(pk))

    def fail(self, encoded: str, error: str) -> None:
        self.failed.append({"id": encoded, "error": error})

    def body(self) -> dict[str, Any]:
        return {"edited": self.edited, "failed": self.failed}


class StrictBooleanField(serializers.BooleanField):
    """A boolean that a JSON body must send as `true`/`false` (DRF also takes 0, 1, "yes"
    and more, which the schema's `boolean` does not allow); a form body, where every value
    is text, may send `true`/`false`/`1`/`0`."""

    _FORM = {"true": True, "false": False, "1": True, "0": False}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        request = self.context.get("request")
        is_json = request is not None and (request.content_type or "").startswith(
            "application/json"
        )
        if isinstance(data, str) and not is_json and data.strip().lower() in self._FORM:
            return self._FORM[data.strip().lower()]
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")


# An id of a bulk list, and the comma-separated text of them (blanks between commas are
# skipped, so the text must hold one id at least).
ONE_ID_SCHEMA = {"type": "string", "pattern": r"\S"}
ID_LIST_TEXT_SCHEMA = {"type": "string", "pattern": r"[^,\s]"}


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": ONE_ID_SCHEMA, "minItems": 1, "maxItems": BULK_LIMIT},
            ID_LIST_TEXT_SCHEMA,
        ],
        "description": f"Up to {BULK_LIMIT} encoded ids: a JSON list or a comma-separated string",
    }
)
class IdListField(serializers.Field):
    """A bulk request's ids (see `id_list`), documented as both spellings it takes."""

    def to_internal_value(self, data: Any) -> list[str]:
        return id_list(data, name=self.field_name)

    def to_representation(self, value: Any) -> Any:
        return value


class WholeBodyMixin:
    """drf-spectacular documents a PATCH body as partial (every field optional); a bulk
    PATCH needs its ids, so its body is documented whole."""

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


# A name must hold a character that is whitespace neither to Python (which strips it) nor
# to the schema's regular expressions (ECMAScript's \s), so what the schema allows is taken.
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f\x85\ufeff]"


# An encoded id as a list filter takes it: letters and digits. One that names nothing
# (or decodes to no id at all) filters to an empty list, like someone else's album does.
ENCODED_ID_FILTER_SCHEMA = {"type": "string", "pattern": "^[0-9A-Za-z]{1,32}$"}


def encoded_id_filter(value: str, *, name: str) -> int | None:
    """The id a filter names; None when it is well formed but names no id; 400 otherwise."""
    if not value.isascii() or not value.isalnum() or len(value) > 32:
        raise exceptions.ValidationError({name: "An encoded id (letters and digits)."})
    try:
        return decode_id(value)
    except InvalidEncodedId:
        return None


def refuse_unknown_fields(data: Any, known: Iterable[str]) -> None:
    """A misspelt field silently ignored would look like a change that was made: bodies
    marked `closed_body` (api_v4.schema) refuse fields they do not declare."""
    names = set(data.keys()) if hasattr(data, "keys") else set()
    unknown = sorted(names - set(known) - ALWAYS_ALLOWED - {"csrfmiddlewaretoken"})
    if unknown:
        raise exceptions.ValidationError({name: "Unknown field." for name in unknown[:10]})
