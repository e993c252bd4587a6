"""The OpenAI routes in process over a fake runner: what reaches the runner (sampling defaults, seeds of ``n``
choices, the tool grammar ``tool_choice`` asks for) and what comes back (SSE frames, tool-call deltas, reasoning,
errors in OpenAI's shape, mid-stream errors)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from app_harness import THINKER, TINY, Served

from pollama.store.builtin import QWEN_CODER

pytestmark = pytest.mark.anyio

TOOLIE = "toolie"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


async def make_toolie(srv: Served) -> None:
    r = await srv.http.post("/api/create", json={"model": TOOLIE, "from": TINY, "template": QWEN_CODER.template})
    assert r.status_code == 200, r.text


def ask(model: str = TINY, content: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def frames(r: httpx.Response) -> list[Any]:
    """The ``data:`` payloads of an SSE body, checking the framing; ``[DONE]`` stays a string."""
    assert r.headers["content-type"].startswith("text/event-stream")
    blocks = r.text.split("\n\n")
    assert blocks[-1] == ""
    out = []
    for block in blocks[:-1]:
        assert block.startswith("data: "), block
        data = block.removeprefix("data: ")
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


def assert_openai_error(r: httpx.Response, status: int, kind: str, message: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"error": {"message": message, "type": kind, "param": None, "code": None}}


async def test_chat_answer_and_what_the_runner_was_asked(srv: Served) -> None:
    r = await srv.http.post("/v1/chat/completions", json=ask(max_tokens=1))
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": "<user>hello"}
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 1 and body["usage"]["prompt_tokens"] > 0
    sampling = srv.engine.requests[-1].sampling
    # OpenAI's defaults win over the model's own parameters (tiny's temperature is 0.5).
    assert (sampling.temperature, sampling.top_p) == (1.0, 1.0)


async def test_stream_frames_usage_and_done(srv: Served) -> None:
    r = await srv.http.post("/v1/chat/completions", json=ask(stream=True, stream_options={"include_usage": True}))
    objs = frames(r)
    assert objs[-1] == "[DONE]"
    chunks = objs[:-1]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["created"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "<user>hello there</user><assistant>"
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 2


async def test_n_choices_run_at_once_with_derived_seeds(srv: Served) -> None:
    body = (await srv.http.post("/v1/chat/completions", json=ask(n=3, seed=7))).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert sorted(r.sampling.seed for r in srv.engine.requests) == [7, 8, 9]
    assert body["usage"]["completion_tokens"] == 6
    r = await srv.http.post("/v1/chat/completions", json=ask(n=2, stream=True))
    finishes = [c["choices"][0]["index"] for c in frames(r)[:-1] if c["choices"][0]["finish_reason"]]
    assert sorted(finishes) == [0, 1]


async def test_tool_call_answer_and_stream_delta(srv: Served) -> None:
    await make_toolie(srv)
    srv.engine.reply = lambda prompt: CALL
    body = (await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER]))).json()
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    # Auto: the lazy grammar, waiting for the model to start a call.
    assert srv.engine.requests[-1].grammar_triggers
    r = await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER], stream=True))
    chunks = frames(r)[:-1]
    deltas = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert [(d["index"], d["function"]["name"]) for d in deltas] == [(0, "get_weather")] and deltas[0]["id"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_required_and_named_tool_choice_apply_the_grammar_from_the_start(srv: Served) -> None:
    await make_toolie(srv)
    srv.engine.reply = lambda prompt: CALL
    await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER, TIME], tool_choice="required"))
    req = srv.engine.requests[-1]
    assert req.grammar is not None and req.grammar_triggers == ()
    assert "get_weather" in req.grammar and "get_time" in req.grammar
    assert req.grammar.splitlines()[0] == 'root ::= "<tool_call>" space call space "</tool_call>" | call'
    body = ask(TOOLIE, tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=True)
    await srv.http.post("/v1/chat/completions", json=body)
    assert ")*" in (srv.engine.requests[-1].grammar or "").splitlines()[0]
    named = {"type": "function", "function": {"name": "get_weather"}}
    await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER, TIME], tool_choice=named))
    req = srv.engine.requests[-1]
    assert req.grammar is not None and req.grammar_triggers == ()
    assert "get_weather" in req.grammar and "get_time" not in req.grammar
    # Both tools are still shown to the model.
    assert '"name":"get_time"' in req.prompt


async def test_tool_choice_none_shows_and_parses_no_tools(srv: Served) -> None:
    await make_toolie(srv)
    srv.engine.reply = lambda prompt: CALL
    body = (await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER], tool_choice="none"))).json()
    req = srv.engine.requests[-1]
    assert req.grammar is None and "get_weather" not in req.prompt
    assert "tool_calls" not in body["choices"][0]["message"] and body["choices"][0]["finish_reason"] == "stop"


async def test_parallel_tool_calls_false_gives_one_call(srv: Served) -> None:
    await make_toolie(srv)
    srv.engine.reply = lambda prompt: CALL + "\n" + CALL.replace("Paris", "Rome")
    both = (await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER]))).json()
    assert len(both["choices"][0]["message"]["tool_calls"]) == 2
    one = (
        await srv.http.post("/v1/chat/completions", json=ask(TOOLIE, tools=[WEATHER], parallel_tool_calls=False))
    ).json()
    assert [json.loads(c["function"]["arguments"]) for c in one["choices"][0]["message"]["tool_calls"]] == [
        {"city": "Paris"}
    ]
    assert "call (" not in (srv.engine.requests[-1].grammar or "").splitlines()[0]


async def test_reasoning_in_the_message_and_in_deltas(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "Greet back. </think>Hello!"
    body = (await srv.http.post("/v1/chat/completions", json=ask(THINKER, reasoning_effort="low"))).json()
    message = body["choices"][0]["message"]
    assert (message["reasoning"], message["content"]) == ("Greet back. ", "Hello!")
    r = await srv.http.post("/v1/chat/completions", json=ask(THINKER, reasoning_effort="low", stream=True))
    deltas = [c["choices"][0]["delta"] for c in frames(r)[:-1]]
    assert "".join(d.get("reasoning", "") for d in deltas) == "Greet back. "
    assert "".join(d.get("content", "") for d in deltas) == "Hello!"
    assert not any(d.get("reasoning") and d.get("content") for d in deltas)


async def test_logprobs_per_token(srv: Served) -> None:
    body = (await srv.http.post("/v1/chat/completions", json=ask(logprobs=True, top_logprobs=2))).json()
    content = body["choices"][0]["logprobs"]["content"]
    assert [c["token"] for c in content] == ["<user>hello", " there</user><assistant>"]
    assert [len(c["top_logprobs"]) for c in content] == [2, 2]
    assert srv.engine.requests[-1].top_logprobs == 2


async def test_errors_come_in_openais_shape(srv: Served) -> None:
    r = await srv.http.post("/v1/chat/completions", json=ask("missing"))
    assert_openai_error(r, 404, "not_found_error", "model 'missing' not found")
    r = await srv.http.post("/v1/chat/completions", content=b'{"model": ')
    assert_openai_error(r, 400, "invalid_request_error", "unexpected EOF")
    r = await srv.http.post("/v1/embeddings", content=b"[]")
    assert_openai_error(
        r, 400, "invalid_request_error", "json: cannot unmarshal array into Go value of type api.EmbedRequest"
    )
    r = await srv.http.post("/v1/chat/completions", json={"model": TINY, "messages": []})
    assert_openai_error(r, 400, "invalid_request_error", "[] is too short - 'messages'")
    r = await srv.http.post("/v1/chat/completions", json=ask(tools=[WEATHER]))
    assert r.status_code == 400 and "does not support tools" in r.json()["error"]["message"]
    r = await srv.http.post(
        "/v1/chat/completions", json=ask(response_format={"type": "json_schema", "json_schema": {}})
    )
    assert r.status_code == 400 and "json_schema" in r.json()["error"]["message"]
    r = await srv.http.get("/v1/models/missing")
    assert_openai_error(r, 404, "not_found_error", "model 'missing' not found")
    # The native routes keep Ollama's shape.
    r = await srv.http.post("/api/chat", json={"model": "missing", "messages": []})
    assert r.json() == {"error": "model 'missing' not found"}


async def test_an_error_mid_stream_is_an_error_frame(srv: Served) -> None:
    srv.engine.die_after = 1
    r = await srv.http.post("/v1/chat/completions", json=ask(stream=True))
    objs = frames(r)
    assert objs[0]["choices"][0]["delta"]["content"] == "<user>hello"
    assert objs[-1]["error"]["type"] == "api_error" and "stopped" in objs[-1]["error"]["message"]


async def test_completions_echo_logprobs_and_stream(srv: Served) -> None:
    body = (
        await srv.http.post("/v1/completions", json={"model": TINY, "prompt": "hi you", "echo": True, "logprobs": 0})
    ).json()
    (choice,) = body["choices"]
    assert body["object"] == "text_completion"
    assert choice["text"] == "hi you<user>hi you</user><assistant>"
    assert choice["logprobs"]["text_offset"] == [6, 14] and choice["finish_reason"] == "stop"
    r = await srv.http.post(
        "/v1/completions",
        json={"model": TINY, "prompt": "hi you", "stream": True, "stream_options": {"include_usage": True}},
    )
    objs = frames(r)
    assert objs[-1] == "[DONE]" and objs[-2]["choices"] == [] and objs[-2]["usage"]["completion_tokens"] == 2
    assert "".join(o["choices"][0]["text"] for o in objs[:-2]) == "<user>hi you</user><assistant>"
    r = await srv.http.post("/v1/completions", json={"model": TINY, "prompt": "x", "suffix": "y"})
    assert r.status_code == 400 and r.json()["error"]["message"].endswith("tiny:latest does not support insert")


async def test_models_list_and_get(srv: Served) -> None:
    listed = (await srv.http.get("/v1/models")).json()
    assert listed["object"] == "list"
    assert {m["id"] for m in listed["data"]} >= {"tiny:latest", "thinker:latest"}
    assert all(m["object"] == "model" and m["owned_by"] == "library" and m["created"] > 0 for m in listed["data"])
    one = (await srv.http.get("/v1/models/tiny")).json()
    assert one["id"] == "tiny" and one["owned_by"] == "library"


async def test_a_client_that_goes_away_cancels_the_choices(srv: Served) -> None:
    # The runner holds every completion until a gate that never opens: only the disconnect can end the request.
    srv.engine.completion_gate = asyncio.Event()
    body = json.dumps(ask(n=2)).encode()
    received: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if received:
            return received.pop()
        await srv.engine.wait_for_requests(2)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:11434"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 11434),
        "state": {},
        "app": srv.app,
    }
    await asyncio.wait_for(srv.app(scope, receive, send), timeout=60)
    assert sent[0]["status"] == 499
    assert len(srv.engine.requests) == 2
    # Both runs let go of the runner: a new request is served at once.
    srv.engine.completion_gate.set()
    assert (await srv.http.post("/v1/chat/completions", json=ask())).status_code == 200


async def test_logit_bias_reaches_the_runner_as_token_pairs(srv: Served) -> None:
    await srv.http.post("/v1/chat/completions", json=ask(logit_bias={"42": -100, "7": 2.5}))
    assert srv.engine.requests[-1].logit_bias == ((42, float("-inf")), (7, 2.5))
    await srv.http.post("/v1/completions", json={"model": TINY, "prompt": "x", "logit_bias": {"3": 1}})
    assert srv.engine.requests[-1].logit_bias == ((3, 1.0),)


@pytest.mark.parametrize(
    ("bias", "message"),
    [
        ({"cat": 1}, "invalid logit_bias: 'cat' is not a token id"),
        ({"5": 101}, "invalid logit_bias: the bias of token 5 must be a number from -100 to 100"),
        ({"5": "high"}, "invalid logit_bias: the bias of token 5 must be a number from -100 to 100"),
        ([1, 2], "invalid type for 'logit_bias': expected object, got array"),
    ],
)
async def test_bad_logit_bias(srv: Served, bias: Any, message: str) -> None:
    r = await srv.http.post("/v1/chat/completions", json=ask(logit_bias=bias))
    assert_openai_error(r, 400, "invalid_request_error", message)
    assert srv.engine.requests == []
