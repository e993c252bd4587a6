"""``/v1/messages`` routing in process on the fake runner: what reaches the runner, the SSE framing, token
counting through the render-only path, and errors in Anthropic's shape before and during a stream. (That the
API works on a real model is tests/e2e/test_v1_anthropic.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from app_harness import JSON, THINKER, TINY, Served

from pollama.errors import RunnerStopped

pytestmark = pytest.mark.anyio

HEADERS = {"x-api-key": "sk-anything", "anthropic-version": "2023-06-01"}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": TINY, "max_tokens": 50, "messages": [{"role": "user", "content": "hello there"}], **fields}


def sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in text.strip().split("\n\n"):
        name, data = frame.split("\n")
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


async def test_message_runs_the_native_chat(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "General Kenobi."
    r = await srv.http.post("/v1/messages", json=body(system="Be brief.", stop_sequences=["##"]), headers=HEADERS)
    assert r.status_code == 200 and r.headers["content-type"] == JSON
    msg = r.json()
    assert msg["content"] == [{"type": "text", "text": "General Kenobi."}] and msg["stop_reason"] == "end_turn"
    (req,) = srv.engine.requests
    assert req.prompt == "<system>Be brief.</system><user>hello there</user><assistant>"
    assert req.stop == ["##"] and req.num_predict == 50
    assert msg["usage"] == {"input_tokens": len(req.prompt), "output_tokens": 2}


async def test_stream_frames(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two three"
    r = await srv.http.post("/v1/messages", json=body(stream=True, max_tokens=2), headers=HEADERS)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    assert "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta") == "one two"
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"


async def test_thinking_streams_as_thinking_deltas(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "pondering</think>answer"
    payload = body(model=THINKER, stream=True, thinking={"type": "enabled", "budget_tokens": 1024})
    events = sse((await srv.http.post("/v1/messages", json=payload)).text)
    blocks = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    assert blocks == ["thinking", "text"]
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert "".join(d.get("thinking", "") for d in deltas) == "pondering"
    assert "".join(d.get("text", "") for d in deltas) == "answer"


async def test_count_tokens_counts_the_rendered_prompt(srv: Served) -> None:
    # The fake tokenizer makes one token of each character.
    r = await srv.http.post(
        "/v1/messages/count_tokens", json={"model": TINY, "system": "Be brief.", "messages": body()["messages"]}
    )
    assert r.json() == {"input_tokens": len("<system>Be brief.</system><user>hello there</user><assistant>")}
    assert srv.engine.requests == []


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
@pytest.mark.parametrize("stream", [False, True])
async def test_unknown_model_is_anthropic_not_found(srv: Served, path: str, stream: bool) -> None:
    r = await srv.http.post(path, json=body(model="nope", stream=stream))
    assert r.status_code == 404 and r.headers["content-type"] == JSON
    err = r.json()
    assert err["type"] == "error" and err["error"] == {"type": "not_found_error", "message": "model 'nope' not found"}
    assert r.headers["request-id"] == err["request_id"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{", "invalid JSON in request body"),
        (json.dumps(body(max_tokens=None)).encode(), "max_tokens is required and must be positive"),
        (json.dumps(body(top_k=1.5)).encode(), "top_k: Input should be a valid integer"),
        (json.dumps(body(thinking={"type": "enabled"})).encode(), '"tiny" does not support thinking'),
    ],
)
async def test_bad_requests_are_invalid_request_errors(srv: Served, payload: bytes, message: str) -> None:
    r = await srv.http.post("/v1/messages", content=payload)
    assert r.status_code == 400
    err = r.json()
    assert err["error"]["type"] == "invalid_request_error" and err["error"]["message"].startswith(message)


async def test_failure_mid_stream_is_an_error_event(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two three four"
    srv.engine.die_after = 2
    events = sse((await srv.http.post("/v1/messages", json=body(stream=True))).text)
    name, data = events[-1]
    assert name == "error" and data["type"] == "error" and data["error"]["type"] == "api_error"
    assert data["error"]["message"] == RunnerStopped().message


async def test_native_routes_keep_their_error_shape(srv: Served) -> None:
    r = await srv.http.post("/api/chat", json=body(model="nope"))
    assert r.json() == {"error": "model 'nope' not found"}


async def test_a_matched_stop_sequence_is_reported(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two ## three"
    r = await srv.http.post("/v1/messages", json=body(stop_sequences=["three", "##"]), headers=HEADERS)
    msg = r.json()
    assert (msg["stop_reason"], msg["stop_sequence"]) == ("stop_sequence", "##")
    assert msg["content"] == [{"type": "text", "text": "one two "}]
    streamed = sse((await srv.http.post("/v1/messages", json=body(stop_sequences=["##"], stream=True))).text)
    (delta,) = [data for name, data in streamed if name == "message_delta"]
    assert delta["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "##"}
