"""Routes that change the local model store: create, blobs, copy, delete."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
