"""Routes that change the local model store: create, blobs, copy, delete. Parse, call a use-case, encode."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama import create as lifecycle
from pollama.api.jsonio import decode
from pollama.api.lifecycle import GO_TYPES_CREATE
from pollama.api.responses import Progress
from pollama.server.streaming import respond, services


async def create(request: Request) -> Response:
    req = decode(await request.body(), lifecycle.CreateRequest, "CreateRequest", GO_TYPES_CREATE)
    it = lifecycle.create(services(request), req)
    return await respond(request, it, req.stream is not False, Progress.combine)


async def copy(request: Request) -> Response:
    req = decode(await request.body(), lifecycle.CopyRequest, "CopyRequest")
    await asyncio.to_thread(lifecycle.copy_model, services(request), req)
    return Response(status_code=200)


async def delete(request: Request) -> Response:
    req = decode(await request.body(), lifecycle.DeleteRequest, "DeleteRequest")
    await lifecycle.delete_model(services(request), req)
    return Response(status_code=200)


async def head_blob(request: Request) -> Response:
    lifecycle.head_blob(services(request).store.blobs, request.path_params["digest"])
    return Response(status_code=200)


async def create_blob(request: Request) -> Response:
    blobs = services(request).store.blobs
    created = await lifecycle.upload_blob(blobs, request.path_params["digest"], request.stream())
    return Response(status_code=201 if created else 200)


routes: list[Route] = [
    Route("/api/create", create, methods=["POST"]),
    Route("/api/copy", copy, methods=["POST"]),
    Route("/api/delete", delete, methods=["DELETE"]),
    Route("/api/blobs/{digest}", head_blob, methods=["HEAD"]),
    Route("/api/blobs/{digest}", create_blob, methods=["POST"]),
]
