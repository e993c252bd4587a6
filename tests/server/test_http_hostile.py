"""Hostile request bodies (issue 10): each gets a 4xx with Go's Ollama's message (or a clear one of pollama's
where Go has none) instead of a traceback, and the server keeps answering afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from app_harness import JSON, TINY, Served, Start

from pollama.api.jsonio import decode
from pollama.api.types import GenerateRequest
from pollama.create import build

pytestmark = pytest.mark.anyio


async def post(srv: Served, path: str, body: bytes) -> httpx.Response:
    return await srv.http.post(path, content=body)


async def assert_still_answers(srv: Served) -> None:
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "stream": False})
    assert r.status_code == 200, r.text
    assert r.json()["done"] is True


async def assert_refused(srv: Served, path: str, body: bytes, status: int, message: str) -> None:
    r = await post(srv, path, body)
    assert (r.status_code, r.json()) == (status, {"error": message})
    assert r.headers["content-type"] == JSON
    assert srv.engine.requests == []
    await assert_still_answers(srv)


def generate(extra: str) -> bytes:
    return f'{{"model": "{TINY}", "prompt": "hi", {extra}}}'.encode()


async def test_empty_keep_alive_is_a_duration_parse_error(srv: Served) -> None:
    await assert_refused(srv, "/api/generate", generate('"keep_alive": ""'), 400, 'time: invalid duration ""')


async def test_option_past_float64_is_gos_unmarshal_error(srv: Served) -> None:
    await assert_refused(
        srv,
        "/api/generate",
        generate('"options": {"num_predict": 1e400}'),
        400,
        "json: cannot unmarshal number 1e400 into Go struct field GenerateRequest.options of type float64",
    )


async def test_negative_overflow_in_a_chat_option(srv: Served) -> None:
    body = f'{{"model": "{TINY}", "messages": [], "options": {{"temperature": -1e999}}}}'.encode()
    await assert_refused(
        srv,
        "/api/chat",
        body,
        400,
        "json: cannot unmarshal number -1e999 into Go struct field ChatRequest.options of type float64",
    )


async def test_integer_field_past_int64_is_gos_unmarshal_error(srv: Served) -> None:
    await assert_refused(
        srv,
        "/api/generate",
        generate('"context": [1, 99999999999999999999999]'),
        400,
        "json: cannot unmarshal number 99999999999999999999999 into Go struct field GenerateRequest.context"
        " of type int",
    )


async def test_big_integer_in_an_option_is_read_as_go_reads_it_then_refused_by_range(srv: Served) -> None:
    # Go reads any option number as float64 (this one fits); it cannot then be an int64 option.
    await assert_refused(
        srv,
        "/api/generate",
        generate('"options": {"num_ctx": 99999999999999999999999}'),
        400,
        'option "num_ctx" is out of range for an integer',
    )


async def test_integer_option_past_int64_as_a_float(srv: Served) -> None:
    await assert_refused(
        srv,
        "/api/generate",
        generate('"options": {"num_predict": 1e300}'),
        400,
        'option "num_predict" is out of range for an integer',
    )


async def test_float_option_past_float32(srv: Served) -> None:
    await assert_refused(
        srv, "/api/generate", generate('"options": {"top_p": 1e39}'), 400, 'option "top_p" is out of range for float32'
    )


async def test_big_integer_where_go_reads_float64_is_accepted(srv: Served) -> None:
    # An unknown option holds any JSON number Go's float64 holds, however it is written.
    r = await post(srv, "/api/generate", generate('"stream": false, "options": {"unknown": 99999999999999999999999}'))
    assert r.status_code == 200, r.text


async def test_nesting_past_gos_depth_limit(srv: Served) -> None:
    depth = 100_000
    body = b'{"model": "x", "prompt": ' + b"[" * depth + b"]" * depth + b"}"
    await assert_refused(srv, "/api/generate", body, 400, "invalid character '[' exceeded max depth")


async def test_nesting_python_cannot_read_but_go_could_is_still_a_400(srv: Served) -> None:
    depth = 5_000
    body = b'{"model": "x", "prompt": ' + b"[" * depth + b"]" * depth + b"}"
    await assert_refused(srv, "/api/generate", body, 400, "request body nested too deeply")


async def test_lone_surrogate_becomes_replacement_character(srv: Served) -> None:
    r = await post(srv, "/api/generate", generate('"prompt": "a\\ud800b\\udc00", "stream": false'))
    assert r.status_code == 200, r.text
    (req,) = srv.engine.requests
    assert "a\ufffdb\ufffd" in req.prompt
    req.prompt.encode("utf-8")


async def test_surrogate_pair_is_kept(srv: Served) -> None:
    r = await post(srv, "/api/generate", generate('"prompt": "\\ud83d\\ude00", "stream": false'))
    assert r.status_code == 200, r.text
    (req,) = srv.engine.requests
    assert "\U0001f600" in req.prompt


async def test_lone_surrogate_in_a_chat_message(srv: Served) -> None:
    body = f'{{"model": "{TINY}", "stream": false, "messages": [{{"role": "user", "content": "x\\uDFFF"}}]}}'
    r = await post(srv, "/api/chat", body.encode())
    assert r.status_code == 200, r.text
    (req,) = srv.engine.requests
    assert "x\ufffd" in req.prompt


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("NaN", "invalid character 'N' looking for beginning of value"),
        ("Infinity", "invalid character 'I' looking for beginning of value"),
        ("-Infinity", "invalid character 'I' in numeric literal"),
    ],
)
async def test_non_standard_number_literals(srv: Served, literal: str, message: str) -> None:
    await assert_refused(srv, "/api/generate", generate(f'"options": {{"temperature": {literal}}}'), 400, message)


async def test_create_refuses_a_bad_name_before_pulling_a_missing_base(
    srv: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulled: list[object] = []

    def pull(*args: object, **kwargs: object) -> object:
        pulled.append(args)
        raise AssertionError("pulled")

    monkeypatch.setattr(build, "pull", pull)
    r = await srv.http.post("/api/create", json={"model": "bad name!!", "from": "nobody/missing:latest"})
    assert (r.status_code, r.json()) == (400, {"error": "invalid model name"})
    assert pulled == []
    await assert_still_answers(srv)


NON_GO_APIS = ["/v1/messages", "/v1/responses"]


def non_go_body(extra: str, content: str = "hi") -> bytes:
    messages = f'[{{"role": "user", "content": "{content}"}}]'
    return f'{{"model": "{TINY}", "max_tokens": 10, "messages": {messages}, "input": "{content}", {extra}}}'.encode()


@pytest.mark.parametrize("path", NON_GO_APIS)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"model": "x", "max_tokens": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "request body nested too deeply"),
        (non_go_body('"temperature": NaN'), "NaN is not valid JSON"),
        (non_go_body('"temperature": -Infinity'), "-Infinity is not valid JSON"),
        (non_go_body('"temperature": 1e400'), "number 1e400 is out of range"),
    ],
)
async def test_apis_go_does_not_decode_refuse_nonstandard_json(
    srv: Served, path: str, body: bytes, message: str
) -> None:
    r = await post(srv, path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == message
    assert srv.engine.requests == []
    await assert_still_answers(srv)


@pytest.mark.parametrize("path", NON_GO_APIS)
async def test_apis_go_does_not_decode_replace_lone_surrogates(srv: Served, path: str) -> None:
    r = await post(srv, path, non_go_body('"stream": false', content="a\\ud800"))
    assert r.status_code == 200, r.text
    (req,) = srv.engine.requests
    assert "a\ufffd" in req.prompt


async def test_non_streaming_client_that_leaves_is_dropped_quietly(
    srv: Served, caplog: pytest.LogCaptureFixture
) -> None:
    srv.engine.completion_gate = asyncio.Event()
    gone = asyncio.Event()
    sent: list[dict[str, Any]] = []
    body = json.dumps({"model": TINY, "prompt": "hi", "stream": False}).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/generate",
        "raw_path": b"/api/generate",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:11434"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 11434),
    }
    call = asyncio.ensure_future(srv.app(scope, receive, send))
    await srv.engine.wait_for_requests(1)
    gone.set()
    await call
    assert sent[0]["status"] == 499
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    srv.engine.completion_gate = None
    await assert_still_answers(srv)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/generate", {"model": TINY, "prompt": "hi"}),
        ("/v1/chat/completions", {"model": TINY, "messages": [{"role": "user", "content": "hi"}]}),
        ("/v1/messages", {"model": TINY, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
    ],
)
async def test_full_queue_503_carries_retry_after(start: Start, path: str, body: dict[str, Any]) -> None:
    async with start(OLLAMA_MAX_QUEUE="1") as srv:
        gate = srv.engine.load_gate = asyncio.Event()
        loading = asyncio.ensure_future(srv.http.post("/api/generate", json={"model": TINY, "stream": False}))
        await srv.engine.loading.wait()
        busy = await srv.http.post(path, json=body)
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        gate.set()
        assert (await loading).status_code == 200
        served = await srv.http.post(path, json=body)
        assert served.status_code == 200, served.text
        assert "retry-after" not in served.headers


def test_big_integer_in_a_raw_json_field_is_kept_exact() -> None:
    # ``format`` is a json.RawMessage in Go: the digits pass through untouched.
    body = b'{"model": "m", "format": {"type": "integer", "maximum": 99999999999999999999999}}'
    req = decode(body, GenerateRequest, "GenerateRequest")
    assert req.format == {"type": "integer", "maximum": 99999999999999999999999}
