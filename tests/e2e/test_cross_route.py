"""One tool conversation through every API pollama speaks: the native ``/api/chat``, OpenAI's chat completions and
Responses, and Anthropic's Messages, with their official clients. Each API translates to the same native chat, so
the same model at temperature 0 must make the same call, and use the tool's result the same way."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import ollama
import openai
import pytest
from e2e_helpers import Server

QWEN = "qwen2.5-coder:0.5b"
QUESTION = "What is the weather in Paris right now?"
PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The name of the city"}},
    "required": ["city"],
}
DESCRIPTION = "Get the current weather in a city"
RESULT = '{"temperature": 18, "unit": "celsius"}'


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    own = start_server()
    yield own
    own.stop()


def native(server: Server) -> tuple[str, dict[str, Any], str]:
    client = ollama.Client(host=server.url, timeout=300)
    tool = {"type": "function", "function": {"name": "get_weather", "description": DESCRIPTION, "parameters": PARAMS}}
    first = client.chat(QWEN, [{"role": "user", "content": QUESTION}], tools=[tool], options={"temperature": 0})
    (call,) = first.message.tool_calls or []
    messages = [
        {"role": "user", "content": QUESTION},
        first.message,
        {"role": "tool", "content": RESULT, "tool_name": "get_weather"},
    ]
    final = client.chat(QWEN, messages, tools=[tool], options={"temperature": 0, "num_predict": 64})
    return call.function.name, dict(call.function.arguments), final.message.content


def chat_completions(server: Server) -> tuple[str, dict[str, Any], str]:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", timeout=300)
    tool = {"type": "function", "function": {"name": "get_weather", "description": DESCRIPTION, "parameters": PARAMS}}
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    first = client.chat.completions.create(model=QWEN, messages=messages, tools=[tool], temperature=0)
    (call,) = first.choices[0].message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls"
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": RESULT},
    ]
    final = client.chat.completions.create(model=QWEN, messages=messages, tools=[tool], temperature=0, max_tokens=64)
    fn = call.function
    return fn.name, json.loads(fn.arguments), final.choices[0].message.content or ""


def responses(server: Server) -> tuple[str, dict[str, Any], str]:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", timeout=300)
    tool = {"type": "function", "name": "get_weather", "description": DESCRIPTION, "parameters": PARAMS}
    first = client.responses.create(model=QWEN, input=QUESTION, tools=[tool], temperature=0)
    (call,) = [item for item in first.output if item.type == "function_call"]
    items: list[Any] = [
        {"role": "user", "content": QUESTION},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": RESULT},
    ]
    final = client.responses.create(model=QWEN, input=items, tools=[tool], temperature=0, max_output_tokens=64)
    return call.name, json.loads(call.arguments), final.output_text


def messages(server: Server) -> tuple[str, dict[str, Any], str]:
    client = anthropic.Anthropic(base_url=server.url, api_key="unused", timeout=300)
    tool = {"name": "get_weather", "description": DESCRIPTION, "input_schema": PARAMS}
    history: list[Any] = [{"role": "user", "content": QUESTION}]
    first = client.messages.create(
        model=QWEN, max_tokens=256, messages=history, tools=[tool], extra_body={"temperature": 0}
    )
    (use,) = [block for block in first.content if block.type == "tool_use"]
    assert first.stop_reason == "tool_use"
    history += [
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": RESULT}]},
    ]
    final = client.messages.create(
        model=QWEN, max_tokens=64, messages=history, tools=[tool], extra_body={"temperature": 0}
    )
    text = "".join(block.text for block in final.content if block.type == "text")
    return use.name, dict(use.input), text


def test_the_same_call_and_answer_through_every_api(server: Server) -> None:
    results = {f.__name__: f(server) for f in (native, chat_completions, responses, messages)}
    for name, (tool, args, answer) in results.items():
        assert (tool, args) == ("get_weather", {"city": "Paris"}), name
        assert "18" in answer, (name, answer)
    # Same model, same greedy sampling, same rendered conversation: the same final answer everywhere.
    assert len({answer for _, _, answer in results.values()}) == 1, results
