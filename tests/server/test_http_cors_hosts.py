"""Browser-facing protection: CORS (Ollama's default origins, ``OLLAMA_ORIGINS``, preflight, refused origins) and
the DNS-rebinding check on the ``Host`` header of a loopback listener.

Ollama's behaviour is gin-contrib/cors v1.7.2 in front of ``allowedHostsMiddleware`` (``server/routes.go``).
"""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest
from app_harness import Served, Start

from pollama.config import Settings
from pollama.server import hosts
from pollama.server.app import create_app
from pollama.server.cors import OriginPolicy, allowed_origins

pytestmark = pytest.mark.anyio

PREFLIGHT_ALLOW_HEADERS = (
    "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,X-Stainless-Arch,X-Stainless-Async,"
    "X-Stainless-Custom-Poll-Interval,X-Stainless-Helper-Method,X-Stainless-Lang,X-Stainless-Os,"
    "X-Stainless-Package-Version,X-Stainless-Poll-Helper,X-Stainless-Retry-Count,X-Stainless-Runtime,"
    "X-Stainless-Runtime-Version,X-Stainless-Timeout"
)
PREFLIGHT_VARY = ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]
CORS_HEADER_NAMES = {
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-allow-origin",
    "access-control-max-age",
    "vary",
}
# What the tests take for this machine's interface addresses, so that no real one decides an outcome.
INTERFACE_ADDRESSES = {IPv4Address("169.254.7.7"), IPv6Address("fe80::7"), IPv4Address("203.0.113.7")}


@pytest.fixture(autouse=True)
def _interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosts, "interface_addresses", lambda: set(INTERFACE_ADDRESSES))


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


async def test_allowed_simple_request_headers(srv: Served) -> None:
    r = await srv.http.get("/api/version", headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200 and "version" in r.json()
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert r.headers.get_list("vary") == ["Origin"]
    assert CORS_HEADER_NAMES & set(r.headers) == {"access-control-allow-origin", "vary"}


async def test_allowed_origin_headers_go_on_whatever_answers(srv: Served) -> None:
    """gin sets them before the rest of the chain runs: on a 404, a 405 and the Host check's 403 too."""
    origin = {"Origin": "http://127.0.0.1:5173"}
    for method, path, headers, status in (
        ("GET", "/api/nope", origin, 404),
        ("DELETE", "/api/tags", origin, 405),
        ("GET", "/api/version", {**origin, "Host": "evil.example"}, 403),
    ):
        r = await srv.http.request(method, path, headers=headers)
        assert r.status_code == status
        assert r.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
        assert r.headers.get_list("vary") == ["Origin"]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize(("method", "path"), [("GET", "/api/version"), ("HEAD", "/"), ("GET", "/api/nope")])
async def test_foreign_origin_is_refused(srv: Served, origin: str, method: str, path: str) -> None:
    r = await srv.http.request(method, path, headers={"Origin": origin})
    assert (r.status_code, r.content) == (403, b"")
    assert dict(r.headers) == {"content-length": "0"}


async def test_foreign_origin_is_refused_before_the_route(srv: Served) -> None:
    r = await srv.http.post("/api/generate", json={"model": "tiny"}, headers={"Origin": "http://evil.example"})
    assert (r.status_code, r.content) == (403, b"")
    assert srv.engine.runners == []


@pytest.mark.parametrize("origin", ["http://127.0.0.1:11434", "https://127.0.0.1:11434"])
async def test_origin_of_the_host_itself_is_not_cors(srv: Served, origin: str) -> None:
    r = await srv.http.get("/api/version", headers={"Origin": origin})
    assert r.status_code == 200
    assert not CORS_HEADER_NAMES & set(r.headers)


async def test_same_origin_skips_cors_but_not_the_host_check(start: Start) -> None:
    headers = {"Origin": "http://evil.example", "Host": "evil.example"}
    async with start(OLLAMA_HOST="0.0.0.0:11434") as srv:
        r = await srv.http.get("/api/version", headers=headers)
        assert r.status_code == 200
        assert not CORS_HEADER_NAMES & set(r.headers)
    async with start() as srv:
        r = await srv.http.get("/api/version", headers=headers)
        assert (r.status_code, r.content) == (403, b"")


async def test_ollama_origins_adds_origins_and_wildcards(start: Start) -> None:
    async with start(OLLAMA_ORIGINS="https://example.com,https://*.trusted.dev") as srv:
        for origin in ("https://example.com", "https://app.trusted.dev", "http://localhost:3000"):
            r = await srv.http.get("/api/version", headers={"Origin": origin})
            assert r.headers["access-control-allow-origin"] == origin
        for origin in ("https://example.org", "http://app.trusted.dev", "https://trusted.dev"):
            r = await srv.http.get("/api/version", headers={"Origin": origin})
            assert (r.status_code, r.content) == (403, b"")


async def test_ollama_origins_star_allows_every_origin(start: Start) -> None:
    async with start(OLLAMA_ORIGINS="*") as srv:
        r = await srv.http.get("/api/version", headers={"Origin": "http://evil.example"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "*"
        assert "vary" not in r.headers
        r = await srv.http.options("/api/chat", headers={"Origin": "null", "Access-Control-Request-Method": "POST"})
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == "*"
        assert "vary" not in r.headers


def test_origin_policy_matches_like_gin() -> None:
    policy = OriginPolicy(allowed_origins(["https://App.Example", "*.trusted.dev", "https://ab*ba"]))
    # Exact entries are trimmed and lower-cased, the request's origin is compared as sent.
    assert policy.allows("https://app.example")
    assert not policy.allows("https://App.Example")
    assert policy.allows("https://x.trusted.dev") and policy.allows("ftp://x.trusted.dev")
    # A wildcard entry is a prefix and a suffix, which may overlap.
    assert policy.allows("https://aba") and policy.allows("https://ab-ba")
    assert not policy.allows("https://ab")
    # The defaults' port wildcard takes anything after the colon.
    assert policy.allows("http://localhost:") and policy.allows("http://localhost:3000/x")
    assert not policy.allows("http://LOCALHOST:3000")


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        ("example.com", "bad origin: origins must contain '*' or include http://,https://,chrome-extension://"),
        ("app://x", "bad origin"),
        ("https://*.*.dev", "only one * is allowed"),
    ],
)
def test_origins_ollama_refuses_to_start_with(tmp_path: Path, origins: str, message: str) -> None:
    settings = Settings.from_env({"OLLAMA_ORIGINS": origins, "OLLAMA_MODELS": str(tmp_path)})
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        create_app(settings)


def test_browser_extension_origins_are_accepted_without_a_wildcard() -> None:
    assert OriginPolicy(allowed_origins(["chrome-extension://abc"])).allows("chrome-extension://abc")


async def test_preflight_allows_the_methods_and_headers_clients_send(srv: Served) -> None:
    r = await srv.http.options(
        "/api/chat",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os, openai-beta",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "user-agent", "accept", "x-requested-with", "openai-beta"} <= allowed
    assert {f"x-stainless-{h}" for h in ("os", "arch", "lang", "retry-count", "timeout")} <= allowed


async def test_preflight_response(srv: Served) -> None:
    r = await srv.http.options(
        "/api/chat", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert (r.status_code, r.content) == (204, b"")
    assert set(r.headers) == CORS_HEADER_NAMES
    assert r.headers["access-control-allow-methods"] == "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
    assert r.headers["access-control-allow-headers"] == PREFLIGHT_ALLOW_HEADERS
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert r.headers["access-control-max-age"] == "43200"
    assert r.headers.get_list("vary") == PREFLIGHT_VARY


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        # gin takes every OPTIONS from an allowed origin for a preflight, on any path, before the Host check.
        ("/api/chat", {}),
        ("/api/nope", {"Access-Control-Request-Method": "GET"}),
        ("/api/tags", {"Access-Control-Request-Method": "GET", "Host": "evil.example"}),
    ],
)
async def test_every_options_from_an_allowed_origin_is_a_preflight(
    srv: Served, path: str, headers: dict[str, str]
) -> None:
    r = await srv.http.options(path, headers={"Origin": "app://obsidian.md", **headers})
    assert (r.status_code, r.content) == (204, b"")
    assert r.headers["access-control-allow-origin"] == "app://obsidian.md"
    assert r.headers.get_list("vary") == PREFLIGHT_VARY


async def test_foreign_preflight_is_refused(srv: Served) -> None:
    r = await srv.http.options(
        "/api/chat", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert (r.status_code, r.content) == (403, b"")
    assert dict(r.headers) == {"content-length": "0"}


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
    "[::]:11434",
    "[fd00::1]:11434",
    "::1",  # Go cannot split it ("too many colons"), so the whole header is the IP
    "[::ffff:127.0.0.1]:11434",  # IsLoopback and IsPrivate look through IPv4-mapped addresses
    "[::ffff:192.168.0.1]:11434",
    "169.254.7.7:11434",  # link-local or public, but an address of this machine
    "[fe80::7]:11434",
    "203.0.113.7",
    "localhost:",
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
    "[::1]",  # no port: Go's SplitHostPort fails and "[::1]" is no IP
    "[fd00::1]",
    "169.254.1.1",  # link-local, not this machine's
    "[fe80::1]:11434",
    "[fe80::7%25eth0]:11434",  # Go compares the zone too
    "198.51.100.7",  # documentation ranges are private to Python, not to Go
    "[2001:db8::1]:11434",
    "[::ffff:8.8.8.8]:11434",
    "[::ffff:0.0.0.0]:11434",  # IsUnspecified does not look through IPv4-mapped addresses
    "[::ffff:203.0.113.7]:11434",
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


@pytest.mark.parametrize("host", ["localhost:11434", "ollama.localhost", "printer.local:80", socket.gethostname()])
async def test_options_on_a_local_host_name(srv: Served, host: str) -> None:
    for path in ("/api/tags", "/api/nope"):
        r = await srv.http.options(path, headers={"Host": host})
        assert (r.status_code, r.content, dict(r.headers)) == (204, b"", {})


@pytest.mark.parametrize("host", ["127.0.0.1:11434", "[::1]:11434", "10.1.2.3"])
async def test_options_on_a_local_ip_goes_to_the_routes(srv: Served, host: str) -> None:
    r = await srv.http.options("/api/tags", headers={"Host": host})
    assert r.status_code == 405


async def test_options_on_a_public_listener_goes_to_the_routes(start: Start) -> None:
    async with start(OLLAMA_HOST="0.0.0.0:11434") as srv:
        r = await srv.http.options("/api/tags", headers={"Host": "localhost:11434"})
        assert r.status_code == 405


def test_interface_addresses_are_this_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    found = hosts.interface_addresses()
    assert IPv4Address("127.0.0.1") in found
    if_inet6 = Path("/proc/net/if_inet6")
    if if_inet6.exists():
        expected = {IPv6Address(int(line.split()[0], 16)) for line in if_inet6.read_text().splitlines()}
        assert {a for a in found if isinstance(a, IPv6Address)} == expected
    assert all(hosts.host_allowed(f"[{a}]:1" if a.version == 6 else f"{a}:1", "x") for a in found)
