"""The ASGI application: routes, Ollama's 404/405, CORS and the Host check in Ollama's order, the services' lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from pollama.config import Settings
from pollama.engines.base import Loader
from pollama.engines.llamacpp import LlamaCppRunner
from pollama.engines.remote_models import RemoteModels
from pollama.errors import PollamaError
from pollama.scheduler import Scheduler
from pollama.server import (
    metrics,
    openapi,
    routes_anthropic,
    routes_embed,
    routes_models,
    routes_openai,
    routes_registry,
    routes_responses,
    routes_ui,
)
from pollama.server.auth import APIKeyMiddleware
from pollama.server.cors import CORSMiddleware, OriginPolicy, allowed_origins
from pollama.server.errors import http_error, native_error
from pollama.server.hosts import AllowedHostsMiddleware
from pollama.server.limits import BodyLimitMiddleware
from pollama.server.routes import routes
from pollama.server.stalled import SendTimeoutMiddleware
from pollama.services import Services
from pollama.store.builtin import ensure_builtin
from pollama.store.builtin_minilm import ensure_builtin_minilm
from pollama.store.store import Store

log = logging.getLogger("pollama")


def build_services(settings: Settings, loader: Loader | None = None) -> Services:
    """The store (pruned, built-in models imported) and a scheduler loading runners with ``loader``."""
    store = Store(settings.models)
    store.startup(noprune=settings.noprune)
    ensure_builtin(store)
    ensure_builtin_minilm(store)
    remotes = RemoteModels.from_setting(settings.remotes)
    scheduler = Scheduler(
        max_loaded=settings.max_loaded_models,
        max_queue=settings.max_queue,
        default_keep_alive=settings.keep_alive,
        loader=remotes.loader(loader or LlamaCppRunner.start),
    )
    return Services(settings=settings, store=store, scheduler=scheduler, remotes=remotes)


def create_app(settings: Settings, services: Callable[[], Services] | None = None) -> Starlette:
    """The server's ASGI app; ``services`` builds what the routes use at start-up (default: the real ones)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = services() if services is not None else build_services(settings)
        app.state.services = svc
        svc.remotes.start()
        try:
            yield
        finally:
            await svc.remotes.close()
            await svc.scheduler.shutdown()

    # Ollama's order: CORS answers preflights and refused origins before the Host check sees them. The request
    # counter is outermost, so refused requests are counted too. API keys come last, so preflights never need
    # one and a 401 still carries the CORS headers a browser needs to read it.
    # A client that stops reading is given up on outermost, so every layer inside sees its stream cancelled.
    middleware = [
        Middleware(SendTimeoutMiddleware, timeout=settings.send_timeout),
        Middleware(metrics.RequestMetricsMiddleware),
        Middleware(CORSMiddleware, policy=OriginPolicy(allowed_origins(settings.origins))),
        Middleware(AllowedHostsMiddleware, listen_host=settings.host),
        Middleware(APIKeyMiddleware, keys=settings.api_keys),
        Middleware(BodyLimitMiddleware, limit=settings.max_body),
    ]
    return Starlette(
        routes=[
            *routes,
            *routes_models.routes,
            *routes_registry.routes,
            *routes_embed.routes,
            *routes_openai.routes,
            *routes_responses.routes,
            *routes_anthropic.routes,
            *metrics.routes,
            *openapi.routes,
            *routes_ui.routes,
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, PollamaError: native_error},
    )
