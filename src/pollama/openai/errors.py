"""OpenAI's error body for the ``/v1`` routes: ``{"error": {"message", "type", "param", "code"}}``.

The status is the native one (``status_of``); the type is Ollama's ``openai.NewError`` choice for that status.
"""

from __future__ import annotations

from starlette.responses import Response

from pollama.errors import PollamaError
from pollama.gojson import marshal
from pollama.server.errors import json_response, status_of


def error_type(status: int) -> str:
    if status == 400:
        return "invalid_request_error"
    if status == 404:
        return "not_found_error"
    return "api_error"


def error_body(message: str, status: int) -> dict[str, object]:
    return {"error": {"message": message, "type": error_type(status), "param": None, "code": None}}


def openai_error(err: PollamaError) -> Response:
    status = status_of(err)
    return json_response(marshal(error_body(err.message, status)), status)
