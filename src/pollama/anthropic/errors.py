"""Anthropic's error body: ``{"type": "error", "error": {"type", "message"}, "request_id"}``, its error type
named after the HTTP status as Anthropic names them."""

from __future__ import annotations

from typing import Any

from pollama.anthropic.translate import new_id

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    return _TYPES.get(status, "api_error")


def error_body(status: int, message: str, request_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type(status), "message": message},
        "request_id": request_id or new_id("req"),
    }
