"""OpenAI's error body for every ``/v1/`` route, rendered from the same domain errors as the native API, and the
decoding of request bodies whose failures must come out in that shape too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from pollama.api.jsonio import decode
from pollama.errors import PollamaError
from pollama.gojson import marshal
from pollama.server.errors import json_response, status_of

_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def openai_error(err: PollamaError) -> Response:
    """``{"error": {"message", "type", "param", "code"}}`` with Ollama's status for the error."""
    status = status_of(err)
    body = {"error": {"message": err.message, "type": _TYPES.get(status, "api_error"), "param": None, "code": None}}
    return json_response(marshal(body), status)


class _AnyObject(BaseModel):
    model_config = ConfigDict(extra="allow")


def decode_object(body: bytes, go_name: str) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest with Go's words for it, as Ollama answers (``go_name``
    is the request type Ollama decodes into)."""
    return dict(decode(body, _AnyObject, go_name).model_extra or {})
