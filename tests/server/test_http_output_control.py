"""Output control over a fake runner: what ``format``, ``tools``, ``think`` and ``logprobs`` send to the runner
(grammars, triggers, log probability requests), the 400s for what cannot be honoured, and how the model's text
comes back (tool calls with ids, thinking apart from content, logprobs in streams and combined answers)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from app_harness import THINKER, TINY, Served, ndjson

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
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}\n</tool_call>'


async def make_toolie(srv: Served) -> None:
    """A model with Ollama's library qwen2.5-coder template (tools, insert) on the tiny weights."""
    r = await srv.http.post("/api/create", json={"model": TOOLIE, "from": TINY, "template": QWEN_CODER.template})
    assert r.status_code == 200, r.text


def ask(model: str, content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], "stream": False, **extra}


@pytest.mark.parametrize(
    ("fmt", "quoted"), [(123, '"123"'), ("xml", '"\\"xml\\""'), (["json"], '"[\\"json\\"]"'), (True, '"true"')]
)
async def test_format_that_is_neither_json_nor_a_schema(srv: Served, fmt: Any, quoted: str) -> None:
    # Ollama quotes the raw JSON of the field with Go's %q.
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "format": fmt})
    assert r.status_code == 400
    assert r.json() == {"error": f'invalid format: {quoted}; expected "json" or a valid JSON Schema object'}
    assert srv.engine.requests == []


async def test_schema_the_grammar_cannot_enforce_is_refused_before_any_load(srv: Served) -> None:
    schema = {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True}}}
    r = await srv.http.post("/api/chat", json=ask(TINY, format=schema))
    assert r.status_code == 400
    assert "uniqueItems" in r.json()["error"]
    assert srv.engine.runners == []


@pytest.mark.parametrize("fmt", [None, ""])
async def test_no_format_means_no_grammar(srv: Served, fmt: Any) -> None:
    r = await srv.http.post("/api/chat", json=ask(TINY, format=fmt))
    assert r.status_code == 200
    assert srv.engine.requests[-1].grammar is None


async def test_format_schema_constrains_the_whole_answer(srv: Served) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 12}}}
    await srv.http.post("/api/chat", json=ask(TINY, format=schema))
    req = srv.engine.requests[-1]
    assert req.grammar is not None and "root" in req.grammar
    assert req.grammar_triggers == ()
    await srv.http.post("/api/generate", json={"model": TINY, "prompt": "x", "format": "json", "stream": False})
    assert srv.engine.requests[-1].grammar is not None


async def test_with_thinking_only_the_answer_is_constrained(srv: Served) -> None:
    await srv.http.post("/api/chat", json=ask(THINKER, format="json", think=True))
    req = srv.engine.requests[-1]
    assert req.grammar is not None
    assert req.grammar_triggers and all("</think>" in t for t in req.grammar_triggers)
    await srv.http.post("/api/chat", json=ask(THINKER, format="json", think=False))
    assert srv.engine.requests[-1].grammar_triggers == ()


async def test_thinking_is_separated_from_content(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "I should greet. </think>\n\nHello there!"
    body = (await srv.http.post("/api/chat", json=ask(THINKER, think=True))).json()
    assert body["message"]["thinking"] == "I should greet. "
    assert body["message"]["content"] == "Hello there!"
    gen = await srv.http.post("/api/generate", json={"model": THINKER, "prompt": "hi", "stream": False})
    assert gen.json()["thinking"] == "I should greet. " and gen.json()["response"] == "Hello there!"
    # Without thinking the text is content, as the model wrote it.
    off = (await srv.http.post("/api/chat", json=ask(THINKER, think=False))).json()
    assert off["message"]["content"] == "I should greet. </think>\n\nHello there!"
    assert "thinking" not in off["message"]


async def test_tool_call_is_parsed_with_ollama_ids(srv: Served) -> None:
    await make_toolie(srv)
    srv.engine.reply = lambda prompt: CALL
    body = (await srv.http.post("/api/chat", json=ask(TOOLIE, "Weather in Paris?", tools=[WEATHER]))).json()
    (call,) = body["message"]["tool_calls"]
    assert re.fullmatch(r"call_[a-z0-9]{8}", call["id"])
    # The model's key order is kept, and the index numbers the calls of the answer.
    assert call["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}
    assert list(call["function"]["arguments"]) == ["city", "unit"]
    assert body["message"]["content"] == ""
    req = srv.engine.requests[-1]
    assert req.grammar is not None and "get_weather" in req.grammar
    assert any("tool_call" in t for t in req.grammar_triggers)


async def test_tool_calls_stream_and_the_tools_reach_the_prompt(srv: Served) -> None:
    await make_toolie(srv)
    srv.engine.reply = lambda prompt: "Let me check.\n" + CALL + "\n" + CALL.replace("Paris", "Rome")
    r = await srv.http.post("/api/chat", json={**ask(TOOLIE, tools=[WEATHER]), "stream": True})
    objs = ndjson(r)
    calls = [c for o in objs for c in o["message"].get("tool_calls", [])]
    assert [(c["function"]["index"], c["function"]["arguments"]["city"]) for c in calls] == [(0, "Paris"), (1, "Rome")]
    assert "".join(o["message"]["content"] for o in objs).strip() == "Let me check."
    prompt = srv.engine.requests[-1].prompt
    assert "<tools>" in prompt and '"name":"get_weather"' in prompt


async def test_bare_call_object_counts_unless_it_follows_a_tool_result(srv: Served) -> None:
    await make_toolie(srv)
    bare = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    srv.engine.reply = lambda prompt: bare
    first = (await srv.http.post("/api/chat", json=ask(TOOLIE, tools=[WEATHER]))).json()
    assert [c["function"]["name"] for c in first["message"]["tool_calls"]] == ["get_weather"]
    assert any(t.startswith("^") for t in srv.engine.requests[-1].grammar_triggers)
    # After a tool result, a model echoing its call is not calling again: only the tag starts a call.
    history = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {}}}]},
        {"role": "tool", "content": "18 degrees", "tool_name": "get_weather"},
    ]
    body = {"model": TOOLIE, "messages": history, "tools": [WEATHER], "stream": False}
    after = (await srv.http.post("/api/chat", json=body)).json()
    assert "tool_calls" not in after["message"] and after["message"]["content"] == bare
    assert not any(t.startswith("^") for t in srv.engine.requests[-1].grammar_triggers)


async def test_unknown_tool_name_stays_content(srv: Served) -> None:
    await make_toolie(srv)
    text = '<tool_call>\n{"name": "launch_rockets", "arguments": {}}\n</tool_call>'
    srv.engine.reply = lambda prompt: text
    body = (await srv.http.post("/api/chat", json=ask(TOOLIE, tools=[WEATHER]))).json()
    assert "tool_calls" not in body["message"] and body["message"]["content"] == text


async def test_tools_on_a_model_without_them(srv: Served) -> None:
    r = await srv.http.post("/api/chat", json=ask(TINY, tools=[WEATHER]))
    assert r.status_code == 400 and r.json() == {
        "error": "registry.ollama.ai/library/tiny:latest does not support tools"
    }


async def test_suffix_goes_through_the_template_fim_tokens(srv: Served) -> None:
    await make_toolie(srv)
    r = await srv.http.post(
        "/api/generate", json={"model": TOOLIE, "prompt": "def f():", "suffix": "return 1", "stream": False}
    )
    assert r.status_code == 200
    assert srv.engine.requests[-1].prompt == "<|fim_prefix|>def f():<|fim_suffix|>return 1<|fim_middle|>"
    refused = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "a", "suffix": "b"})
    assert refused.status_code == 400 and refused.json() == {
        "error": "registry.ollama.ai/library/tiny:latest does not support insert"
    }


async def test_logprobs_stream_and_combine(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two three"
    body = {"model": TINY, "prompt": "count", "logprobs": True, "top_logprobs": 2}
    objs = ndjson(await srv.http.post("/api/generate", json=body))
    streamed = [lp for o in objs for lp in o.get("logprobs", [])]
    assert [lp["token"] for lp in streamed] == ["one", " two", " three"]
    assert streamed[1] == {
        "token": " two",
        "logprob": 0,
        "bytes": list(b" two"),
        "top_logprobs": [{"token": " two", "logprob": 0, "bytes": list(b" two")}, {"token": "alt1", "logprob": -0.1}],
    }
    req = srv.engine.requests[-1]
    assert (req.logprobs, req.top_logprobs) == (True, 2)
    whole = (await srv.http.post("/api/generate", json={**body, "stream": False})).json()
    assert whole["logprobs"] == streamed and list(whole)[-1] == "logprobs"  # after the metrics, as Go orders it
    chat = (await srv.http.post("/api/chat", json=ask(TINY, logprobs=True))).json()
    assert [lp["token"] for lp in chat["logprobs"]] == ["one", " two", " three"]


async def test_top_logprobs_alone_asks_for_nothing(srv: Served) -> None:
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "x", "top_logprobs": 3, "stream": False})
    assert "logprobs" not in r.json()
    assert (srv.engine.requests[-1].logprobs, srv.engine.requests[-1].top_logprobs) == (False, 0)


@pytest.mark.parametrize("top", [-1, 21])
async def test_top_logprobs_range(srv: Served, top: int) -> None:
    r = await srv.http.post("/api/chat", json=ask(TINY, logprobs=True, top_logprobs=top))
    assert r.status_code == 400 and r.json() == {"error": "top_logprobs must be between 0 and 20"}


@pytest.mark.parametrize(("name", "filtered"), [("deepseek-r1:1.5b", True), ("not-r1", False)])
async def test_old_thinking_is_left_out_for_r1(srv: Served, name: str, filtered: bool) -> None:
    # Ollama's filterThinkTags: only Qwen3-family models and those named deepseek-r1.
    assert (await srv.http.post("/api/create", json={"model": name, "from": TINY})).status_code == 200
    history = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>easy</think>\n\n4"},
        {"role": "user", "content": "3+3?"},
    ]
    await srv.http.post("/api/chat", json={"model": name, "messages": history, "stream": False})
    prompt = srv.engine.requests[-1].prompt
    assert ("<assistant>4</assistant>" in prompt) is filtered
    assert ("<think>easy</think>" in prompt) is not filtered
