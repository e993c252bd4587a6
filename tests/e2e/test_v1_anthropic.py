"""Anthropic's Messages API through the official ``anthropic`` SDK against a live server on the built-in
instruct model: a plain message, streaming (the SDK's helper and the raw events), a tool round trip, a system
prompt, stop sequences, token counting, and errors in Anthropic's shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import pytest
from e2e_helpers import Server

QWEN = "qwen2.5-coder:0.5b"
# The SDK no longer takes sampling parameters as arguments (current Claude models refuse them); the API still
# defines them, so they go in the body.
GREEDY: dict[str, Any] = {"temperature": 0}

WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The name of the city"}},
        "required": ["city"],
    },
}
WEATHER_QUESTION: Any = {"role": "user", "content": "What is the weather in Paris right now?"}


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    own = start_server()
    yield own
    own.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> anthropic.Anthropic:
    # The key and version headers the SDK sends are accepted and ignored.
    return anthropic.Anthropic(base_url=server.url, api_key="unused", timeout=300, max_retries=0)


def test_plain_message(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model=QWEN, max_tokens=64, extra_body=GREEDY, messages=[{"role": "user", "content": "Say hi in 5 words."}]
    )
    assert msg.id.startswith("msg_") and msg.type == "message" and msg.role == "assistant" and msg.model == QWEN
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].type == "text" and msg.content[0].text.strip()
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.input_tokens > 5 and 0 < msg.usage.output_tokens <= 64


def test_max_tokens_stops_the_answer(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model=QWEN, max_tokens=3, extra_body=GREEDY, messages=[{"role": "user", "content": "Why is the sky blue?"}]
    )
    assert msg.stop_reason == "max_tokens" and msg.usage.output_tokens == 3


def test_stream_helper_gives_the_same_answer(client: anthropic.Anthropic) -> None:
    kwargs: dict[str, Any] = {
        "model": QWEN,
        "max_tokens": 20,
        "extra_body": GREEDY,
        "messages": [{"role": "user", "content": "Name three colours."}],
    }
    whole = client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(texts) > 1
    assert "".join(texts) == final.content[0].text == whole.content[0].text  # type: ignore[union-attr]
    assert final.stop_reason == whole.stop_reason
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.usage.input_tokens == whole.usage.input_tokens  # the count, not message_start's estimate


def test_raw_stream_events_in_anthropic_order(client: anthropic.Anthropic) -> None:
    events = list(
        client.messages.create(
            model=QWEN,
            max_tokens=20,
            extra_body=GREEDY,
            stream=True,
            messages=[{"role": "user", "content": "Count from one to three."}],
        )
    )
    kinds = [e.type for e in events]
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    start = events[0]
    assert start.type == "message_start" and start.message.id.startswith("msg_") and start.message.content == []
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert all(d.type == "text_delta" for d in deltas)
    end = events[-2]
    assert end.type == "message_delta" and end.delta.stop_reason in ("end_turn", "max_tokens")
    assert end.usage.output_tokens > 0


def test_raw_sse_frames_name_their_events_and_ping(server: Server) -> None:
    body = {"model": QWEN, "max_tokens": 5, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    with httpx.stream("POST", f"{server.url}/v1/messages", json=body, timeout=300) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        names = [line.removeprefix("event: ") for line in r.iter_lines() if line.startswith("event: ")]
    assert names[:2] == ["message_start", "ping"] and names[-1] == "message_stop"


def test_tool_round_trip(client: anthropic.Anthropic) -> None:
    tools: Any = [WEATHER_TOOL]
    question: Any = {"role": "user", "content": "Is it warm in Paris today?"}
    first = client.messages.create(
        model=QWEN, max_tokens=64, extra_body=GREEDY, tools=tools, tool_choice={"type": "any"}, messages=[question]
    )
    assert first.stop_reason == "tool_use"
    (call,) = [b for b in first.content if b.type == "tool_use"]
    assert call.type == "tool_use" and call.id.startswith("toolu_")
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    result: Any = {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": call.id,
                "content": [{"type": "text", "text": '{"temperature": 18, "unit": "celsius"}'}],
            }
        ],
    }
    second = client.messages.create(
        model=QWEN,
        max_tokens=64,
        extra_body=GREEDY,
        tools=tools,
        messages=[question, {"role": "assistant", "content": first.content}, result],
    )
    # The tool's answer is used and the turn ends with text (this 0.5B model first echoes its call as a bare
    # object, which after a tool result is text, as natively).
    text = "".join(b.text for b in second.content if b.type == "text")
    assert second.stop_reason == "end_turn", text
    assert not [b for b in second.content if b.type == "tool_use"]
    assert "18" in text, text


def test_tool_call_streamed_as_input_json(client: anthropic.Anthropic) -> None:
    tools: Any = [WEATHER_TOOL]
    with client.messages.stream(
        model=QWEN, max_tokens=100, extra_body=GREEDY, tools=tools, messages=[WEATHER_QUESTION]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert any(e.type == "input_json" for e in events)
    (call,) = [b for b in final.content if b.type == "tool_use"]
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"


def test_system_prompt_as_string_and_blocks(client: anthropic.Anthropic) -> None:
    system = "You are a pirate. Always answer with the single word: Arrr"
    question: Any = [{"role": "user", "content": "Hello, who are you?"}]
    plain = client.messages.create(model=QWEN, max_tokens=8, extra_body=GREEDY, messages=question)
    as_string = client.messages.create(model=QWEN, max_tokens=8, extra_body=GREEDY, system=system, messages=question)
    as_blocks = client.messages.create(
        model=QWEN, max_tokens=8, extra_body=GREEDY, system=[{"type": "text", "text": system}], messages=question
    )
    assert "arr" in as_string.content[0].text.lower()  # type: ignore[union-attr]
    assert "arr" not in plain.content[0].text.lower()  # type: ignore[union-attr]
    assert as_blocks.content == as_string.content


def test_stop_sequences_cut_the_answer(client: anthropic.Anthropic) -> None:
    question: Any = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    stops = ["never here", "5"]
    cut = client.messages.create(model=QWEN, max_tokens=40, extra_body=GREEDY, stop_sequences=stops, messages=question)
    text = cut.content[0].text  # type: ignore[union-attr]
    # Without the stop sequence the model counts on to 10 (the answer starts "1, 2, 3, 4, 5, ...").
    assert "4" in text and "5" not in text, text
    # As Anthropic reports it (Ollama says end_turn): which sequence matched.
    assert (cut.stop_reason, cut.stop_sequence) == ("stop_sequence", "5") and cut.usage.output_tokens < 40
    with client.messages.stream(
        model=QWEN, max_tokens=40, extra_body=GREEDY, stop_sequences=stops, messages=question
    ) as stream:
        final = stream.get_final_message()
    assert (final.stop_reason, final.stop_sequence) == ("stop_sequence", "5")
    ended = client.messages.create(model=QWEN, max_tokens=40, extra_body=GREEDY, messages=question)
    assert (ended.stop_reason, ended.stop_sequence) == ("end_turn", None)


def test_count_tokens_matches_the_prompt_evaluated(client: anthropic.Anthropic) -> None:
    question: Any = [{"role": "user", "content": "What is the capital of France?"}]
    counted = client.messages.count_tokens(model=QWEN, system="Be brief.", messages=question)
    msg = client.messages.create(model=QWEN, max_tokens=5, extra_body=GREEDY, system="Be brief.", messages=question)
    assert counted.input_tokens == msg.usage.input_tokens
    with_tool = client.messages.count_tokens(model=QWEN, system="Be brief.", messages=question, tools=[WEATHER_TOOL])
    assert with_tool.input_tokens > counted.input_tokens + 20


def test_unknown_model_is_a_not_found_error(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    body: Any = info.value.body
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert body["error"]["message"] == "model 'no-such-model' not found"
    assert body["request_id"].startswith("req_")


def test_bad_bodies_are_invalid_request_errors(server: Server) -> None:
    url = f"{server.url}/v1/messages"
    headers = {"x-api-key": "anything", "anthropic-version": "2023-06-01"}
    cases: list[tuple[Any, str]] = [
        (
            {"model": QWEN, "messages": [{"role": "user", "content": "Hi"}]},
            "max_tokens is required and must be positive",
        ),
        ({"model": QWEN, "max_tokens": 5, "messages": []}, "messages is required"),
        ({"model": QWEN, "max_tokens": "5", "messages": [{"role": "user", "content": "Hi"}]}, "max_tokens: "),
        ({"model": QWEN, "max_tokens": 5, "messages": [{"role": "robot", "content": "Hi"}]}, "messages.0.role: "),
    ]
    for body, message in cases:
        r = httpx.post(url, json=body, headers=headers, timeout=60)
        assert r.status_code == 400, r.text
        err = r.json()
        assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error"
        assert err["error"]["message"].startswith(message), err
    r = httpx.post(url, content=b"{not json", headers=headers, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
