"""Anthropic Messages requests into native chat requests, and native answers into Anthropic message objects:
the pure translation, no model."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pollama.anthropic.errors import error_body
from pollama.anthropic.translate import stop_reason, to_chat_request, to_message
from pollama.anthropic.wire import CountTokensRequest, MessagesRequest, decode
from pollama.api.responses import ChatMessage, ChatResponse, Metrics
from pollama.api.types import ToolCall, ToolCallFunction
from pollama.errors import BadRequest

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def request(**fields: Any) -> MessagesRequest:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}], **fields}
    return MessagesRequest.model_validate(body)


def test_sampling_fields_become_options() -> None:
    req = request(temperature=0, top_p=0.5, top_k=7, stop_sequences=["END"], stream=True)
    native = to_chat_request(req)
    assert native.options == {"num_predict": 10, "temperature": 0, "top_p": 0.5, "top_k": 7, "stop": ["END"]}
    assert native.stream is True and native.model == "m"


def test_system_string_and_text_blocks_lead_the_conversation() -> None:
    as_string = to_chat_request(request(system="Be brief."))
    as_blocks = to_chat_request(request(system=[{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}]))
    for native in (as_string, as_blocks):
        assert [(m.role, m.content) for m in native.messages or []] == [("system", "Be brief."), ("user", "Hi")]


def test_blocks_become_native_messages() -> None:
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is this? "}, image_block(), {"type": "text", "text": "Look."}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "It needs the tool.", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "Sunny"}]},
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]
    native = to_chat_request(request(messages=messages)).messages or []
    assert [m.role for m in native] == ["user", "assistant", "tool", "user"]
    user, assistant, tool, follow_up = native
    assert user.content == "What is this? Look." and user.images == [PNG]
    assert assistant.content == "Checking." and assistant.thinking == "It needs the tool."
    assert assistant.tool_calls == [
        ToolCall(id="toolu_1", function=ToolCallFunction(name="get_weather", arguments={"city": "Paris"}))
    ]
    # The result comes before the user's own words, and is named after the call it answers.
    assert (tool.content, tool.tool_call_id, tool.tool_name) == ("Sunny", "toolu_1", "get_weather")
    assert follow_up.content == "And tomorrow?"


def test_tool_result_as_a_string() -> None:
    messages = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "42"}]}]
    (tool,) = to_chat_request(request(messages=messages)).messages or []
    assert (tool.role, tool.content, tool.tool_call_id) == ("tool", "42", "t")


def image_block(kind: str = "base64", data: str = PNG) -> dict[str, Any]:
    return {"type": "image", "source": {"type": kind, "media_type": "image/png", "data": data}}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (image_block("url"), "invalid image source type: url. Only base64 images are supported."),
        (image_block(data="not base64!"), "invalid base64 image data"),
        ({"type": "tool_use", "name": "f", "input": {}}, "tool_use block missing required 'id' field"),
    ],
)
def test_bad_blocks_are_refused(block: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        to_chat_request(request(messages=[{"role": "user", "content": [block]}]))


def test_tools_become_native_functions() -> None:
    tool = {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {}}}
    native = to_chat_request(request(tools=[tool]))
    assert native.tools == [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather", "parameters": tool["input_schema"]},
        }
    ]
    with pytest.raises(BadRequest, match="not supported"):
        to_chat_request(request(tools=[{"type": "web_search_20250305", "name": "web_search"}]))


@pytest.mark.parametrize(
    ("choice", "native"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_in_openai_form(choice: dict[str, Any], native: Any) -> None:
    assert to_chat_request(request(tool_choice=choice)).tool_choice == native


@pytest.mark.parametrize(
    ("fields", "think"),
    [
        ({}, None),
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, True),
        ({"thinking": {"type": "disabled"}}, False),
        ({"output_config": {"effort": "xhigh"}}, "high"),
        ({"thinking": {"type": "disabled"}, "output_config": {"effort": "low"}}, False),
    ],
)
def test_thinking_becomes_think(fields: dict[str, Any], think: Any) -> None:
    assert to_chat_request(request(**fields)).think == think


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": ""}, "model is required"),
        ({"max_tokens": 0}, "max_tokens is required and must be positive"),
        ({"max_tokens": None}, "max_tokens is required and must be positive"),
        ({"messages": []}, "messages is required"),
    ],
)
def test_ollama_checks(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        to_chat_request(request(**fields))


def test_count_tokens_needs_no_max_tokens() -> None:
    req = CountTokensRequest.model_validate({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
    native = to_chat_request(req)
    assert native.options == {} and native.stream is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "request body is empty"),
        (b"{nope", "invalid JSON in request body"),
        (b"[1]", "request body must be a JSON object"),
        (b'{"max_tokens": "5"}', "max_tokens: Input should be a valid integer"),
        (
            b'{"messages": [{"role": "robot", "content": "x"}]}',
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (b'{"messages": [{"role": "user", "content": 5}]}', "messages.0.content: "),
        (b'{"temperature": "hot"}', "temperature: Input should be a valid number"),
    ],
)
def test_bad_bodies_say_where(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        decode(body, MessagesRequest)
    assert info.value.message.startswith(message), info.value.message


def test_unknown_fields_are_ignored() -> None:
    req = decode(b'{"model": "m", "cache_control": {"type": "ephemeral"}, "max_tokens": 1}', MessagesRequest)
    assert req.model == "m"


def native(content: str = "", thinking: str = "", calls: int = 0, done_reason: str = "stop") -> ChatResponse:
    tool_calls = [
        ToolCall(id=f"call_{i}", function=ToolCallFunction(name="f", arguments={"i": i})) for i in range(calls)
    ]
    message = ChatMessage(content=content, thinking=thinking, tool_calls=tool_calls)
    return ChatResponse(
        "m", message=message, done=True, done_reason=done_reason, metrics=Metrics(prompt_eval_count=9, eval_count=4)
    )


def test_message_object() -> None:
    out = to_message("msg_1", native("Hello", thinking="Hmm", calls=1))
    assert out["id"] == "msg_1" and out["type"] == "message" and out["role"] == "assistant" and out["model"] == "m"
    thinking, text, tool_use = out["content"]
    assert thinking == {"type": "thinking", "thinking": "Hmm", "signature": ""}
    assert text == {"type": "text", "text": "Hello"}
    assert tool_use["type"] == "tool_use" and tool_use["id"].startswith("toolu_") and len(tool_use["id"]) == 30
    assert (tool_use["name"], tool_use["input"]) == ("f", {"i": 0})
    assert out["stop_reason"] == "tool_use" and out["stop_sequence"] is None
    assert out["usage"] == {"input_tokens": 9, "output_tokens": 4}


def test_empty_answer_has_no_blocks() -> None:
    assert to_message("msg_1", native())["content"] == []


@pytest.mark.parametrize(
    ("done_reason", "tool_use", "expected"),
    [("stop", False, "end_turn"), ("length", False, "max_tokens"), ("length", True, "tool_use"), ("", False, None)],
)
def test_stop_reasons(done_reason: str, tool_use: bool, expected: str | None) -> None:
    assert stop_reason(done_reason, tool_use) == expected


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (404, "not_found_error"),
        (503, "overloaded_error"),
        (500, "api_error"),
    ],
)
def test_error_body(status: int, kind: str) -> None:
    body = error_body(status, "boom")
    assert body["type"] == "error" and body["error"] == {"type": kind, "message": "boom"}
    assert body["request_id"].startswith("req_") and len(body["request_id"]) == 28
