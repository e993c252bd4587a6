"""Browser-facing protection: CORS (Ollama's default origins, ``OLLAMA_ORIGINS``, preflight, refused origins) and
the DNS-rebinding check on the ``Host`` header of a loopback listener.

Ollama's behaviour is gin-contrib/cors v1.7.2 in front of ``allowedHostsMiddleware`` (``server/routes.go``).
"""

from __future__ import annotations

import socket

import pytest
from app_harness import Served, Start

pytestmark = pytest.mark.anyio

DEFAULT_ORIGINS = [
    "http://localhost",
    "https://localhost",
    "http://localhost:3000",
    "https://localhost:8443",
    "http://127.0.0.1",
    "http://127.0.0.1:5173",
    "https://127.0.0.1:1",
    "http://0.0.0.0",
    "http://0.0.0.0:8080",
    "app://obsidian.md",
    "file://",
    "tauri://localhost",
    "vscode-webview://1234abcd",
    "vscode-file://vscode-app",
]
FOREIGN_ORIGINS = ["http://evil.example", "https://localhost.evil.example", "http://127.0.0.2", "null"]


@pytest.mark.parametrize("origin", DEFAULT_ORIGINS)
async def test_default_origins_are_allowed(srv: Served, origin: str) -> None:
    r = await srv.http.get("/api/version", headers={"Origin": origin})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == origin
    assert "Origin" in r.headers["vary"]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
async def test_foreign_origins_get_no_cors_headers(srv: Served, origin: str) -> None:
    r = await srv.http.get("/api/version", headers={"Origin": origin})
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.xfail(strict=True, reason="bug: gin-contrib/cors refuses a foreign origin with an empty 403")
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_foreign_origin_is_refused(srv: Served, method: str) -> None:
    r = await srv.http.request(method, "/api/tags", headers={"Origin": "http://evil.example"})
    assert (r.status_code, r.content) == (403, b"")


async def test_ollama_origins_adds_origins_and_wildcards(start: Start) -> None:
    async with start(OLLAMA_ORIGINS="https://example.com, https://*.trusted.dev") as srv:
        for origin in ("https://example.com", "https://app.trusted.dev", "http://localhost:3000"):
            r = await srv.http.get("/api/version", headers={"Origin": origin})
            assert r.headers["access-control-allow-origin"] == origin
        for origin in ("https://example.org", "http://app.trusted.dev"):
            r = await srv.http.get("/api/version", headers={"Origin": origin})
            assert "access-control-allow-origin" not in r.headers


async def test_preflight_allows_the_methods_and_headers_clients_send(srv: Served) -> None:
    r = await srv.http.options(
        "/api/chat",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os, openai-beta",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "user-agent", "accept", "x-requested-with", "openai-beta"} <= allowed
    assert {f"x-stainless-{h}" for h in ("os", "arch", "lang", "retry-count", "timeout")} <= allowed


@pytest.mark.xfail(strict=True, reason="bug: gin-contrib/cors answers a preflight 204 with no body and a 12h max-age")
async def test_preflight_status_and_max_age(srv: Served) -> None:
    r = await srv.http.options(
        "/api/chat", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert (r.status_code, r.content) == (204, b"")
    assert r.headers["access-control-max-age"] == "43200"


@pytest.mark.xfail(strict=True, reason="bug: gin-contrib/cors refuses a foreign origin's preflight with an empty 403")
async def test_foreign_preflight_is_refused(srv: Served) -> None:
    r = await srv.http.options(
        "/api/chat", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert (r.status_code, r.content) == (403, b"")


LOCAL_HOSTS = [
    "127.0.0.1:11434",
    "127.0.0.1",
    "localhost:11434",
    "LOCALHOST",
    "[::1]:11434",
    "10.1.2.3:11434",
    "172.16.0.1",
    "192.168.1.20:8080",
    "0.0.0.0:11434",
    "[fd00::1]",
    "ollama.localhost",
    "printer.local:11434",
    "service.internal",
    socket.gethostname(),
]
FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:11434",
    "8.8.8.8",
    "[2001:4860:4860::8888]:11434",
    "localhost.evil.example",
]


@pytest.mark.parametrize("host", LOCAL_HOSTS)
async def test_local_host_names_pass_on_a_loopback_listener(srv: Served, host: str) -> None:
    r = await srv.http.get("/api/version", headers={"Host": host})
    assert r.status_code == 200


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
async def test_foreign_host_is_refused_on_a_loopback_listener(srv: Served, host: str) -> None:
    for method, path in (("GET", "/"), ("POST", "/api/generate"), ("GET", "/api/nope")):
        r = await srv.http.request(method, path, headers={"Host": host})
        assert (r.status_code, r.content) == (403, b"")
        assert "content-type" not in r.headers
    assert srv.engine.runners == []


async def test_foreign_host_passes_on_a_public_listener(start: Start) -> None:
    async with start(OLLAMA_HOST="0.0.0.0:11434") as srv:
        r = await srv.http.get("/api/version", headers={"Host": "evil.example"})
        assert r.status_code == 200


@pytest.mark.xfail(
    strict=True, reason="bug: Ollama answers OPTIONS to an allowed host name with 204 (allowedHostsMiddleware)"
)
async def test_options_on_a_local_host_name(srv: Served) -> None:
    r = await srv.http.options("/api/tags", headers={"Host": "localhost:11434"})
    assert (r.status_code, r.content) == (204, b"")
