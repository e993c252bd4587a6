"""``/openapi.json`` and ``/docs`` in process: the document is valid OpenAPI 3.1, covers every route of the app,
and the answers the app really gives (successes, streams and errors of each API, on the fake runner) conform to
it; the page renders every operation under a strict CSP without script."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import httpx
import numpy as np
import pytest
from app_harness import EMBEDDER, TINY, Served, Start
from openapi_spec_validator import validate
from starlette.routing import Route

from openapi_conformance import conformance
from pollama.api.embed import EmbeddingResponse, EmbedResponse
from pollama.openai.embeddings import embeddings_json
from pollama.server.openapi import document

pytestmark = pytest.mark.anyio

MSG = [{"role": "user", "content": "hello there"}]
BLOB = b"some bytes"
DIGEST = "sha256-" + hashlib.sha256(BLOB).hexdigest()


def test_document_is_valid_openapi_31() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_is_documented(srv_app_routes: list[tuple[str, str]]) -> None:
    doc = document()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    missing = [(p, m) for p, m in srv_app_routes if (p, m) not in documented]
    assert not missing, missing
    extra = documented - set(srv_app_routes)
    assert not extra, extra


@pytest.fixture
def srv_app_routes() -> list[tuple[str, str]]:
    from pollama.config import Settings
    from pollama.server.app import create_app

    app = create_app(Settings.from_env({}))
    out = []
    for route in app.routes:
        assert isinstance(route, Route)
        path = route.path.replace(":path}", "}")
        methods = route.methods or set()
        for method in methods:
            # Starlette adds HEAD to every GET route; only the routes that list HEAD themselves document it.
            if method == "HEAD" and path not in ("/", "/api/version", "/api/tags", "/api/blobs/{digest}"):
                continue
            out.append((path, method.lower()))
    return out


def test_every_error_status_has_its_api_shape() -> None:
    doc = document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if int(status) < 400 or method == "head" or status == "499":
                    continue
                if path.startswith("/ui/") and status == "404" and method == "get":
                    assert set(response["content"]) == {"text/plain"}  # Go's "404 page not found"
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                if path.startswith("/v1/messages"):
                    want = "AnthropicErrorBody"
                elif path.startswith("/v1/"):
                    want = "OpenAIErrorBody"
                else:
                    want = "ErrorBody"
                assert ref == want, (path, method, status)
            if op.get("security") != []:
                assert "401" in op["responses"], (path, method)
    runs = doc["paths"]["/api/generate"]["post"]["responses"]
    assert set(runs) == {"200", "400", "401", "404", "413", "499", "500", "503"}
    assert "Retry-After" in runs["503"]["headers"]
    assert set(runs["200"]["content"]) == {"application/json", "application/x-ndjson"}


async def _check(srv: Served, method: str, path: str, template: str | None = None, **kw: Any) -> httpx.Response:
    r = await srv.http.request(method, path, **kw)
    problems = conformance(
        document(), template or path, method, r.status_code, r.headers.get("content-type"), r.content
    )
    assert not problems, (method, path, r.status_code, r.content[:300], problems)
    return r


async def test_served_document_and_page(srv: Served) -> None:
    r = await _check(srv, "GET", "/openapi.json")
    assert r.json() == json.loads(json.dumps(document()))
    page = await _check(srv, "GET", "/docs")
    html = page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp and "unsafe" not in csp
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = hashlib.sha256(style.group(1).encode()).digest()
    assert f"'sha256-{base64.b64encode(digest).decode()}'" in csp
    for path in document()["paths"]:
        assert f"<code>{path}</code>" in html
    assert 'id="schema-GenerateRequest"' in html
    assert "Why is the sky blue?" in html  # the request examples


async def test_native_answers_conform(srv: Served) -> None:
    for path in ("/", "/api/version", "/api/tags", "/api/ps", "/metrics"):
        await _check(srv, "GET", path)
    await _check(srv, "HEAD", "/api/tags")
    await _check(srv, "POST", "/api/show", json={"model": TINY})
    for stream in (True, False):
        r = await _check(srv, "POST", "/api/generate", json={"model": TINY, "prompt": "hi there", "stream": stream})
        assert r.headers["content-type"].startswith("application/x-ndjson" if stream else "application/json")
        await _check(srv, "POST", "/api/chat", json={"model": TINY, "messages": MSG, "stream": stream})
    await _check(srv, "POST", "/api/generate", json={"model": TINY})  # a load: one object even when streaming
    await _check(srv, "POST", "/api/create", json={"model": "made", "from": TINY, "system": "Be brief."})
    await _check(srv, "POST", "/api/copy", json={"source": "made", "destination": "made2"})
    await _check(srv, "DELETE", "/api/delete", json={"model": "made2"})
    blob = "/api/blobs/{digest}"
    await _check(srv, "HEAD", f"/api/blobs/{DIGEST}", blob)
    await _check(srv, "POST", f"/api/blobs/{DIGEST}", blob, content=BLOB)
    await _check(srv, "HEAD", f"/api/blobs/{DIGEST}", blob)


def test_embedding_bodies_conform() -> None:
    # The fake runner does not embed: the encoders' output is checked directly (and on a live server by the
    # schemathesis run in tests/e2e).
    rows = np.array([[0.5, -1e-7, 3.0], [1.0, 2.0, 0.0]], dtype=np.float32)
    resp = EmbedResponse(model=EMBEDDER, embeddings=rows, total_duration=5, prompt_eval_count=2)
    bodies = [
        ("/api/embed", resp.to_json()),
        ("/api/embeddings", EmbeddingResponse([0.5, 1.0]).to_json()),
        ("/v1/embeddings", json.dumps(embeddings_json(resp, "float"))),
        ("/v1/embeddings", json.dumps(embeddings_json(resp, "base64"))),
    ]
    for path, text in bodies:
        assert not conformance(document(), path, "POST", 200, "application/json", text.encode()), path


async def test_web_page_answers_conform(srv: Served) -> None:
    r = await _check(srv, "GET", "/ui")
    assert r.status_code == 301
    page = await _check(srv, "GET", "/ui/", "/ui/")
    assert page.status_code == 200
    names = re.findall(r'(?:src|href)="(?:/ui/|\./)?([^"/][^"]*\.(?:js|css|svg|png))"', page.text)
    assert names
    for name in names:
        r = await _check(srv, "GET", f"/ui/{name}", "/ui/{path}")
        assert r.status_code == 200, name
    r = await _check(srv, "GET", "/ui/no-such-file.js", "/ui/{path}")
    assert r.status_code == 404
    r = await _check(srv, "POST", "/ui/modelfile", json={"model": "m", "modelfile": f"FROM {TINY}\nSYSTEM hi\n"})
    assert r.json()["from"] == TINY
    r = await _check(srv, "POST", "/ui/modelfile", json={"model": "m", "modelfile": "BOGUS x"})
    assert r.status_code == 400


async def test_native_errors_conform(srv: Served) -> None:
    await _check(srv, "POST", "/api/generate", content=b"{")
    await _check(srv, "POST", "/api/chat", json={"model": "nope", "messages": MSG})
    r = await _check(srv, "POST", "/api/generate", json={"model": TINY, "prompt": "x", "options": {"top_k": "a"}})
    assert r.status_code == 500
    await _check(srv, "POST", "/api/show", json={"model": "nope"})
    await _check(srv, "POST", "/api/pull", json={"model": "bad name!"})
    await _check(srv, "POST", "/api/blobs/sha256-12", "/api/blobs/{digest}", content=b"x")
    await _check(srv, "POST", f"/api/blobs/sha256-{'0' * 64}", "/api/blobs/{digest}", content=b"x")


async def test_v1_answers_conform(srv: Served) -> None:
    chat = {"model": TINY, "messages": MSG, "max_tokens": 5}
    for stream in (False, True):
        extra = {"stream": stream, "stream_options": {"include_usage": True}} if stream else {"n": 2}
        r = await _check(srv, "POST", "/v1/chat/completions", json={**chat, **extra, "logprobs": True})
        assert r.status_code == 200
        r = await _check(srv, "POST", "/v1/completions", json={"model": TINY, "prompt": "hi", "stream": stream})
        assert r.status_code == 200
        r = await _check(srv, "POST", "/v1/responses", json={"model": TINY, "input": "hi", "stream": stream})
        assert r.status_code == 200
        anthropic = {"model": TINY, "max_tokens": 5, "messages": MSG, "stream": stream}
        r = await _check(srv, "POST", "/v1/messages", json=anthropic)
        assert r.status_code == 200
    await _check(srv, "POST", "/v1/completions", json={"model": TINY, "prompt": "hi", "logprobs": 2, "echo": True})
    await _check(srv, "POST", "/v1/messages/count_tokens", json={"model": TINY, "messages": MSG})
    await _check(srv, "GET", "/v1/models")
    await _check(srv, "GET", f"/v1/models/{TINY}", "/v1/models/{model}")


async def test_v1_errors_conform(srv: Served) -> None:
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/messages"):
        r = await _check(srv, "POST", path, content=b"[")
        assert r.status_code == 400
        r = await _check(srv, "POST", path, json={"model": "nope", "messages": MSG, "input": "x", "prompt": "x"})
        assert r.status_code in (400, 404)
    await _check(srv, "GET", "/v1/models/nope", "/v1/models/{model}")


async def test_keys_and_limits_conform(start: Start) -> None:
    async with start(OLLAMA_API_KEYS="k1", OLLAMA_MAX_BODY="64") as srv:
        for path in ("/api/chat", "/v1/chat/completions", "/v1/messages"):
            r = await _check(srv, "POST", path, json={"model": TINY, "messages": MSG})
            assert r.status_code == 401
            r = await _check(srv, "POST", path, json={"model": TINY, "x": "y" * 100}, headers={"x-api-key": "k1"})
            assert r.status_code == 413
        r = await _check(srv, "GET", "/", headers={})
        assert r.status_code == 200


def test_conformance_catches_drift() -> None:
    doc = document()
    good = b'{"model":"m","created_at":"t","response":"x","done":false}\n'
    assert not conformance(doc, "/api/generate", "POST", 200, "application/x-ndjson", good)
    assert conformance(doc, "/api/generate", "POST", 200, "application/x-ndjson", good + b"{oops\n")
    assert conformance(doc, "/api/generate", "POST", 200, "application/json", b'{"model":"m","done":true}')
    assert conformance(doc, "/api/generate", "POST", 200, "application/json", good[:-1].replace(b"}", b',"new":1}'))
    assert conformance(doc, "/api/generate", "POST", 418, "application/json", b"{}")
    assert conformance(doc, "/v1/chat/completions", "POST", 200, "text/event-stream", b'data: {"id":1}\n\n')
