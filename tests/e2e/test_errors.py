"""Every error the serving core returns: status and message exactly as Ollama gives them."""

from __future__ import annotations

import pytest
from e2e_helpers import MODEL, Server

CASES: list[tuple[str, str, object, int, str]] = [
    ("POST", "/api/generate", b"", 400, "missing request body"),
    ("POST", "/api/chat", b"", 400, "missing request body"),
    ("POST", "/api/generate", b"{", 400, "unexpected EOF"),
    ("POST", "/api/generate", b"{x}", 400, "invalid character 'x' looking for beginning of object key string"),
    (
        "POST",
        "/api/generate",
        {"model": 5},
        400,
        "json: cannot unmarshal number into Go struct field GenerateRequest.model of type string",
    ),
    (
        "POST",
        "/api/chat",
        {"model": MODEL, "messages": "hi"},
        400,
        "json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message",
    ),
    ("POST", "/api/generate", {"prompt": "hi"}, 404, "model '' not found"),
    ("POST", "/api/generate", {"model": "nope", "prompt": "hi"}, 404, "model 'nope' not found"),
    ("POST", "/api/chat", {"messages": []}, 400, "model is required"),
    ("POST", "/api/chat", {"model": "nope:1b", "messages": []}, 404, "model 'nope:1b' not found"),
    (
        "POST",
        "/api/generate",
        {"model": MODEL, "prompt": "hi", "raw": True, "system": "x"},
        400,
        "raw mode does not support template, system, or context",
    ),
    ("POST", "/api/generate", {"model": MODEL, "top_logprobs": 21}, 400, "top_logprobs must be between 0 and 20"),
    (
        "POST",
        "/api/generate",
        {"model": MODEL, "prompt": "hi", "keep_alive": "300"},
        400,
        'time: missing unit in duration "300"',
    ),
    (
        "POST",
        "/api/generate",
        {"model": MODEL, "prompt": "hi", "think": True},
        400,
        f'"{MODEL}" does not support thinking',
    ),
    (
        "POST",
        "/api/chat",
        {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "think": "extreme"},
        400,
        'invalid think value: "extreme" (must be "high", "medium", "low", "max", true, or false)',
    ),
    (
        "POST",
        "/api/generate",
        {"model": MODEL, "prompt": "hi", "options": {"stop": "x"}},
        500,
        'option "stop" must be of type array',
    ),
    (
        "POST",
        "/api/generate",
        {"model": MODEL, "prompt": "hi", "options": {"num_ctx": "8"}},
        500,
        'option "num_ctx" must be of type integer',
    ),
    ("POST", "/api/show", {"model": "nope"}, 404, "model 'nope:latest' not found"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), CASES)
def test_error(server: Server, method: str, path: str, body: object, status: int, message: str) -> None:
    with server.client() as c:
        kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
        r = c.request(method, path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": message}


def test_unknown_path_and_method(server: Server) -> None:
    with server.client() as c:
        r = c.get("/api/nope")
        assert (r.status_code, r.text) == (404, "404 page not found")
        r = c.get("/api/generate")
        assert (r.status_code, r.text) == (405, "405 method not allowed")


def test_prompt_longer_than_context_without_shift(server: Server) -> None:
    long_prompt = "word " * 3000
    with server.client() as c:
        r = c.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": long_prompt,
                "raw": True,
                "shift": False,
                "stream": False,
                "options": {"num_ctx": 2048},
            },
        )
    assert r.status_code == 400
    assert r.json()["error"].startswith("the prompt is longer than the context length currently available to the model")
