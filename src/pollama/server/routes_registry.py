"""Routes that talk to a registry: pull and push."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
