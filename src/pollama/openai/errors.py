"""OpenAI's error body for every ``/v1/`` route, rendered from the same domain errors as the native API, and the
decoding of request bodies whose failures must come out in that shape too."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from pollama.errors import BadRequest, PollamaError
from pollama.gojson import marshal
from pollama.server.errors import json_response, status_of

_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def openai_error(err: PollamaError) -> Response:
    """``{"error": {"message", "type", "param", "code"}}`` with Ollama's status for the error."""
    status = status_of(err)
    body = {"error": {"message": err.message, "type": _TYPES.get(status, "api_error"), "param": None, "code": None}}
    return json_response(marshal(body), status)


def decode_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest."""
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadRequest(f"invalid request body: {err}") from None
    if not isinstance(value, dict):
        raise BadRequest("invalid request body: expected a JSON object")
    return value
