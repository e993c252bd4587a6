"""HTTP requests to one registry, with Ollama's URL rules, headers, auth retry and error texts.

``RegistryClient.request`` is ``makeRequestWithRetry``: a 401 fetches a token (one retry), 404 becomes
``file does not exist`` and any other status ≥ 400 ``"<code>: <body>"``. ``insecure`` rewrites every URL to
``http``. Pull and push share one client per operation so the token is obtained once.
"""

from __future__ import annotations

import functools
import logging
import platform
import ssl
import sys
from collections.abc import AsyncIterable
from urllib.parse import quote, urlsplit, urlunsplit

import certifi
import httpx

from pollama import __version__
from pollama.errors import RegistryFailed
from pollama.registry.auth import TokenError, fetch_token, parse_challenge
from pollama.store.names import Name

ERR_NOT_EXIST = "file does not exist"
ERR_UNAUTHORIZED = "unauthorized: access denied"
ERR_INSECURE = "insecure protocol http"

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), platform.machine())
USER_AGENT = f"ollama/{__version__} ({_ARCH} {sys.platform}) Python/{platform.python_version()}"


# httpx logs every request at INFO; a pull makes dozens, which would drown the server log.
logging.getLogger("httpx").setLevel(logging.WARNING)


class RegistryError(RegistryFailed):
    """A registry operation failed; the message is the one Ollama reports."""


class NotFoundError(RegistryError):
    def __init__(self) -> None:
        super().__init__(ERR_NOT_EXIST)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~50 ms; do it once per process, not per pull.
    return ssl.create_default_context(cafile=certifi.where())


def new_http_client() -> httpx.AsyncClient:
    # No overall timeout: a blob part may take minutes. A 30 s read stall is Ollama's "part stalled".
    return httpx.AsyncClient(
        verify=_ssl_context(),
        timeout=httpx.Timeout(30.0, connect=30.0),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        follow_redirects=False,
        trust_env=True,
    )


class RegistryClient:
    """Requests for the repository of ``name`` (``scheme://host/v2/<namespace>/<model>/…``)."""

    def __init__(self, http: httpx.AsyncClient, name: Name, *, insecure: bool = False) -> None:
        self.http = http
        self.name = name
        self.insecure = insecure
        self.token = ""

    # ---- URLs ------------------------------------------------------------------------------------------

    def fix_url(self, url: str) -> str:
        """``makeRequest``: with ``insecure`` every URL is sent over plain http."""
        if self.insecure:
            parts = urlsplit(url)
            if parts.scheme != "http":
                return urlunsplit(("http", *parts[1:]))
        return url

    def repo_url(self, *parts: str) -> str:
        """``BaseURL().JoinPath("v2", "<ns>/<model>", *parts)``."""
        n = self.name
        path = "/".join(quote(p, safe="/:@") for p in ("v2", n.namespace, n.model, *parts))
        return self.fix_url(f"{n.base_url()}/{path}")

    def manifest_url(self) -> str:
        return self.repo_url("manifests", self.name.tag)

    def blob_url(self, digest: str) -> str:
        return self.repo_url("blobs", digest)

    @property
    def host(self) -> str:
        return self.name.host

    # ---- requests --------------------------------------------------------------------------------------

    def headers(self, extra: dict[str, str] | None = None, *, auth: bool = True) -> dict[str, str]:
        h = dict(extra or {})
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        h["User-Agent"] = USER_AGENT
        return h

    async def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        *,
        stream: bool = False,
        auth: bool = True,
    ) -> httpx.Response:
        """One request (``makeRequest``); the caller owns a streamed response."""
        req = self.http.build_request(
            method, self.fix_url(url), headers=self.headers(headers, auth=auth), content=content
        )
        try:
            return await self.http.send(req, stream=stream)
        except httpx.HTTPError as e:
            raise RegistryError(f"{method} {req.url}: {e or type(e).__name__}") from e

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """``makeRequestWithRetry``: authenticate once on 401; map 404 and other errors to Ollama's texts."""
        for _ in range(2):
            resp = await self.send(method, url, headers, content, stream=stream)
            if resp.status_code == 401:
                await resp.aclose()
                challenge = parse_challenge(resp.headers.get("www-authenticate", ""))
                try:
                    self.token = await fetch_token(
                        self.http, challenge, urlsplit(str(resp.request.url)).netloc, {"User-Agent": USER_AGENT}
                    )
                except (TokenError, httpx.HTTPError) as e:
                    raise RegistryError(str(e)) from e
                continue
            if resp.status_code == 404:
                await resp.aclose()
                raise NotFoundError()
            if resp.status_code >= 400:
                body = await resp.aread()
                await resp.aclose()
                raise RegistryError(f"{resp.status_code}: {body.decode(errors='replace')}")
            return resp
        raise RegistryError(ERR_UNAUTHORIZED)
