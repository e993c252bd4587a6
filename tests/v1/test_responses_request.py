"""The Responses API request translated to a native ``ChatRequest``: input forms, items, tools, options."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pollama.errors import BadRequest
from pollama.openai.responses import parse_request, to_chat_request


def translate(**body: Any) -> Any:
    return to_chat_request(parse_request(json.dumps({"model": "m", **body}).encode()))


def test_string_input_and_instructions_become_system_then_user() -> None:
    req = translate(input="hi", instructions="be brief")
    assert [(m.role, m.content) for m in req.messages] == [("system", "be brief"), ("user", "hi")]
    assert req.model == "m" and req.stream is False


def test_options_default_temperature_one_and_map_sampling_fields() -> None:
    assert translate(input="x").options == {"temperature": 1.0}
    req = translate(input="x", temperature=0, top_p=0.5, max_output_tokens=7, stream=True)
    assert req.options == {"temperature": 0, "top_p": 0.5, "num_predict": 7}
    assert req.stream is True


def test_message_items_with_content_parts() -> None:
    req = translate(
        input=[
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
            {"role": "user", "content": "plain"},
        ]
    )
    assert [(m.role, m.content) for m in req.messages] == [
        ("system", "rules"),
        ("user", "ab"),
        ("assistant", "ok"),
        ("user", "plain"),
    ]


def test_image_part_is_passed_on_as_base64() -> None:
    part = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}
    req = translate(input=[{"role": "user", "content": [{"type": "input_text", "text": "what"}, part]}])
    assert req.messages[0].images == ["iVBORw0KGgo="]
    with pytest.raises(BadRequest, match="base64 data URL"):
        translate(input=[{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}])


def test_function_call_and_output_become_an_assistant_call_and_a_named_tool_message() -> None:
    req = translate(
        input=[
            {"role": "user", "content": "weather?"},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "I should call it"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": '{"city":"Rome"}'},
            {"type": "function_call_output", "call_id": "call_1", "output": '{"t": 18}'},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "20"}]},
        ]
    )
    user, assistant, tool1, tool2 = req.messages
    assert (user.role, user.content) == ("user", "weather?")
    assert assistant.role == "assistant" and assistant.thinking == "I should call it"
    assert [(c.id, c.function.name, c.function.arguments) for c in assistant.tool_calls or []] == [
        ("call_1", "get_weather", {"city": "Paris"}),
        ("call_2", "get_weather", {"city": "Rome"}),
    ]
    assert (tool1.role, tool1.content, tool1.tool_call_id, tool1.tool_name) == (
        "tool",
        '{"t": 18}',
        "call_1",
        "get_weather",
    )
    assert (tool2.content, tool2.tool_name) == ("20", "get_weather")


def test_trailing_reasoning_becomes_an_assistant_thinking_turn() -> None:
    req = translate(
        input=[
            {"role": "user", "content": "q"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
        ]
    )
    assert (req.messages[-1].role, req.messages[-1].thinking) == ("assistant", "hm")


def test_flat_function_tools_become_native_tools() -> None:
    tool = {"type": "function", "name": "f", "description": "does f", "parameters": {"type": "object"}, "strict": True}
    assert translate(input="x", tools=[tool]).tools == [
        {"type": "function", "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}}}
    ]
    with pytest.raises(BadRequest, match='unsupported tool type "web_search_preview"'):
        translate(input="x", tools=[{"type": "web_search_preview"}])


@pytest.mark.parametrize(
    ("choice", "native"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
        ({"type": "allowed_tools", "mode": "required", "tools": []}, "required"),
        (None, None),
    ],
)
def test_tool_choice_in_openai_chat_form(choice: Any, native: Any) -> None:
    assert translate(input="x", tool_choice=choice).tool_choice == native


def test_text_format_and_reasoning_effort() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    req = translate(input="x", text={"format": {"type": "json_schema", "name": "a", "schema": schema}})
    assert req.format == schema
    assert translate(input="x", text={"format": {"type": "json_object"}}).format == "json"
    assert translate(input="x", text={"format": {"type": "text"}}).format is None
    assert translate(input="x", reasoning={"effort": "minimal"}).think == "low"
    assert translate(input="x", reasoning={"effort": "none"}).think is False
    assert translate(input="x", reasoning={"effort": "xhigh"}).think == "max"
    assert translate(input="x", reasoning={"summary": "auto"}).think is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": [{"type": "nope"}]}, 'input[0]: unknown input item type: "nope"'),
        ({"input": [{"content": "x"}]}, "input[0]: input item missing required 'type' field"),
        ({"input": [{"role": "robot", "content": "x"}]}, 'invalid role "robot"'),
        (
            {"input": [{"type": "function_call", "name": "f", "arguments": "{"}]},
            "failed to parse function call arguments",
        ),
        ({"input": 5}, "invalid value for 'input'"),
        ({"input": "x", "reasoning": {"effort": "huge"}}, 'invalid reasoning value: "huge"'),
        ({"input": "x", "tool_choice": "sometimes"}, 'invalid tool_choice "sometimes"'),
        ({"input": "x", "previous_response_id": "resp_1"}, "previous_response_id is not supported"),
        ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "file inputs"),
        ({"input": "x", "temperature": "hot"}, "invalid value for 'temperature'"),
    ],
)
def test_bad_requests_say_what_is_wrong(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("[", r"\[").replace("]", r"\]").replace("{", r"\{")):
        translate(**body)


def test_bad_bodies() -> None:
    for body, message in ((b"", "missing request body"), (b"{x", "invalid JSON"), (b"[]", "must be a JSON object")):
        with pytest.raises(BadRequest, match=message):
            parse_request(body)


def test_assistant_text_replayed_between_a_call_and_its_output_stays_in_the_call_turn() -> None:
    req = translate(
        input=[
            {"role": "user", "content": "weather?"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"role": "assistant", "content": "Checking."},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ]
    )
    assert [m.role for m in req.messages] == ["user", "assistant", "tool"]
    assert req.messages[1].content == "Checking." and req.messages[1].tool_calls
