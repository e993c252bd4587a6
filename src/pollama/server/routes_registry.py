"""Routes that talk to a registry: pull and push. Parse, call the use-case, stream its progress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama.api.errors import APIError
from pollama.api.jsonio import decode
from pollama.api.lifecycle import RegistryRequest
from pollama.registry.client import RegistryError
from pollama.registry.pull import pull as pull_model
from pollama.registry.push import push as push_model
from pollama.server.streaming import error_response, last_item, respond, services
from pollama.store.names import Name


async def _api_errors(it: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    try:
        async for item in it:
            yield item
    except (RegistryError, OSError) as err:
        raise APIError(500, str(err)) from err


async def pull(request: Request) -> Response:
    try:
        req = decode(await request.body(), RegistryRequest, "PullRequest")
    except APIError as err:
        return error_response(err.status, err.message)
    svc = services(request)
    name = Name.parse(req.model or req.name or "")
    if not name.is_valid():
        return error_response(400, "invalid model name")
    name = svc.store.existing_name(name)
    it = pull_model(svc.store, name, insecure=bool(req.insecure), noprune=svc.settings.noprune)
    return await respond(request, _api_errors(it), req.stream is not False, last_item)


async def push(request: Request) -> Response:
    try:
        req = decode(await request.body(), RegistryRequest, "PushRequest")
    except APIError as err:
        return error_response(err.status, err.message)
    svc = services(request)
    raw = req.model or req.name
    if not raw:
        return error_response(400, "model is required")
    name = Name.parse(raw)
    if not name.is_valid():
        return error_response(400, "invalid model name")
    name = svc.store.existing_name(name)
    it = push_model(svc.store, name, insecure=bool(req.insecure))
    return await respond(request, _api_errors(it), req.stream is not False, last_item)


routes: list[Route] = [
    Route("/api/pull", pull, methods=["POST"]),
    Route("/api/push", push, methods=["POST"]),
]
