"""``POST /v1/responses``: OpenAI's Responses API over the native chat use-case, stateless as in Ollama.

The body is translated to a native ``ChatRequest`` (``openai.responses``), answered by ``inference.chat`` and
translated back (``openai.responses_out``): one ``response`` object, or its SSE events. Errors, including
those of the body itself, come out in OpenAI's shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama import inference
from pollama.api.responses import ChatResponse
from pollama.errors import BadRequest, Failed, PollamaError
from pollama.openai.responses import parse_request, to_chat_request
from pollama.openai.responses_out import Echo, StreamConverter, to_response
from pollama.server.errors import json_response, register_error_shape
from pollama.server.routes_openai import openai_error
from pollama.server.sse import Event, sse_response
from pollama.server.streaming import services

log = logging.getLogger("pollama")

register_error_shape("/v1/responses", openai_error)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def responses(request: Request) -> Response:
    req = parse_request(await request.body())
    chat_req = to_chat_request(req)
    if not req.model:
        raise BadRequest("model is required")
    if not chat_req.messages:
        raise BadRequest("input is required")
    echo = Echo(req)
    it = inference.chat(services(request), chat_req)
    if not req.stream:
        chunks = await _gather(request, it)
        if chunks is None:
            return Response(status_code=499)
        if not chunks:
            raise Failed("no response")
        return json_response(_json(to_response(echo, ChatResponse.combine(chunks))))
    try:
        # The first chunk comes before the stream starts, so a missing model is still an HTTP error.
        first = await anext(it)
    except StopAsyncIteration:
        raise Failed("no response") from None
    except BaseException:
        await _aclose(it)
        raise
    return sse_response(_events(StreamConverter(echo), first, it))


async def _events(conv: StreamConverter, first: ChatResponse, it: AsyncIterator[ChatResponse]) -> AsyncIterator[Event]:
    for name, data in conv.start() + conv.process(first):
        yield name, _json(data)
    if first.done:
        return
    try:
        async for chunk in it:
            for name, data in conv.process(chunk):
                yield name, _json(data)
    except PollamaError as err:
        name, data = conv.fail(err.message)
        yield name, _json(data)
    except Exception as err:  # the stream has started: the status is sent, so the failure goes in-band
        log.exception("error while streaming a response")
        name, data = conv.fail(str(err))
        yield name, _json(data)
    finally:
        await _aclose(it)


async def _gather(request: Request, it: AsyncIterator[ChatResponse]) -> list[ChatResponse] | None:
    """Every chunk of a non-streamed answer, or None when the client went away first (which stops the
    generation, as for the native routes)."""

    async def gather() -> list[ChatResponse]:
        return [chunk async for chunk in it]

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    task, watcher = asyncio.ensure_future(gather()), asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        await _aclose(it)
        return None
    return task.result()


async def _aclose(it: AsyncIterator[ChatResponse]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        await aclose()


routes = [Route("/v1/responses", responses, methods=["POST"])]
