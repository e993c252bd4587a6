"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens``: Anthropic's Messages API over the native chat
use-case. Decode the body, translate it (``pollama.anthropic``), run ``inference.chat``, encode the answer as
one message object or as Anthropic's SSE events. Domain errors under ``/v1/messages`` come out in Anthropic's
error shape; ``x-api-key`` and ``anthropic-version`` are accepted and ignored."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama import inference
from pollama.anthropic.errors import error_body
from pollama.anthropic.stream import StreamConverter
from pollama.anthropic.translate import estimate_input_tokens, new_id, to_chat_request, to_message
from pollama.anthropic.wire import CountTokensRequest, MessagesRequest, decode
from pollama.api.responses import ChatResponse
from pollama.errors import Failed, PollamaError
from pollama.gojson import marshal
from pollama.inference.count import count_chat_tokens
from pollama.server.errors import json_response, register_error_shape, status_of
from pollama.server.sse import Event, sse_response
from pollama.server.streaming import respond, services

log = logging.getLogger("pollama")


def anthropic_error(err: PollamaError) -> Response:
    status = status_of(err)
    body = error_body(status, err.message)
    response = json_response(marshal(body), status)
    response.headers["request-id"] = body["request_id"]
    return response


register_error_shape("/v1/messages", anthropic_error)


@dataclass(slots=True)
class _Answer:
    """A native chunk carried through ``respond`` (for its disconnect handling), encoded as Anthropic's message."""

    msg_id: str
    native: ChatResponse
    whole: bool = False

    def to_wire(self) -> dict[str, object]:
        return to_message(self.msg_id, self.native)

    @classmethod
    def combine(cls, parts: Sequence[_Answer]) -> _Answer:
        return cls(parts[-1].msg_id, ChatResponse.combine([p.native for p in parts]))


async def messages(request: Request) -> Response:
    req = decode(await request.body(), MessagesRequest)
    native = to_chat_request(req)
    msg_id = new_id("msg")
    it = inference.chat(services(request), native)
    if not req.stream:

        async def answers() -> AsyncIterator[_Answer]:
            async for chunk in it:
                yield _Answer(msg_id, chunk)

        return await respond(request, answers(), False, _Answer.combine)
    try:
        first = await anext(it)
    except StopAsyncIteration:
        raise Failed("no response") from None
    converter = StreamConverter(msg_id, req.model or "", estimate_input_tokens(req))
    return sse_response(_events(converter, first, it))


async def _events(
    converter: StreamConverter, first: ChatResponse, it: AsyncIterator[ChatResponse]
) -> AsyncIterator[Event]:
    try:
        for name, data in converter.process(first):
            yield name, marshal(data)
        async for chunk in it:
            for name, data in converter.process(chunk):
                yield name, marshal(data)
    except PollamaError as err:
        # The status is sent: Anthropic reports a failure mid-stream as an ``error`` event.
        yield "error", marshal(error_body(status_of(err), err.message))
    except Exception as err:
        log.exception("error while streaming")
        yield "error", marshal(error_body(500, str(err)))
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            await aclose()


async def count_tokens(request: Request) -> Response:
    req = decode(await request.body(), CountTokensRequest)
    count = await count_chat_tokens(services(request), to_chat_request(req))
    return json_response(marshal({"input_tokens": count}))


routes = [
    Route("/v1/messages", messages, methods=["POST"]),
    Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
]
