"""The request body size limit (OLLAMA_MAX_BODY): a 413 in each API's error shape, blob uploads exempt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import pytest
from app_harness import JSON, TINY, Served, Start

from pollama.config import DEFAULT_MAX_BODY, Settings
from pollama.server.limits import MESSAGE

pytestmark = pytest.mark.anyio

LIMIT = 1000


def big_generate() -> bytes:
    return json.dumps({"model": TINY, "prompt": "x" * (2 * LIMIT), "stream": False}).encode()


async def assert_still_answers(srv: Served) -> None:
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "stream": False})
    assert r.status_code == 200, r.text


async def test_content_length_over_the_limit_is_413_before_reading(start: Start) -> None:
    async with start(OLLAMA_MAX_BODY=str(LIMIT)) as srv:
        r = await srv.http.post("/api/generate", content=big_generate())
        assert (r.status_code, r.json()) == (413, {"error": MESSAGE})
        assert r.headers["content-type"] == JSON
        assert srv.engine.requests == []
        await assert_still_answers(srv)  # a body under the limit still goes through


async def test_chunked_body_is_counted_while_read(start: Start) -> None:
    body = big_generate()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 100):
            yield body[i : i + 100]

    async with start(OLLAMA_MAX_BODY=str(LIMIT)) as srv:
        r = await srv.http.post("/api/chat", content=chunks())
        assert "content-length" not in r.request.headers
        assert (r.status_code, r.json()) == (413, {"error": MESSAGE})
        assert srv.engine.requests == []
        await assert_still_answers(srv)


def big_v1_chat() -> bytes:
    return json.dumps(
        {"model": TINY, "max_tokens": 5, "messages": [{"role": "user", "content": "x" * 2 * LIMIT}]}
    ).encode()


async def test_v1_routes_answer_413_in_openai_shape(start: Start) -> None:
    async with start(OLLAMA_MAX_BODY=str(LIMIT)) as srv:
        for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"):
            r = await srv.http.post(path, content=big_v1_chat())
            assert r.status_code == 413, path
            assert r.json() == {"error": {"message": MESSAGE, "type": "api_error", "param": None, "code": None}}
            assert r.headers["content-type"] == JSON
        assert srv.engine.requests == []
        r = await srv.http.post(
            "/v1/chat/completions", json={"model": TINY, "messages": [{"role": "user", "content": "hi"}]}
        )
        assert r.status_code == 200, r.text


async def test_anthropic_routes_answer_413_in_anthropic_shape(start: Start) -> None:
    async with start(OLLAMA_MAX_BODY=str(LIMIT)) as srv:
        for path in ("/v1/messages", "/v1/messages/count_tokens"):
            r = await srv.http.post(path, content=big_v1_chat())
            assert r.status_code == 413, path
            body = r.json()
            assert body["type"] == "error"
            assert body["error"] == {"type": "request_too_large", "message": MESSAGE}
            assert body["request_id"] == r.headers["request-id"]
        assert srv.engine.requests == []


async def test_blob_uploads_are_exempt(start: Start) -> None:
    data = b"\x00gguf-ish weights" * (LIMIT // 4)
    assert len(data) > LIMIT
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    async with start(OLLAMA_MAX_BODY=str(LIMIT)) as srv:
        r = await srv.http.post(f"/api/blobs/{digest}", content=data)
        assert r.status_code == 201, r.text
        assert (await srv.http.head(f"/api/blobs/{digest}")).status_code == 200


async def test_zero_is_no_limit(start: Start) -> None:
    async with start(OLLAMA_MAX_BODY="0") as srv:
        r = await srv.http.post(
            "/api/generate", content=json.dumps({"model": TINY, "prompt": "x" * 5000, "stream": False})
        )
        assert r.status_code == 200, r.text


def test_setting_defaults_and_parses() -> None:
    assert Settings.from_env({}).max_body == DEFAULT_MAX_BODY == 256 << 20
    assert Settings.from_env({"OLLAMA_MAX_BODY": "1048576"}).max_body == 1 << 20
    assert Settings.from_env({"OLLAMA_MAX_BODY": "lots"}).max_body == DEFAULT_MAX_BODY
