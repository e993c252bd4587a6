"""``/ui/``: the built-in web page's files, with a strict Content-Security-Policy, and its Modelfile helper.

The files are read once from the package (``pollama.ui.STATIC``) and kept in memory with a gzip copy; only
names found there are served, so no request path reaches the filesystem. ``index.html`` is revalidated on every
load (``no-cache`` with an ETag); the scripts and styles it links carry a content hash in their names and are
cached for a year. The page needs no API key to load (it holds no secret); its API calls do.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pollama.api.jsonio import decode
from pollama.gojson import marshal
from pollama.server.errors import json_response
from pollama.ui import STATIC
from pollama.ui.modelfile import ModelfileRequest, create_body

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
INDEX = "index.html"
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str
    cache_control: str


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file of the page by its name under ``/ui/``."""
    found = {}
    for path in sorted(STATIC.rglob("*")):
        content_type = _TYPES.get(path.suffix)
        if not path.is_file() or content_type is None:
            continue
        name = path.relative_to(STATIC).as_posix()
        body = path.read_bytes()
        found[name] = Asset(
            body=body,
            # mtime 0: the same bytes give the same gzip, so the ETag below holds for both encodings.
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            content_type=content_type,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            cache_control=NO_CACHE if name == INDEX else IMMUTABLE,
        )
    return found


async def asset(request: Request) -> Response:
    name = request.path_params.get("path") or INDEX
    found = (await asyncio.to_thread(assets)).get(name)
    if found is None:
        raise HTTPException(404)
    headers = {
        **SECURITY_HEADERS,
        "cache-control": found.cache_control,
        "etag": found.etag,
        "vary": "Accept-Encoding",
    }
    if found.etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    body = found.body
    if "gzip" in request.headers.get("accept-encoding", "") and len(found.gzipped) < len(body):
        body, headers["content-encoding"] = found.gzipped, "gzip"
    return Response(body, media_type=found.content_type, headers=headers)


async def to_slash(request: Request) -> Response:
    # Relative asset links in index.html resolve against /ui/, not /.
    return RedirectResponse("/ui/", status_code=301)


async def modelfile(request: Request) -> Response:
    req = decode(await request.body(), ModelfileRequest, "ModelfileRequest")
    return json_response(marshal(create_body(req.modelfile, req.model)))


routes = [
    Route("/ui", to_slash, methods=["GET", "HEAD"]),
    Route("/ui/", asset, methods=["GET", "HEAD"]),
    Route("/ui/modelfile", modelfile, methods=["POST"]),
    Route("/ui/{path:path}", asset, methods=["GET", "HEAD"]),
]
