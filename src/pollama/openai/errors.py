"""OpenAI's error body for every ``/v1/`` route, for the status the native API gives the same domain error, and
the decoding of request bodies whose failures must come out in that shape too. The HTTP response itself is the
route layer's (``server/routes_openai.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from pollama.api.jsonio import decode

_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def error_body(message: str, status: int) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}``, the type following the status as Ollama's does."""
    return {"error": {"message": message, "type": _TYPES.get(status, "api_error"), "param": None, "code": None}}


class _AnyObject(BaseModel):
    model_config = ConfigDict(extra="allow")


def decode_object(body: bytes, go_name: str) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest with Go's words for it, as Ollama answers (``go_name``
    is the request type Ollama decodes into)."""
    return dict(decode(body, _AnyObject, go_name).model_extra or {})
