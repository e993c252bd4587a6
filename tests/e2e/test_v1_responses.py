"""``POST /v1/responses`` through the official ``openai`` SDK against a live server on the built-in instruct model:
a plain answer (streamed and not), a function call with ``tool_choice``, the ``function_call_output`` round trip,
a ``json_schema`` answer that validates, and errors in OpenAI's shape."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from e2e_helpers import Server

QWEN = "qwen2.5-coder:0.5b"

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The name of the city"}},
        "required": ["city"],
    },
}
QUESTION = "What is the weather in Paris right now?"

CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 30}, "country": {"type": "string", "maxLength": 30}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


THINKER = "qwen-thinks-v1"
# The instruct model behind a template that opens a thinking block, as in test_instruct.py.
THINKING_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}"
    "{{- if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n{{ if .Think }}<think>\n{{ end }}"
)


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    own = start_server()
    yield own
    httpx.request("DELETE", f"{own.url}/api/delete", json={"model": THINKER})
    own.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="ollama", timeout=300, max_retries=0)


def test_plain_answer(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model=QWEN,
        instructions="Answer in one short sentence.",
        input="What is the capital of France?",
        temperature=0,
        max_output_tokens=40,
    )
    assert r.object == "response" and r.id.startswith("resp_")
    assert r.status == "completed" and r.model == QWEN and r.instructions == "Answer in one short sentence."
    assert [item.type for item in r.output] == ["message"]
    assert "Paris" in r.output_text
    assert r.usage is not None and r.usage.input_tokens > 10 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_plain_answer_streamed(client: openai.OpenAI) -> None:
    stream = client.responses.create(
        model=QWEN, input="What is the capital of France?", temperature=0, max_output_tokens=40, stream=True
    )
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert kinds.count("response.output_text.delta") > 1 and "Paris" in deltas
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == deltas
    assert completed.response.usage is not None and completed.response.usage.output_tokens > 0


def test_max_output_tokens_makes_an_incomplete_response(client: openai.OpenAI) -> None:
    r = client.responses.create(model=QWEN, input="Write a long poem about the sea.", max_output_tokens=5)
    assert r.status == "incomplete"
    assert r.incomplete_details is not None and r.incomplete_details.reason == "max_output_tokens"
    assert r.usage is not None and r.usage.output_tokens == 5


def _weather_call(**extra: Any) -> Any:
    return dict(model=QWEN, input=QUESTION, tools=[WEATHER_TOOL], temperature=0, max_output_tokens=64, **extra)


def test_function_call_with_tool_choice(client: openai.OpenAI) -> None:
    r = client.responses.create(**_weather_call(tool_choice={"type": "function", "name": "get_weather"}))
    calls = [item for item in r.output if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert calls[0].call_id.startswith("call_") and calls[0].status == "completed"
    assert r.tool_choice is not None and r.tools[0].name == "get_weather"


def test_function_call_streamed_through_the_sdks_stream_helper(client: openai.OpenAI) -> None:
    # responses.stream() rebuilds the response from the events and checks their identities and order.
    with client.responses.stream(**_weather_call(tool_choice="required")) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert "response.output_text.delta" not in kinds
    assert kinds[2:6] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"city": "Paris"}
    assert kinds[-1] == "response.completed"
    assert [(i.type, getattr(i, "name", None)) for i in final.output] == [("function_call", "get_weather")]


def test_function_call_output_round_trip(client: openai.OpenAI) -> None:
    question: Any = {"role": "user", "content": "Is it warm in Paris today?"}
    first = client.responses.create(
        model=QWEN,
        input=[question],
        tools=[WEATHER_TOOL],
        temperature=0,
        max_output_tokens=64,
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather"]
    result = {"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temperature": 18}'}
    final = client.responses.create(
        model=QWEN,
        input=[question, *[c.model_dump() for c in calls], result],
        tools=[WEATHER_TOOL],
        temperature=0,
        max_output_tokens=64,
    )
    assert final.status == "completed"
    assert not [item for item in final.output if item.type == "function_call"]
    assert "18" in final.output_text


def test_json_schema_answer_validates(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model=QWEN,
        input="Name the capital city of Japan and its country as JSON.",
        text={"format": {"type": "json_schema", "name": "city", "schema": CITY_SCHEMA, "strict": True}},
        temperature=0,
        max_output_tokens=60,
    )
    answer = json.loads(r.output_text)
    jsonschema.validate(answer, CITY_SCHEMA)
    assert answer["city"] == "Tokyo"
    assert r.text is not None and r.text.format is not None and r.text.format.type == "json_schema"


def test_reasoning_streams_as_summary_events(client: openai.OpenAI, server: Server) -> None:
    created = httpx.post(
        f"{server.url}/api/create", json={"model": THINKER, "from": QWEN, "template": THINKING_TEMPLATE}
    )
    assert created.status_code == 200, created.text
    with client.responses.stream(
        model=THINKER, input="What is 2 + 3?", reasoning={"effort": "low"}, temperature=0, max_output_tokens=24
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[2:5] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
    ]
    thought = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    reasoning = final.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == thought != ""
    assert "<think>" not in thought and "</think>" not in thought and "</think>" not in final.output_text


def test_reasoning_on_a_model_that_does_not_think_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=QWEN, input="hi", reasoning={"effort": "high"})
    assert "does not support thinking" in str(info.value)


def test_unknown_model_is_a_404_in_openai_shape(client: openai.OpenAI, server: Server) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.create(model="no-such-model", input="hi")
    assert info.value.status_code == 404
    raw = httpx.post(f"{server.url}/v1/responses", json={"model": "no-such-model", "input": "hi", "stream": True})
    assert raw.status_code == 404
    error = raw.json()["error"]
    assert error["type"] == "not_found_error" and "no-such-model" in error["message"]
    assert error["param"] is None and error["code"] is None


def test_bad_input_is_a_400_in_openai_shape(client: openai.OpenAI, server: Server) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=QWEN, input=[{"type": "telepathy"}])
    assert "unknown input item type" in str(info.value)
    raw = httpx.post(f"{server.url}/v1/responses", content=b"{not json")
    assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"
