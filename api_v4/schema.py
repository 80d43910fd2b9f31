"""What API V4's OpenAPI schema says beyond what drf-spectacular infers on its own."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """ApiKeyAuthentication as an `apiKey` scheme, so clients see the `X-API-Key` header.

    drf-spectacular lists every authentication class of a view as an alternative, so an
    operation reads "key *or* session cookie", which is how the API behaves. The legacy
    `key` query or form parameter still works but is not advertised: the header keeps
    keys out of logs and browser history.
    """

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class ErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.IntegerField(help_text="Chevereto's error code (100: missing or bad key)")


class ErrorSerializer(serializers.Serializer):
    """Chevereto's error body, the one shape of every API error (chevereto.core.errors)."""

    status_code = serializers.IntegerField(help_text="Equal to the HTTP status")
    error = ErrorDetailSerializer()
    status_txt = serializers.CharField()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation, each with the error body."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=HTTPStatus(status).phrase)
        for status in statuses
    }


# Request bodies whose unknown fields are refused with a 400: the schema says so
# (`additionalProperties: false`), so clients and fuzzers know an extra field is an error.
_CLOSED_COMPONENTS: set[str] = set()


def closed_body(serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """Class decorator: this request serializer's view refuses fields it does not declare."""
    name = serializer.__name__.removesuffix("Serializer")
    # drf-spectacular names a PATCH body "Patched<Name>" (all fields optional).
    _CLOSED_COMPONENTS.update({name, f"Patched{name}"})
    return serializer


def close_bodies_hook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: mark the closed bodies."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in _CLOSED_COMPONENTS and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


# Answers any operation may give, whatever its view: a client address over its wrong-key
# limit gets 429 before the key is looked up (accounts.throttle), a banned address gets 403
# before any work (chevereto.core.banmiddleware), a query string of more fields than Django
# reads gets 400 (api_v4.errors). An operation that takes a body also answers 408 to a body
# that stops arriving (the web server's guard, chevereto.core.slowclients), 413 to one over
# Django's size or field limits, and 415 to one of a type it does not read, or of no
# declared type at all (DRF's parser negotiation).
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


def site_wide_responses_hook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document the answers every operation may give."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = {"400": None, "403": None, "429": _RETRY_AFTER}
            if "requestBody" in operation:
                wanted.update({"408": None, "413": None, "415": None})
            for status, headers in wanted.items():
                if status in responses:
                    continue
                response: dict[str, Any] = {
                    "description": HTTPStatus(int(status)).phrase,
                    "content": error,
                }
                if headers:
                    response["headers"] = headers
                responses[status] = response
            if "429" in responses and _RETRY_AFTER.keys() - responses["429"].get("headers", {}):
                responses["429"].setdefault("headers", {}).update(_RETRY_AFTER)
    return result
