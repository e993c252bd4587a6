"""Server-sent events for the ``/v1`` layers: an async iterator of events becomes a ``text/event-stream``.

Each event is ``(name, data)``: ``event: <name>`` (when named, as Anthropic's and OpenAI's Responses streams do)
then ``data: <data>`` and a blank line. The iterator is closed when the client goes away, which cancels the
generation under it, as for the native NDJSON streams.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
from starlette.responses import StreamingResponse

Event = tuple[str | None, str]


def frame(name: str | None, data: str) -> bytes:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {data}\n\n".encode()


def sse_response(events: AsyncIterator[Event]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        try:
            async for name, data in events:
                yield frame(name, data)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await aclose()

    return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})
