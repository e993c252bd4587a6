"""Opt-in API keys: with ``OLLAMA_API_KEYS``/``OLLAMA_API_KEYS_FILE`` set, every request must present one.

A key comes as ``Authorization: Bearer <key>`` (what the OpenAI SDK and ``ollama`` clients send) or as
``x-api-key: <key>`` (what Anthropic's SDK sends). Let through without one: ``GET``/``HEAD /`` (the liveness
check), ``GET``/``HEAD`` of the web page's files under ``/ui`` (they hold no secret; the page then asks for a key
and sends it with its API calls) and of the API's description (``/openapi.json``, ``/docs``: public, as vLLM's
are), and ``OPTIONS`` (a browser's preflight never carries credentials; the CORS middleware in front answers it).
A missing or wrong key is a 401 in the shape of the API the path belongs to: native ``{"error": ...}``, OpenAI's
``{"error": {..., "code": "invalid_api_key"}}`` under ``/v1/``, Anthropic's ``authentication_error`` under
``/v1/messages``. Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pollama.errors import Unauthorized
from pollama.gojson import marshal
from pollama.server.errors import error_response, json_response
from pollama.server.routes_anthropic import anthropic_error

NATIVE_MESSAGE = "unauthorized"
OPENAI_MESSAGE = "Incorrect API key provided"
ANTHROPIC_MESSAGE = "invalid x-api-key"


def presented_keys(scope: Scope) -> list[bytes]:
    """The keys a request carries: the token of every ``Authorization: Bearer`` header and every ``x-api-key``."""
    keys = []
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                keys.append(token.strip())
        elif name == b"x-api-key" and value.strip():
            keys.append(value.strip())
    return keys


def key_matches(presented: Iterable[bytes], keys: Iterable[bytes]) -> bool:
    """Whether any presented key is one of ``keys``; every pair is compared, so the time does not say which."""
    ok = False
    for candidate in presented:
        for key in keys:
            ok |= hmac.compare_digest(candidate, key)
    return ok


def unauthorized(path: str) -> Response:
    """The 401 in the shape of the API ``path`` belongs to."""
    if path.startswith("/v1/messages"):
        return anthropic_error(Unauthorized(ANTHROPIC_MESSAGE))
    if path.startswith("/v1/"):
        body = {
            "error": {
                "message": OPENAI_MESSAGE,
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
        return json_response(marshal(body), 401)
    return error_response(Unauthorized(NATIVE_MESSAGE))


class APIKeyMiddleware:
    """Refuses requests without one of ``keys``; with no keys it is a pass-through (the server is open)."""

    def __init__(self, app: ASGIApp, keys: Iterable[str]) -> None:
        self.app = app
        self.keys = [k.encode() for k in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or _exempt(scope):
            await self.app(scope, receive, send)
            return
        if key_matches(presented_keys(scope), self.keys):
            await self.app(scope, receive, send)
            return
        response = unauthorized(scope["path"])
        # RFC 6750: tell the client which scheme to use.
        response.headers["www-authenticate"] = "Bearer"
        await response(scope, receive, send)


def _exempt(scope: Scope) -> bool:
    method = scope["method"]
    path = scope["path"]
    return method == "OPTIONS" or (method in ("GET", "HEAD") and (path in _PUBLIC or path.startswith("/ui/")))


_PUBLIC = frozenset({"/", "/ui", "/openapi.json", "/docs"})
