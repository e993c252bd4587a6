"""Routes that talk to a registry: pull and push. Parse, call the use-case, stream its progress."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama.api.jsonio import decode
from pollama.api.lifecycle import RegistryRequest
from pollama.api.responses import Progress
from pollama.errors import BadRequest, Failed
from pollama.metrics import PullCounter
from pollama.registry.pull import pull as pull_model
from pollama.registry.push import push as push_model
from pollama.server.streaming import respond, services
from pollama.store.names import Name


async def _os_errors(it: AsyncIterator[Progress]) -> AsyncIterator[Progress]:
    try:
        async for item in it:
            yield item
    except OSError as err:
        raise Failed(str(err)) from err


async def _count_pulled(it: AsyncIterator[Progress], counter: PullCounter) -> AsyncIterator[Progress]:
    async for item in it:
        counter.progress(item.digest, item.completed)
        yield item


def _name(raw: str) -> Name:
    name = Name.parse(raw)
    if not name.is_valid():
        raise BadRequest("invalid model name")
    return name


async def pull(request: Request) -> Response:
    req = decode(await request.body(), RegistryRequest, "PullRequest")
    svc = services(request)
    svc.remotes.refuse(req.model or req.name or "", "pull")
    name = svc.store.existing_name(_name(req.model or req.name or ""))
    it = _count_pulled(
        pull_model(svc.store, name, insecure=bool(req.insecure), noprune=svc.settings.noprune), svc.metrics.pull()
    )
    return await respond(request, _os_errors(it), req.stream is not False, Progress.combine)


async def push(request: Request) -> Response:
    req = decode(await request.body(), RegistryRequest, "PushRequest")
    svc = services(request)
    raw = req.model or req.name
    if not raw:
        raise BadRequest("model is required")
    svc.remotes.refuse(raw, "push")
    name = svc.store.existing_name(_name(raw))
    it = push_model(svc.store, name, insecure=bool(req.insecure))
    return await respond(request, _os_errors(it), req.stream is not False, Progress.combine)


routes: list[Route] = [
    Route("/api/pull", pull, methods=["POST"]),
    Route("/api/push", push, methods=["POST"]),
]
