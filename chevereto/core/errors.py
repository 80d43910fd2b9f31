"""The error shape every API answers with: Chevereto's
`{"status_code": N, "error": {"message": ..., "code": ...}, "status_txt": ...}`."""

from __future__ import annotations

from http import HTTPStatus


def error_body(*, status: int, message: str, code: int) -> dict[str, object]:
    try:
        status_txt = HTTPStatus(status).phrase
    except ValueError:
        status_txt = "Error"
    return {
        "status_code": status,
        "error": {"message": message, "code": code},
        "status_txt": status_txt,
    }
