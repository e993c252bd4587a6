"""``GET /metrics`` and the ASGI middleware that counts every HTTP request by route template and status."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pollama.metrics import CONTENT_TYPE, ServerMetrics
from pollama.services import Services

UNMATCHED = "unmatched"
"""The route label of a path no route serves, so scanners probing paths cannot grow the label set."""


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The path template (``/api/blobs/{digest}``) of the route serving ``scope``, a 405 included."""
    partial = UNMATCHED
    for route in routes:
        if not isinstance(route, Route):
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route.path
        if match is Match.PARTIAL and partial == UNMATCHED:
            partial = route.path
    return partial


class RequestMetricsMiddleware:
    """Counts each HTTP request once its response has ended, with the status it started with."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # An exception escaping the app becomes Starlette's 500 outside this middleware.
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            app = scope.get("app")
            services: Services | None = getattr(getattr(app, "state", None), "services", None)
            if services is not None and app is not None:
                route = route_template(app.routes, scope)
                services.metrics.requests.labels(scope["method"], route, str(status)).inc()


async def metrics(request: Request) -> Response:
    server_metrics: ServerMetrics = request.app.state.services.metrics
    return Response(server_metrics.render(), media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics, methods=["GET"])]
