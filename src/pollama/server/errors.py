"""The native API's rendering of domain errors: Ollama's status for each kind, and ``{"error": message}``.

Also Ollama's plain-text answers for unknown paths and methods. The ``/v1`` layers render the same domain
errors in their own shapes: each registers a renderer for its path prefix (``register_error_shape``), and the
one exception handler picks the renderer of the longest prefix that matches the request's path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pollama.errors import BadRequest, NotFound, PollamaError, ServerBusy, TooLarge, Unauthorized
from pollama.gojson import marshal

log = logging.getLogger("pollama")

RETRY_AFTER_SECONDS = 1
"""``Retry-After`` on a 503 for a full queue."""

_STATUS: tuple[tuple[type[PollamaError], int], ...] = (
    (BadRequest, 400),
    (Unauthorized, 401),
    (NotFound, 404),
    (TooLarge, 413),
    (ServerBusy, 503),
)


def status_of(err: PollamaError) -> int:
    """Ollama's HTTP status for a domain error; anything that is not the client's fault is a 500."""
    for cls, status in _STATUS:
        if isinstance(err, cls):
            return status
    return 500


def json_response(body: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json; charset=utf-8")


def error_response(err: PollamaError) -> Response:
    return json_response(marshal({"error": err.message}), status_of(err))


ErrorShape = Callable[[PollamaError], Response]
_SHAPES: dict[str, ErrorShape] = {}


def register_error_shape(prefix: str, render: ErrorShape) -> None:
    """Render domain errors of requests under ``prefix`` (e.g. ``/v1/``) with ``render``."""
    _SHAPES[prefix] = render


def render_error(path: str, exc: PollamaError) -> Response:
    """``exc`` in the shape of the API ``path`` belongs to: the native one unless a ``/v1`` layer claimed it
    (also for middleware, which answers before any route)."""
    matches = [p for p in _SHAPES if path.startswith(p)]
    response = _SHAPES[max(matches, key=len)](exc) if matches else error_response(exc)
    if isinstance(exc, ServerBusy):
        # Ollama sends no hint; a full queue drains as requests finish, and clients that honour the header
        # (the OpenAI and Anthropic SDKs among them) back off instead of retrying at once.
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def native_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for ``PollamaError``, rendered by ``render_error``."""
    assert isinstance(exc, PollamaError)
    return render_error(request.url.path, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer as Go's router does, in plain text."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return _go_text("405 method not allowed", 405)
    if exc.status_code == 404:
        return _go_text("404 page not found", 404)
    return _go_text(str(exc.detail), exc.status_code)


def _go_text(text: str, status: int) -> Response:
    # Go's router writes these with a bare text/plain, no charset; Starlette would add one.
    return Response(text, status_code=status, headers={"content-type": "text/plain"})
