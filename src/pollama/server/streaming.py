"""Turning a use-case's async iterator into an HTTP response: NDJSON stream, or one JSON object.

An error before the first object becomes the response status; after it, one ``{"error": ...}`` line ends the
stream, as Ollama does. A client that goes away cancels the iterator (and so its generation) at once, for
streamed and non-streamed requests alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from pollama.api.errors import APIError
from pollama.api.jsonio import dumps, dumps_line
from pollama.inference import Services

log = logging.getLogger("pollama")


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def last_item(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Ollama's ``waitForStream``: a non-streamed progress request answers with its last object."""
    return items[-1]


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json; charset=utf-8")


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


async def _first(it: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return await it.__anext__()
    except StopAsyncIteration:
        return None


async def respond(
    request: Request,
    it: AsyncIterator[dict[str, Any]],
    stream: bool,
    merge: Callable[[list[dict[str, Any]]], dict[str, Any]],
) -> Response:
    if not stream:
        return await _collect(request, it, merge)
    try:
        first = await _first(it)
    except APIError as err:
        return error_response(err.status, err.message)
    if first is None:
        return error_response(500, "no response")

    async def body() -> AsyncIterator[bytes]:
        yield dumps_line(first)
        try:
            async for item in it:
                yield dumps_line(item)
        except APIError as err:
            yield dumps_line({"error": err.message})
        except Exception as err:  # the stream has started: the status is sent, so the error goes in-band
            log.exception("error while streaming")
            yield dumps_line({"error": str(err)})
        finally:
            await _aclose(it)

    return StreamingResponse(body(), media_type="application/x-ndjson")


async def _aclose(it: AsyncIterator[dict[str, Any]]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        # Starlette cancels a disconnected stream with an anyio scope that would cancel this await too.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await aclose()


async def _collect(
    request: Request, it: AsyncIterator[dict[str, Any]], merge: Callable[[list[dict[str, Any]]], dict[str, Any]]
) -> Response:
    async def gather() -> list[dict[str, Any]]:
        return [item async for item in it]

    task = asyncio.ensure_future(gather())
    watcher = asyncio.ensure_future(_wait_disconnect(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
        watcher.cancel()
    if task.cancelled():
        await _aclose(it)
        return Response(status_code=499)
    try:
        items = task.result()
    except APIError as err:
        return error_response(err.status, err.message)
    if not items:
        return error_response(500, "no response")
    return json_response(merge(items))


async def _wait_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def merge_generate(items: list[dict[str, Any]]) -> dict[str, Any]:
    last = dict(items[-1])
    if len(items) > 1:
        last["response"] = "".join(i.get("response", "") for i in items)
        thinking = "".join(i.get("thinking", "") for i in items)
        if thinking:
            last["thinking"] = thinking
    return _reorder(last, ("model", "created_at", "response", "thinking"))


def merge_chat(items: list[dict[str, Any]]) -> dict[str, Any]:
    last = dict(items[-1])
    if len(items) > 1:
        message = dict(last["message"])
        message["content"] = "".join(i["message"].get("content", "") for i in items)
        thinking = "".join(i["message"].get("thinking", "") for i in items)
        if thinking:
            message = _reorder({**message, "thinking": thinking}, ("role", "content", "thinking"))
        calls = [c for i in items for c in i["message"].get("tool_calls", [])]
        if calls:
            message["tool_calls"] = calls
        last["message"] = message
    return last


def _reorder(obj: dict[str, Any], head: tuple[str, ...]) -> dict[str, Any]:
    out = {k: obj[k] for k in head if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out
