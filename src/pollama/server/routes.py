"""The ``/api/*`` routes: parse the body, call a use-case, encode the answer. Nothing else lives here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pollama import __version__, inference, listing
from pollama.api.errors import APIError
from pollama.api.jsonio import decode
from pollama.api.types import GO_TYPES_CHAT, GO_TYPES_GENERATE, ChatRequest, GenerateRequest, ShowRequest
from pollama.server.streaming import error_response, json_response, merge_chat, merge_generate, respond, services


async def root(request: Request) -> Response:
    return PlainTextResponse("Ollama is running")


async def version(request: Request) -> Response:
    return json_response({"version": __version__})


async def generate(request: Request) -> Response:
    try:
        req = decode(await request.body(), GenerateRequest, "GenerateRequest", GO_TYPES_GENERATE)
    except APIError as err:
        return error_response(err.status, err.message)
    it = inference.generate(services(request), req)
    return await respond(request, it, req.stream is not False, merge_generate)


async def chat(request: Request) -> Response:
    try:
        req = decode(await request.body(), ChatRequest, "ChatRequest", GO_TYPES_CHAT)
    except APIError as err:
        return error_response(err.status, err.message)
    it = inference.chat(services(request), req)
    return await respond(request, it, req.stream is not False, merge_chat)


async def tags(request: Request) -> Response:
    return json_response(listing.tags(services(request)))


async def ps(request: Request) -> Response:
    return json_response(listing.ps(services(request)))


async def show(request: Request) -> Response:
    try:
        req = decode(await request.body(), ShowRequest, "ShowRequest")
        body: dict[str, Any] = listing.show(services(request), req)
    except APIError as err:
        return error_response(err.status, err.message)
    return json_response(body)


routes = [
    Route("/", root, methods=["GET", "HEAD"]),
    Route("/api/version", version, methods=["GET", "HEAD"]),
    Route("/api/tags", tags, methods=["GET", "HEAD"]),
    Route("/api/ps", ps, methods=["GET"]),
    Route("/api/show", show, methods=["POST"]),
    Route("/api/generate", generate, methods=["POST"]),
    Route("/api/chat", chat, methods=["POST"]),
]
