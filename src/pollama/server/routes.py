"""The ``/api/*`` routes that serve and describe models: parse the body, call a use-case, encode the answer.

Domain errors raised here or below are rendered by the native error handler (``server/errors.py``).
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pollama import __version__, inference, listing
from pollama.api.jsonio import decode
from pollama.api.responses import ChatResponse, GenerateResponse
from pollama.api.types import GO_TYPES_CHAT, GO_TYPES_GENERATE, ChatRequest, GenerateRequest, ShowRequest
from pollama.gojson import marshal
from pollama.server.errors import json_response
from pollama.server.streaming import respond, services


async def root(request: Request) -> Response:
    return PlainTextResponse("Ollama is running")


async def version(request: Request) -> Response:
    return json_response(marshal({"version": __version__}))


async def generate(request: Request) -> Response:
    req = decode(await request.body(), GenerateRequest, "GenerateRequest", GO_TYPES_GENERATE)
    it = inference.generate(services(request), req)
    return await respond(request, it, req.stream is not False, GenerateResponse.combine)


async def chat(request: Request) -> Response:
    req = decode(await request.body(), ChatRequest, "ChatRequest", GO_TYPES_CHAT)
    it = inference.chat(services(request), req)
    return await respond(request, it, req.stream is not False, ChatResponse.combine)


async def tags(request: Request) -> Response:
    body = await asyncio.to_thread(listing.tags, services(request))
    return json_response(marshal(body.to_wire()))


async def ps(request: Request) -> Response:
    if request.method == "HEAD":
        # Starlette answers HEAD wherever GET is routed; Ollama routes only GET here.
        raise HTTPException(405)
    return json_response(marshal(listing.ps(services(request)).to_wire()))


async def show(request: Request) -> Response:
    req = decode(await request.body(), ShowRequest, "ShowRequest")
    body = await asyncio.to_thread(listing.show, services(request), req)
    return json_response(marshal(body.to_wire()))


routes = [
    Route("/", root, methods=["GET", "HEAD"]),
    Route("/api/version", version, methods=["GET", "HEAD"]),
    Route("/api/tags", tags, methods=["GET", "HEAD"]),
    Route("/api/ps", ps, methods=["GET"]),
    Route("/api/show", show, methods=["POST"]),
    Route("/api/generate", generate, methods=["POST"]),
    Route("/api/chat", chat, methods=["POST"]),
]
