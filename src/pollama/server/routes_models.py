"""Routes that change the local model store: create, blobs, copy, delete. Parse, call a use-case, encode."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama import create as lifecycle
from pollama.api.errors import APIError
from pollama.api.jsonio import decode
from pollama.api.lifecycle import GO_TYPES_CREATE
from pollama.server.streaming import error_response, last_item, respond, services


async def create(request: Request) -> Response:
    try:
        req = decode(await request.body(), lifecycle.CreateRequest, "CreateRequest", GO_TYPES_CREATE)
    except APIError as err:
        return error_response(err.status, err.message)
    it = lifecycle.create(services(request), req)
    return await respond(request, it, req.stream is not False, last_item)


async def copy(request: Request) -> Response:
    try:
        req = decode(await request.body(), lifecycle.CopyRequest, "CopyRequest")
        lifecycle.copy_model(services(request), req)
    except APIError as err:
        return error_response(err.status, err.message)
    return Response(status_code=200)


async def delete(request: Request) -> Response:
    try:
        req = decode(await request.body(), lifecycle.DeleteRequest, "DeleteRequest")
        await lifecycle.delete_model(services(request), req)
    except APIError as err:
        return error_response(err.status, err.message)
    return Response(status_code=200)


async def head_blob(request: Request) -> Response:
    try:
        lifecycle.head_blob(services(request).store.blobs, request.path_params["digest"])
    except APIError as err:
        return error_response(err.status, err.message)
    return Response(status_code=200)


async def create_blob(request: Request) -> Response:
    try:
        created = await lifecycle.upload_blob(
            services(request).store.blobs, request.path_params["digest"], request.stream()
        )
    except APIError as err:
        return error_response(err.status, err.message)
    return Response(status_code=201 if created else 200)


routes: list[Route] = [
    Route("/api/create", create, methods=["POST"]),
    Route("/api/copy", copy, methods=["POST"]),
    Route("/api/delete", delete, methods=["DELETE"]),
    Route("/api/blobs/{digest}", head_blob, methods=["HEAD"]),
    Route("/api/blobs/{digest}", create_blob, methods=["POST"]),
]
