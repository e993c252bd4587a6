"""The send timeout (``OLLAMA_SEND_TIMEOUT``, not in Ollama): a client that stops reading an answer while keeping
its connection open must not hold a runner slot forever.

Such a client is not a disconnect: its TCP window shuts, the server's buffers fill, and uvicorn's ``send`` waits
for room that never comes, while the request keeps its slot (and, with ``num_predict`` -2 or a context shift,
its generation never ends). Like llama-server's write timeout (``--timeout``, 600 s), a ``send`` that cannot
hand its bytes over within the timeout ends the request: the stream is cancelled, which cancels the generation
in the runner and releases the slot, and the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("pollama")

_UVICORN_INCOMPLETE = "ASGI callable returned without completing response."

# Set in the request's task once its client is given up on, so the error uvicorn logs for the cut response
# (in the same task, right after the app returns) is left out: the warning below already says what happened.
_given_up: contextvars.ContextVar[bool] = contextvars.ContextVar("pollama_send_timed_out", default=False)


class _Stalled(Exception):
    """Raised out of ``send`` when the client has not taken the bytes within the timeout."""


class _QuietCutFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_given_up.get() and record.getMessage() == _UVICORN_INCOMPLETE)


_filter = _QuietCutFilter()


class SendTimeoutMiddleware:
    """Ends a request whose client takes longer than ``timeout`` seconds to accept one write; infinite: never."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        uvicorn_log = logging.getLogger("uvicorn.error")
        if _filter not in uvicorn_log.filters:
            uvicorn_log.addFilter(_filter)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not math.isfinite(self.timeout) or self.timeout <= 0:
            await self.app(scope, receive, send)
            return

        async def timed_send(message: Message) -> None:
            try:
                async with asyncio.timeout(self.timeout):
                    await send(message)
            except TimeoutError:
                raise _Stalled from None

        try:
            await self.app(scope, receive, timed_send)
        except _Stalled as exc:
            # The traceback holds the frames that hold the response's body iterator; dropped, the iterator is
            # closed at once (which cancels the generation and frees the slot) instead of at the next GC cycle.
            exc.__traceback__ = None
            exc.__context__ = None
            _given_up.set(True)
            log.warning(
                "client stopped reading for %gs (OLLAMA_SEND_TIMEOUT), request cancelled: %s %s",
                self.timeout,
                scope["method"],
                scope["path"],
            )
