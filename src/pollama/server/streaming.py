"""Turning a use-case's async iterator of typed responses into an HTTP response: NDJSON, or one JSON object.

A domain error before the first object propagates to the API's error handler, which picks the status; after
it, one ``{"error": ...}`` line ends the stream, as Ollama does. A client that goes away cancels the iterator
(and so its generation) at once, for streamed and non-streamed requests alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from pollama.api.responses import WireResponse
from pollama.errors import Failed, PollamaError
from pollama.gojson import encode, marshal
from pollama.server.errors import json_response
from pollama.services import Services

log = logging.getLogger("pollama")

W = TypeVar("W", bound=WireResponse)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def respond(
    request: Request,
    it: AsyncIterator[W],
    stream: bool,
    combine: Callable[[Sequence[W]], W],
) -> Response:
    """``stream``: NDJSON of every object; otherwise the one object ``combine`` makes of them all."""
    if not stream:
        return await _collect(request, it, combine)
    try:
        first = await anext(it)
    except StopAsyncIteration:
        raise Failed("no response") from None
    if first.whole:
        await _aclose(it)
        return json_response(marshal(first.to_wire()))

    async def body() -> AsyncIterator[bytes]:
        yield ndjson_line(first.to_wire())
        try:
            async for item in it:
                yield ndjson_line(item.to_wire())
        except PollamaError as err:
            yield ndjson_line({"error": err.message})
        except Exception as err:  # the stream has started: the status is sent, so the error goes in-band
            log.exception("error while streaming")
            yield ndjson_line({"error": str(err)})
        finally:
            await _aclose(it)

    return StreamingResponse(body(), media_type="application/x-ndjson")


def ndjson_line(value: object) -> bytes:
    """One NDJSON line as Go encodes it, except that U+0085 (NEL) is escaped: Python's ``str.splitlines``, and so
    httpx's ``iter_lines`` under the official ``ollama`` client, splits a line there, and a model may well print
    it. The escape is the same JSON string; the raw character can only occur inside a string."""
    return encode(value).replace(b"\xc2\x85", b"\\u0085")


async def _aclose(it: AsyncIterator[W]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        # Starlette cancels a disconnected stream with an anyio scope that would cancel this await too.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await aclose()


async def _collect(request: Request, it: AsyncIterator[W], combine: Callable[[Sequence[W]], W]) -> Response:
    async def gather() -> list[W]:
        return [item async for item in it]

    task = asyncio.ensure_future(gather())
    watcher = asyncio.ensure_future(_wait_disconnect(request))
    finished = False
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finished = task in done
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            # cancel() only asks: wait until the generation has stopped, so nothing is read from (or left
            # running in) an unfinished task.
            await asyncio.wait({task})
    if not finished:
        if not task.cancelled():
            task.exception()  # read, so that asyncio does not log an error the client is not there to see
        await _aclose(it)
        return Response(status_code=499)
    items = task.result()
    if not items:
        raise Failed("no response")
    return json_response(marshal(combine(items).to_wire()))


async def _wait_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
