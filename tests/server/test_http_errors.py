"""Every error the native API answers before a model runs: status, ``application/json`` and ``{"error": ...}``
exactly as Ollama gives them (decoding, validation, unknown models, capabilities, option types, ``/api/show``).

An error a runner raises is in ``test_http_runner_failures.py``.
"""

from __future__ import annotations

import httpx
import pytest
from app_harness import EMBEDDER, JSON, TINY, Served

pytestmark = pytest.mark.anyio

THINK_VALUES = '"high", "medium", "low", "max", true, or false'

CASES: list[tuple[str, object, int, str]] = [
    ("/api/generate", b"", 400, "missing request body"),
    ("/api/chat", b"", 400, "missing request body"),
    ("/api/show", b"", 400, "missing request body"),
    ("/api/generate", b" \n", 400, "missing request body"),
    ("/api/generate", b"{", 400, "unexpected EOF"),
    ("/api/generate", b"{x}", 400, "invalid character 'x' looking for beginning of object key string"),
    ("/api/chat", b'{"model": "tiny",}', 400, "invalid character '}' looking for beginning of object key string"),
    ("/api/generate", b"[]", 400, "json: cannot unmarshal array into Go value of type api.GenerateRequest"),
    (
        "/api/generate",
        {"model": 5},
        400,
        "json: cannot unmarshal number into Go struct field GenerateRequest.model of type string",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": ["hi"]},
        400,
        "json: cannot unmarshal array into Go struct field GenerateRequest.prompt of type string",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "stream": "no"},
        400,
        "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool",
    ),
    (
        "/api/chat",
        {"model": TINY, "messages": "hi"},
        400,
        "json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message",
    ),
    (
        "/api/show",
        {"model": 1},
        400,
        "json: cannot unmarshal number into Go struct field ShowRequest.model of type string",
    ),
    ("/api/generate", b"null", 404, "model '' not found"),
    ("/api/generate", {"prompt": "hi"}, 404, "model '' not found"),
    ("/api/generate", {"model": "nope", "prompt": "hi"}, 404, "model 'nope' not found"),
    ("/api/generate", {"model": "nope", "keep_alive": 0}, 404, "model 'nope' not found"),
    # The model is looked up before the options are read: a missing model wins over a bad option.
    ("/api/generate", {"model": "nope", "prompt": "hi", "options": {"num_ctx": "8"}}, 404, "model 'nope' not found"),
    ("/api/chat", {"messages": []}, 400, "model is required"),
    ("/api/chat", {"model": "nope:1b", "messages": []}, 404, "model 'nope:1b' not found"),
    ("/api/show", {}, 400, "model is required"),
    ("/api/show", {"model": "nope"}, 404, "model 'nope:latest' not found"),
    ("/api/show", {"name": "nope:7b"}, 404, "model 'nope:7b' not found"),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "raw": True, "system": "x"},
        400,
        "raw mode does not support template, system, or context",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "raw": True, "template": "{{ .Prompt }}"},
        400,
        "raw mode does not support template, system, or context",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "raw": True, "context": [1, 2]},
        400,
        "raw mode does not support template, system, or context",
    ),
    ("/api/generate", {"model": TINY, "top_logprobs": 21}, 400, "top_logprobs must be between 0 and 20"),
    ("/api/chat", {"model": TINY, "top_logprobs": -1}, 400, "top_logprobs must be between 0 and 20"),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "keep_alive": "300"},
        400,
        'time: missing unit in duration "300"',
    ),
    ("/api/generate", {"model": TINY, "prompt": "hi", "keep_alive": "soon"}, 400, 'time: invalid duration "soon"'),
    ("/api/chat", {"model": TINY, "keep_alive": True}, 400, "Unsupported type: 'bool'"),
    ("/api/chat", {"model": TINY, "keep_alive": [5]}, 400, "Unsupported type: '[]interface {}'"),
    ("/api/generate", {"model": TINY, "prompt": "hi", "think": True}, 400, f'"{TINY}" does not support thinking'),
    ("/api/generate", {"model": TINY, "prompt": "hi", "think": "high"}, 400, f'"{TINY}" does not support thinking'),
    (
        "/api/chat",
        {"model": TINY, "messages": [{"role": "user", "content": "x"}], "think": True},
        400,
        f'"{TINY}" does not support thinking',
    ),
    (
        "/api/chat",
        {"model": TINY, "messages": [{"role": "user", "content": "x"}], "think": "extreme"},
        400,
        f'invalid think value: "extreme" (must be {THINK_VALUES})',
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "think": 1},
        400,
        f"think must be a boolean or string ({THINK_VALUES})",
    ),
    ("/api/generate", {"model": EMBEDDER, "prompt": "hi"}, 400, f'"{EMBEDDER}" does not support generate'),
    (
        "/api/chat",
        {"model": EMBEDDER, "messages": [{"role": "user", "content": "x"}]},
        400,
        f'"{EMBEDDER}" does not support chat',
    ),
    (
        "/api/chat",
        {
            "model": TINY,
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        },
        400,
        f"registry.ollama.ai/library/{TINY}:latest does not support tools",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "def f(", "suffix": "return x"},
        400,
        f"registry.ollama.ai/library/{TINY}:latest does not support insert",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "options": {"stop": "x"}},
        500,
        'option "stop" must be of type array',
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "options": {"stop": ["x", 1]}},
        500,
        'option "stop" must be of an array of strings',
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "options": {"num_ctx": "8"}},
        500,
        'option "num_ctx" must be of type integer',
    ),
    (
        "/api/chat",
        {"model": TINY, "messages": [{"role": "user", "content": "x"}], "options": {"temperature": "hot"}},
        500,
        'option "temperature" must be of type float32',
    ),
    (
        "/api/chat",
        {"model": TINY, "messages": [{"role": "user", "content": "x"}], "options": {"use_mmap": 1}},
        500,
        'option "use_mmap" must be of type boolean',
    ),
]


# Go names the innermost struct and the element type: ``Message.messages.content``, ``of type api.Message``.
GO_NESTED_TYPE_ERRORS: list[tuple[str, object, int, str]] = [
    (
        "/api/chat",
        {"model": TINY, "messages": [{"role": "user", "content": 5}]},
        400,
        "json: cannot unmarshal number into Go struct field Message.messages.content of type string",
    ),
    (
        "/api/chat",
        {"model": TINY, "messages": [5]},
        400,
        "json: cannot unmarshal number into Go struct field ChatRequest.messages of type api.Message",
    ),
    (
        "/api/generate",
        {"model": TINY, "prompt": "hi", "context": ["a"]},
        400,
        "json: cannot unmarshal string into Go struct field GenerateRequest.context of type int",
    ),
]


async def post(srv: Served, path: str, body: object) -> httpx.Response:
    if isinstance(body, bytes):
        return await srv.http.post(path, content=body)
    return await srv.http.post(path, json=body)


@pytest.mark.parametrize(("path", "body", "status", "message"), CASES)
async def test_error(srv: Served, path: str, body: object, status: int, message: str) -> None:
    r = await post(srv, path, body)
    assert (r.status_code, r.json()) == (status, {"error": message})
    assert r.headers["content-type"] == JSON
    assert srv.engine.requests == []


@pytest.mark.parametrize(("path", "body", "status", "message"), GO_NESTED_TYPE_ERRORS)
async def test_nested_type_error(srv: Served, path: str, body: object, status: int, message: str) -> None:
    r = await post(srv, path, body)
    assert (r.status_code, r.json()) == (status, {"error": message})


async def test_errors_before_the_model_runs_load_nothing(srv: Served) -> None:
    for path, body, _, _ in CASES:
        await post(srv, path, body)
    assert srv.engine.runners == []
