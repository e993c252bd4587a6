"""Bearer-token auth: challenge parsing and URL as in Ollama's auth_test.go, and the whole flow against a
small local registry + token endpoint that checks the signature."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pollama.registry import identity
from pollama.registry.auth import (
    Challenge,
    TokenError,
    fetch_token,
    go_query_encode,
    parse_challenge,
    signing_payload,
    token_url,
)
from pollama.registry.client import RegistryClient, RegistryError, new_http_client
from pollama.store.names import Name


@pytest.mark.parametrize(
    ("header", "want"),
    [
        (
            'Bearer realm="https://auth.example.com/token",service="registry",scope="repo:foo:pull"',
            ("https://auth.example.com/token", "registry", "repo:foo:pull"),
        ),
        (
            'Bearer realm="https://r.ollama.ai/v2/token",service="ollama",scope="-"',
            ("https://r.ollama.ai/v2/token", "ollama", "-"),
        ),
        ("", ("", "", "")),
        # getValue quirk: a quote not followed by a comma stays in the value.
        ('Bearer realm="a"b",service="s"', ('a"b', "s", "")),
    ],
)
def test_parse_challenge(header: str, want: tuple[str, str, str]) -> None:
    assert parse_challenge(header) == Challenge(*want)


def test_token_url_is_gos_sorted_escaped_query() -> None:
    c = Challenge("https://auth.example.com/token?x=1", "registry", "repo:foo:pull repo:bar:push")
    url = token_url(c, now=1700000000, nonce="n0-_")
    assert url == (
        "https://auth.example.com/token?nonce=n0-_&scope=repo%3Afoo%3Apull&scope=repo%3Abar%3Apush"
        "&service=registry&ts=1700000000&x=1"
    )
    assert token_url(c) != token_url(c)  # fresh nonce each call


def test_go_query_encode_escapes_like_query_escape() -> None:
    assert go_query_encode([("b", "a b/c~"), ("a", "é")]) == "a=%C3%A9&b=a+b%2Fc~"


class _Handler(BaseHTTPRequestHandler):
    token = "tok-123"
    seen: list[dict[str, Any]]
    fail_token = False

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        host = self.headers["Host"]
        if self.path.startswith("/token"):
            url = f"http://{host}{self.path}"
            auth = self.headers.get("Authorization", "")
            pub_b64, sig = auth.split(":")
            raw = base64.b64decode(pub_b64)[-32:]
            Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(sig), signing_payload(url))
            self.seen.append(
                {"query": parse_qs(urlsplit(self.path).query), "pub": pub_b64, "ua": self.headers["User-Agent"]}
            )
            if self.fail_token:
                self._send(403, b"denied")
                return
            self._send(200, json.dumps({"token": self.token}).encode())
            return
        if self.path == "/v2/library/m/manifests/missing":
            self._send(404)
            return
        if self.path == "/v2/library/m/manifests/broken":
            self._send(500, b"boom")
            return
        if self.headers.get("Authorization") == f"Bearer {self.token}" and self.path != "/v2/library/m/manifests/never":
            self._send(200, b'{"ok":true}')
            return
        challenge = f'Bearer realm="http://{host}/token",service="test",scope="repository:library/m:pull"'
        self._send(401, b"{}", {"WWW-Authenticate": challenge})


@pytest.fixture
def auth_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[_Handler]]]:
    monkeypatch.setenv("HOME", str(tmp_path))
    identity.ensure_key()
    handler = type("H", (_Handler,), {"seen": [], "fail_token": False})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}", handler
    srv.shutdown()
    srv.server_close()


def _get(host: str, tag: str) -> tuple[int, bytes, str]:
    async def go() -> tuple[int, bytes, str]:
        async with new_http_client() as http:
            client = RegistryClient(http, Name.parse(f"{host}/library/m:{tag}"), insecure=True)
            resp = await client.request("GET", client.manifest_url())
            return resp.status_code, resp.content, client.token

    return asyncio.run(go())


def test_challenge_response_flow(auth_server: tuple[str, type[_Handler]]) -> None:
    host, handler = auth_server
    status, body, token = _get(host, "latest")
    assert (status, body, token) == (200, b'{"ok":true}', "tok-123")
    (seen,) = handler.seen
    assert seen["query"]["service"] == ["test"]
    assert seen["query"]["scope"] == ["repository:library/m:pull"]
    assert seen["query"]["ts"][0].isdigit() and seen["query"]["nonce"][0]
    assert seen["pub"] == identity.authorized_key(identity.load_key()).split()[1]
    assert seen["ua"].startswith("ollama/")


def test_second_401_is_unauthorized(auth_server: tuple[str, type[_Handler]]) -> None:
    with pytest.raises(RegistryError, match=r"^unauthorized: access denied$"):
        _get(auth_server[0], "never")


def test_token_endpoint_error_text(auth_server: tuple[str, type[_Handler]]) -> None:
    host, handler = auth_server
    handler.fail_token = True
    with pytest.raises(RegistryError, match=r"^403: denied$"):
        _get(host, "latest")


def test_404_and_other_errors(auth_server: tuple[str, type[_Handler]]) -> None:
    with pytest.raises(RegistryError, match=r"^file does not exist$"):
        _get(auth_server[0], "missing")
    with pytest.raises(RegistryError, match=r"^500: boom$"):
        _get(auth_server[0], "broken")


@pytest.mark.parametrize(
    ("realm", "host", "mismatch"),
    [
        ("https://example.com/token", "example.com", False),
        ("https://example.com/token", "other.com", True),
        ("https://localhost:5000/token", "localhost:5000", False),
        ("https://localhost:5000/token", "localhost:6000", True),
    ],
)
def test_realm_must_be_the_registry_host(realm: str, host: str, mismatch: bool) -> None:
    def signer(_: bytes) -> str:
        raise identity.IdentityError("stop here")  # reached only when the host check passed

    async def go() -> None:
        async with new_http_client() as http:
            await fetch_token(http, Challenge(realm, "s", "x"), host, {}, signer)

    with pytest.raises(TokenError) as err:
        asyncio.run(go())
    assert ("does not match" in str(err.value)) == mismatch
