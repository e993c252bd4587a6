"""The request body size limit (``OLLAMA_MAX_BODY``), not in Ollama: a 413 instead of buffering any size, in
the error shape of the API the path belongs to (native, OpenAI's under ``/v1/``, Anthropic's under
``/v1/messages``).

Every route reads its whole JSON body into memory before parsing it, so without a cap one request can take
all of the server's memory. A ``Content-Length`` over the limit is refused before a byte is read; a body
without one (chunked) is counted as it arrives and refused once it passes the limit. ``/api/blobs/`` is
exempt: blob uploads are model weights, gigabytes streamed to disk, never held in memory.
"""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pollama.errors import TooLarge
from pollama.server.errors import render_error

log = logging.getLogger("pollama")

MESSAGE = "http: request body too large"
"""Go's ``http.MaxBytesError`` text, what a Go server capping bodies with ``http.MaxBytesReader`` answers."""

EXEMPT_PREFIXES = ("/api/blobs/",)


class _BodyTooLarge(Exception):
    """Raised out of ``receive`` when a streamed body passes the limit; caught by the middleware below."""


def too_large(path: str) -> Response:
    """The 413 in the shape of the API ``path`` belongs to."""
    return render_error(path, TooLarge(MESSAGE))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server in front (uvicorn/h11) refuses a malformed one itself
    return None


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes with a 413; ``limit`` 0 means no limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limit or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.limit:
            await too_large(scope["path"])(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                # A route that answers before reading all of its body has nothing left to refuse.
                log.warning("request body over %d bytes after the response started: %s", self.limit, scope["path"])
                return
            await too_large(scope["path"])(scope, receive, send)
