"""``POST /v1/responses`` in process over the fake runner: what reaches the native use-case (prompt, options,
tools, grammar), the SSE framing, a failure mid-stream, and errors in OpenAI's shape. The real model's answers
are tested in ``tests/e2e/test_v1_responses.py``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from app_harness import TINY, Served

from pollama.store.builtin import QWEN_CODER

pytestmark = pytest.mark.anyio

TOOLIE = "toolie"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


def sse(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in response.text.split("\n\n"):
        if block.strip():
            head, data = block.split("\n")
            assert head.startswith("event: ") and data.startswith("data: ")
            events.append((head[7:], json.loads(data[6:])))
    return events


async def test_instructions_and_input_reach_the_prompt_with_the_options(srv: Served) -> None:
    body = {"model": TINY, "instructions": "be brief", "input": "hello", "max_output_tokens": 50, "top_p": 0.3}
    r = await srv.http.post("/v1/responses", json=body)
    assert r.status_code == 200, r.text
    req = srv.engine.requests[-1]
    assert req.prompt == "<system>be brief</system><user>hello</user><assistant>"
    assert (req.sampling.temperature, req.sampling.top_p, req.num_predict) == (1.0, 0.3, 50)
    out = r.json()
    assert out["object"] == "response" and out["status"] == "completed"
    assert out["output"][0]["content"][0]["text"] == req.prompt  # the fake runner echoes its prompt


async def test_schema_becomes_the_grammar(srv: Served) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    srv.engine.reply = lambda prompt: '{"n": 3}'
    body = {"model": TINY, "input": "n?", "text": {"format": {"type": "json_schema", "name": "n", "schema": schema}}}
    r = await srv.http.post("/v1/responses", json=body)
    assert json.loads(r.json()["output"][0]["content"][0]["text"]) == {"n": 3}
    assert srv.engine.requests[-1].grammar


async def test_function_tools_reach_the_template_and_calls_come_back_as_items(srv: Served) -> None:
    created = await srv.http.post("/api/create", json={"model": TOOLIE, "from": TINY, "template": QWEN_CODER.template})
    assert created.status_code == 200
    srv.engine.reply = lambda prompt: CALL
    r = await srv.http.post("/v1/responses", json={"model": TOOLIE, "input": "weather?", "tools": [WEATHER]})
    assert '"name":"get_weather"' in srv.engine.requests[-1].prompt
    (call,) = r.json()["output"]
    assert (call["type"], call["name"], json.loads(call["arguments"])) == (
        "function_call",
        "get_weather",
        {"city": "Paris"},
    )
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "18C"}
    srv.engine.reply = lambda prompt: "It is 18C."
    again = await srv.http.post(
        "/v1/responses", json={"model": TOOLIE, "input": [{"role": "user", "content": "weather?"}, call, result]}
    )
    prompt = srv.engine.requests[-1].prompt
    call_turn, result_turn = prompt.split("<tool_response>")
    assert '<tool_call>\n{"name": "get_weather"' in call_turn and "Paris" in call_turn
    assert result_turn.startswith("\n18C\n</tool_response>")
    assert again.json()["output"][0]["content"][0]["text"] == "It is 18C."


async def test_stream_is_sse_with_named_events(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two three"
    r = await srv.http.post("/v1/responses", json={"model": TINY, "input": "count", "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse(r)
    assert all(name == data["type"] for name, data in events)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    assert "".join(d["delta"] for n, d in events if n == "response.output_text.delta") == "one two three"
    assert events[-1][0] == "response.completed"
    assert events[-1][1]["response"]["usage"]["output_tokens"] > 0


async def test_runner_death_mid_stream_ends_with_response_failed(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two three four"
    srv.engine.die_after = 2
    r = await srv.http.post("/v1/responses", json={"model": TINY, "input": "count", "stream": True})
    name, data = sse(r)[-1]
    assert name == "response.failed" and data["response"]["status"] == "failed"
    assert "stopped" in data["response"]["error"]["message"]


@pytest.mark.parametrize("stream", [False, True])
async def test_unknown_model_is_openais_404(srv: Served, stream: bool) -> None:
    r = await srv.http.post("/v1/responses", json={"model": "nope", "input": "hi", "stream": stream})
    assert r.status_code == 404
    assert r.json() == {
        "error": {"message": "model 'nope' not found", "type": "not_found_error", "param": None, "code": None}
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "invalid JSON"),
        (b'{"model": "tiny", "input": 3}', "invalid value for 'input'"),
        (b'{"model": "tiny"}', "input is required"),
        (b'{"input": "hi"}', "model is required"),
        (b'{"model": "tiny", "input": [{"type": "x"}]}', "unknown input item type"),
    ],
)
async def test_bad_bodies_are_openais_400(srv: Served, body: bytes, message: str) -> None:
    r = await srv.http.post("/v1/responses", content=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and message in error["message"]
    assert srv.engine.requests == []
