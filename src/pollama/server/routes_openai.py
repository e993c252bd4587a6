"""The OpenAI routes (``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``, ``/v1/models``): decode
OpenAI's body into native requests (``pollama.openai``), run the native use-cases — one run per choice, all at
once, so that the runner batches them — and encode OpenAI's answer, as JSON or as server-sent events ending in
``data: [DONE]``.

Domain errors, including those of the body, come out in OpenAI's shape: this module registers
``openai_error`` for ``/v1/``. Errors before the first token are the response's status; after it (streaming)
they are a ``data: {"error": ...}`` frame, which the OpenAI SDKs raise as an ``APIError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama import inference
from pollama.api.responses import ChatResponse, GenerateResponse
from pollama.errors import Failed, ModelNotFound, PollamaError
from pollama.gojson import marshal
from pollama.inference.core import find_model
from pollama.inference.embed import embed as embed_use_case
from pollama.openai import chat as oai_chat
from pollama.openai import completions as oai_completions
from pollama.openai import embeddings as oai_embeddings
from pollama.openai import models as oai_models
from pollama.openai.errors import decode_object, error_body
from pollama.server.errors import json_response, register_error_shape, status_of
from pollama.server.sse import Event, sse_response
from pollama.server.streaming import services

log = logging.getLogger("pollama")

T = TypeVar("T")
R_contra = TypeVar("R_contra", contravariant=True)


def openai_error(err: PollamaError) -> Response:
    """A domain error in OpenAI's shape, with the status the native API gives it."""
    status = status_of(err)
    return json_response(marshal(error_body(err.message, status)), status)


register_error_shape("/v1/", openai_error)


def _id(prefix: str) -> str:
    return f"{prefix}-{random.randrange(999)}"


async def _aclose(it: AsyncIterator[Any]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await aclose()


async def _first(it: AsyncIterator[T]) -> T:
    try:
        return await anext(it)
    except StopAsyncIteration:
        raise Failed("no response") from None


async def _chain(first: T, it: AsyncIterator[T]) -> AsyncIterator[T]:
    try:
        yield first
        async for item in it:
            yield item
    finally:
        await _aclose(it)


async def started(its: Sequence[AsyncIterator[T]]) -> list[AsyncIterator[T]]:
    """The runs, the first with its first item taken already, so that a domain error (unknown model, bad option:
    the runs share both) is raised before anything is answered; on an error every run is closed.

    Only the first is started here: a started run holds one of the model's parallel slots until it is read
    on, so taking every run's first item at once waits forever when there are more runs than slots."""
    try:
        first = await _first(its[0])
    except BaseException:
        for it in its:
            await _aclose(it)
        raise
    return [_chain(first, its[0]), *its[1:]]


async def merged(its: Sequence[AsyncIterator[T]]) -> AsyncIterator[tuple[int, T]]:
    """The items of several runs as they come, each with its run's index; an error of one run ends them all."""
    queue: asyncio.Queue[tuple[int, T | None] | BaseException] = asyncio.Queue()

    async def pump(i: int, it: AsyncIterator[T]) -> None:
        try:
            async for item in it:
                await queue.put((i, item))
            await queue.put((i, None))
        except Exception as err:
            await queue.put(err)
        finally:
            await _aclose(it)

    tasks = [asyncio.create_task(pump(i, it)) for i, it in enumerate(its)]
    try:
        remaining = len(tasks)
        while remaining:
            got = await queue.get()
            if isinstance(got, BaseException):
                raise got
            index, item = got
            if item is None:
                remaining -= 1
            else:
                yield index, item
    finally:
        for task in tasks:
            task.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.gather(*tasks, return_exceptions=True)


async def _collect(
    request: Request, its: list[AsyncIterator[T]], combine: Callable[[Sequence[T]], T]
) -> list[T] | None:
    """Every run's items combined into one answer each; None when the client went away, which cancels the runs
    at once (while they wait for the runner too)."""

    async def gather() -> list[T]:
        # Nothing is answered before every run is done, so an error of any run still becomes the status.
        parts: list[list[T]] = [[] for _ in its]
        async for index, item in merged(its):
            parts[index].append(item)
        return [combine(p) for p in parts]

    task = asyncio.ensure_future(gather())
    watcher = asyncio.ensure_future(_until_disconnect(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for it in its:
                await _aclose(it)
    return task.result() if task.done() and not task.cancelled() else None


async def _until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _error_frame(err: Exception) -> str:
    if isinstance(err, PollamaError):
        return marshal(error_body(err.message, status_of(err)))
    log.exception("error while streaming", exc_info=err)
    return marshal(error_body(str(err), 500))


class _Chunks(Protocol[R_contra]):
    """What turns one choice's native answers into OpenAI chunks (chat's or completions')."""

    def chunks(self, index: int, resp: R_contra) -> list[dict[str, Any]]: ...

    def usage_chunk(self) -> dict[str, Any]: ...


def _stream(runs: Sequence[AsyncIterator[R_contra]], writer: _Chunks[R_contra], include_usage: bool) -> Response:
    """The choices' answers as SSE chunks in arrival order, the usage chunk when asked for, then ``[DONE]``."""

    async def events() -> AsyncIterator[Event]:
        try:
            async for index, resp in merged(runs):
                for chunk in writer.chunks(index, resp):
                    yield None, marshal(chunk)
        except Exception as err:
            yield None, _error_frame(err)
            return
        if include_usage:
            yield None, marshal(writer.usage_chunk())
        yield None, "[DONE]"

    return sse_response(events())


async def chat_completions(request: Request) -> Response:
    call = oai_chat.decode_chat(decode_object(await request.body(), "ChatCompletionRequest"))
    svc = services(request)
    model = call.request.model or ""
    requests = [oai_chat.seeded(call.request, i) for i in range(call.n)] if call.n > 1 else [call.request]
    its = [inference.chat(svc, r) for r in requests]
    cid, created = _id("chatcmpl"), int(time.time())
    if not call.stream:
        answers = await _collect(request, its, ChatResponse.combine)
        if answers is None:
            return Response(status_code=499)
        return json_response(marshal(oai_chat.completion_json(cid, created, model, answers, call)))
    runs = await started(its)
    return _stream(runs, oai_chat.ChunkWriter(cid, created, model, call), call.include_usage)


async def completions(request: Request) -> Response:
    call = oai_completions.decode_completion(decode_object(await request.body(), "CompletionRequest"))
    svc = services(request)
    model = call.requests[0].model or ""
    its = [inference.generate(svc, r) for r in call.requests]
    cid, created = _id("cmpl"), int(time.time())
    if not call.stream:
        answers = await _collect(request, its, GenerateResponse.combine)
        if answers is None:
            return Response(status_code=499)
        return json_response(marshal(oai_completions.completion_json(cid, created, model, answers, call)))
    runs = await started(its)
    return _stream(runs, oai_completions.CompletionChunks(cid, created, model, call), call.include_usage)


async def embeddings(request: Request) -> Response:
    req, encoding = oai_embeddings.decode_embeddings(decode_object(await request.body(), "EmbedRequest"))
    resp = await embed_use_case(services(request), req)
    return json_response(marshal(oai_embeddings.embeddings_json(resp, encoding)))


async def list_models(request: Request) -> Response:
    svc = services(request)
    records = await asyncio.to_thread(svc.store.list_models)
    records += [svc.remotes.record(m) for m in svc.remotes.models]
    return json_response(marshal(oai_models.models_json(records)))


async def get_model(request: Request) -> Response:
    name: str = request.path_params["model"]
    try:
        model = await find_model(services(request), name)
    except ModelNotFound:
        raise ModelNotFound(name, f"model '{name}' not found") from None
    return json_response(marshal(oai_models.model_json(model.record, id=name)))


routes = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/completions", completions, methods=["POST"]),
    Route("/v1/embeddings", embeddings, methods=["POST"]),
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model:path}", get_model, methods=["GET"]),
]
