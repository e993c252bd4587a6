"""Opt-in API keys in process: open without keys; with keys, a 401 in each API's shape unless a key is presented
as ``Authorization: Bearer`` or ``x-api-key``; ``/`` and CORS preflights need none. Also the key settings and the
CLI client's header."""

from __future__ import annotations

from pathlib import Path

import httpx
import ollama
import pytest
from app_harness import TINY, URL, Start
from starlette.applications import Starlette

from pollama.cli.client import Client
from pollama.cli.main import main
from pollama.config import Settings, api_keys_from_env
from pollama.server.auth import key_matches

pytestmark = pytest.mark.anyio

KEYS = {"OLLAMA_API_KEYS": "k1, k2"}
CHAT = {"model": TINY, "messages": [{"role": "user", "content": "hi"}], "stream": False}
ANTHROPIC = {"model": TINY, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


async def test_no_keys_leaves_every_route_open(start: Start) -> None:
    async with start() as srv:
        assert (await srv.http.get("/api/tags")).status_code == 200
        assert (await srv.http.get("/v1/models")).status_code == 200
        assert (await srv.http.post("/api/chat", json=CHAT)).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic azE=", "k1", "Bearer "])
async def test_native_401_without_a_valid_key(start: Start, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with start(**KEYS) as srv:
        for method, path in [("GET", "/api/tags"), ("POST", "/api/chat"), ("GET", "/api/version"), ("POST", "/")]:
            r = await srv.http.request(method, path, headers=headers, json=CHAT if method == "POST" else None)
            assert r.status_code == 401, (method, path)
            assert r.json() == {"error": "unauthorized"}
            assert r.headers["www-authenticate"] == "Bearer"
        # Refused before any route ran: nothing was loaded or generated.
        assert srv.engine.runners == [] and srv.engine.requests == []


async def test_openai_401_shape(start: Start) -> None:
    async with start(**KEYS) as srv:
        for path in ("/v1/chat/completions", "/v1/responses"):
            r = await srv.http.post(path, json=CHAT, headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401
            assert r.json() == {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
        assert (await srv.http.get("/v1/models")).status_code == 401


async def test_anthropic_401_shape(start: Start) -> None:
    async with start(**KEYS) as srv:
        r = await srv.http.post("/v1/messages", json=ANTHROPIC, headers={"x-api-key": "wrong"})
        assert r.status_code == 401
        body = r.json()
        assert body["type"] == "error"
        assert body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
        assert r.headers["request-id"] == body["request_id"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer k1"},
        {"Authorization": "bearer k2"},
        {"x-api-key": "k2"},
        {"x-api-key": "k1", "Authorization": "Bearer wrong"},
    ],
)
async def test_valid_key_is_accepted_on_every_api(start: Start, headers: dict[str, str]) -> None:
    async with start(**KEYS) as srv:
        assert (await srv.http.get("/api/tags", headers=headers)).status_code == 200
        r = await srv.http.post("/api/chat", json=CHAT, headers=headers)
        assert r.status_code == 200
        assert r.json()["done"] is True
        assert (await srv.http.post("/v1/chat/completions", json=CHAT, headers=headers)).status_code == 200
        r = await srv.http.post("/v1/messages", json=ANTHROPIC, headers=headers)
        assert r.status_code == 200
        assert r.json()["type"] == "message"


async def test_root_stays_open(start: Start) -> None:
    async with start(**KEYS) as srv:
        r = await srv.http.get("/")
        assert r.status_code == 200
        assert r.text == "Ollama is running"
        assert (await srv.http.head("/")).status_code == 200


async def test_api_description_is_public_but_not_the_api(start: Start) -> None:
    async with start(**KEYS) as srv:
        assert (await srv.http.get("/openapi.json")).json()["openapi"].startswith("3.1")
        assert (await srv.http.get("/docs")).status_code == 200
        assert (await srv.http.post("/openapi.json")).status_code == 401
        assert (await srv.http.get("/api/tags")).status_code == 401


async def test_cors_preflight_needs_no_key_and_a_401_carries_cors_headers(start: Start) -> None:
    origin = "http://localhost:3000"
    async with start(**KEYS) as srv:
        r = await srv.http.options(
            "/api/chat",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == origin
        assert "Authorization" in r.headers["access-control-allow-headers"].split(",")
        r = await srv.http.post("/api/chat", json=CHAT, headers={"Origin": origin})
        assert r.status_code == 401
        assert r.headers["access-control-allow-origin"] == origin
        # A refused origin is still refused by CORS first, key or not.
        r = await srv.http.post("/api/chat", json=CHAT, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403


async def test_official_client_with_bearer_header(start: Start) -> None:
    def client(app: Starlette, key: str) -> ollama.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        return ollama.AsyncClient(host=URL, transport=transport, headers={"Authorization": f"Bearer {key}"})

    async with start(**KEYS) as srv:
        assert any((m.model or "").startswith(TINY) for m in (await client(srv.app, "k1").list()).models)
        with pytest.raises(ollama.ResponseError) as err:
            await client(srv.app, "k3").list()
        assert err.value.status_code == 401 and err.value.error == "unauthorized"


def test_keys_from_variable_and_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# operators\nfile-key-1\n\n  file-key-2  # ci\nk1\n", encoding="utf-8")
    env = {"OLLAMA_API_KEYS": " k1 ,, k2 ", "OLLAMA_API_KEYS_FILE": str(key_file)}
    assert api_keys_from_env(env) == ("k1", "k2", "file-key-1", "file-key-2")
    assert Settings.from_env(env).api_keys == ("k1", "k2", "file-key-1", "file-key-2")
    assert Settings.from_env({}).api_keys == ()
    assert api_keys_from_env({"OLLAMA_API_KEYS": " , "}) == ()


def test_unreadable_key_file_refuses_to_start_open(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OLLAMA_API_KEYS_FILE"):
        api_keys_from_env({"OLLAMA_API_KEYS_FILE": str(tmp_path / "missing")})


def test_key_matches_checks_every_key() -> None:
    keys = [b"alpha", b"beta"]
    assert key_matches([b"beta"], keys)
    assert key_matches([b"nope", b"alpha"], keys)
    assert not key_matches([b"alph", b"betaa", b""], keys)
    assert not key_matches([], keys)


def test_cli_client_sends_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "k1")
    client = Client("http://127.0.0.1:1")
    try:
        assert client._http.headers["Authorization"] == "Bearer k1"
    finally:
        client.close()
    monkeypatch.delenv("OLLAMA_API_KEY")
    client = Client("http://127.0.0.1:1")
    try:
        assert "Authorization" not in client._http.headers
    finally:
        client.close()


def test_serve_refuses_an_unreadable_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLLAMA_API_KEYS_FILE", str(tmp_path / "missing"))
    assert main(["serve"]) == 1
    assert "Error: OLLAMA_API_KEYS_FILE: cannot read" in capsys.readouterr().err
