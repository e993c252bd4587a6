"""The streaming converter: native chunks in, Anthropic's events out, in the order the SDK accumulates."""

from __future__ import annotations

import json
from typing import Any

from pollama.anthropic.stream import StreamConverter
from pollama.api.responses import ChatMessage, ChatResponse, Metrics
from pollama.api.types import ToolCall, ToolCallFunction


def chunk(content: str = "", thinking: str = "", call: str = "", done_reason: str = "") -> ChatResponse:
    calls = [ToolCall(id="call_x", function=ToolCallFunction(name=call, arguments={"city": "Paris"}))] if call else []
    metrics = Metrics(prompt_eval_count=12, eval_count=5) if done_reason else None
    message = ChatMessage(content=content, thinking=thinking, tool_calls=calls)
    return ChatResponse("m", message=message, done=bool(done_reason), done_reason=done_reason, metrics=metrics)


def run(*chunks: ChatResponse) -> list[tuple[str, dict[str, Any]]]:
    converter = StreamConverter("msg_1", "m", estimated_input_tokens=3)
    return [event for c in chunks for event in converter.process(c)]


def test_text_stream() -> None:
    events = run(chunk("Hel"), chunk("lo"), chunk(done_reason="stop"))
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
    start = events[0][1]["message"]
    assert (
        start["id"] == "msg_1" and start["content"] == [] and start["usage"] == {"input_tokens": 3, "output_tokens": 0}
    )
    assert events[2][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert [e["delta"] for _, e in events[3:5]] == [
        {"type": "text_delta", "text": "Hel"},
        {"type": "text_delta", "text": "lo"},
    ]
    assert events[6][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"input_tokens": 12, "output_tokens": 5},
    }


def test_thinking_then_text_then_tool_use_get_their_own_indexes() -> None:
    events = run(chunk(thinking="Hmm"), chunk("Let me check."), chunk(call="get_weather"), chunk(done_reason="stop"))
    blocks = [(e["index"], e["content_block"]["type"]) for name, e in events if name == "content_block_start"]
    assert blocks == [(0, "thinking"), (1, "text"), (2, "tool_use")]
    stops = [e["index"] for name, e in events if name == "content_block_stop"]
    assert stops == [0, 1, 2]
    deltas = [(e["index"], e["delta"]) for name, e in events if name == "content_block_delta"]
    assert deltas[0] == (0, {"type": "thinking_delta", "thinking": "Hmm"})
    assert deltas[1] == (1, {"type": "text_delta", "text": "Let me check."})
    index, delta = deltas[2]
    assert index == 2 and delta["type"] == "input_json_delta" and json.loads(delta["partial_json"]) == {"city": "Paris"}
    tool_block = next(e["content_block"] for name, e in events if name == "content_block_start" and e["index"] == 2)
    assert tool_block["id"].startswith("toolu_") and tool_block["name"] == "get_weather" and tool_block["input"] == {}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_an_empty_answer_still_starts_and_stops() -> None:
    events = run(chunk(done_reason="length"))
    assert [name for name, _ in events] == ["message_start", "ping", "message_delta", "message_stop"]
    assert events[2][1]["delta"]["stop_reason"] == "max_tokens"
