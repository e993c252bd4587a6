"""The embedding routes, ``/api/embed`` and ``/api/embeddings``: parse the body, call the use-case, write its
JSON (one object; neither route streams)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pollama.api.embed import GO_TYPES_EMBED, EmbeddingRequest, EmbedRequest
from pollama.api.jsonio import decode
from pollama.inference.embed import embed as embed_use_case
from pollama.inference.embed import embeddings as embeddings_use_case
from pollama.server.errors import json_response
from pollama.server.streaming import services


async def embed(request: Request) -> Response:
    req = decode(await request.body(), EmbedRequest, "EmbedRequest", GO_TYPES_EMBED)
    resp = await embed_use_case(services(request), req)
    return json_response(resp.to_json())


async def embeddings(request: Request) -> Response:
    req = decode(await request.body(), EmbeddingRequest, "EmbeddingRequest", GO_TYPES_EMBED)
    resp = await embeddings_use_case(services(request), req)
    return json_response(resp.to_json())


routes = [
    Route("/api/embed", embed, methods=["POST"]),
    Route("/api/embeddings", embeddings, methods=["POST"]),
]
