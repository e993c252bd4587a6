"""Native chat answers as Responses: the response object and the stream's event sequence."""

from __future__ import annotations

import json
from typing import Any, get_args

import openai.types.responses as oa
from pydantic import BaseModel

from pollama.api.responses import ChatMessage, ChatResponse, Metrics
from pollama.api.types import ToolCall, ToolCallFunction
from pollama.openai.responses import parse_request
from pollama.openai.responses_out import Echo, StreamConverter, to_response

METRICS = Metrics(prompt_eval_count=12, eval_count=3)
# The SDK's own model of each event, by its type.
EVENT_MODELS: dict[str, type[BaseModel]] = {
    get_args(m.model_fields["type"].annotation)[0]: m for m in get_args(get_args(oa.ResponseStreamEvent)[0])
}


def check_event(name: str, data: dict[str, Any]) -> None:
    assert name == data["type"]
    EVENT_MODELS[name].model_validate(data)


def echo(**body: Any) -> Echo:
    return Echo(parse_request(json.dumps({"model": "m", "input": "x", **body}).encode()))


def chunk(content: str = "", thinking: str = "", calls: list[ToolCall] | None = None) -> ChatResponse:
    return ChatResponse("m", message=ChatMessage(content=content, thinking=thinking, tool_calls=calls or []))


def done(reason: str = "stop") -> ChatResponse:
    return ChatResponse("m", done=True, done_reason=reason, metrics=METRICS)


def weather_call() -> ToolCall:
    return ToolCall(id="call_1", function=ToolCallFunction(name="get_weather", arguments={"city": "Paris"}))


def run(conv: StreamConverter, chunks: list[ChatResponse]) -> list[dict[str, Any]]:
    events = conv.start()
    for c in chunks:
        events += conv.process(c)
    for name, data in events:
        check_event(name, data)
    return [data for _, data in events]


def test_text_answer_object_parses_as_the_sdks_response() -> None:
    e = echo(instructions="be brief", temperature=0.2)
    answer = ChatResponse.combine([chunk("Hello"), chunk(" there"), done()])
    body = to_response(e, answer)
    r = oa.Response.model_validate(body)
    assert r.id.startswith("resp_") and r.status == "completed" and r.output_text == "Hello there"
    assert r.instructions == "be brief" and r.temperature == 0.2 and r.tool_choice == "auto"
    assert r.usage is not None and (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (12, 3, 15)
    assert body["completed_at"] is not None and body["store"] is False


def test_thinking_and_calls_in_the_object() -> None:
    answer = ChatResponse.combine([chunk(thinking="hmm"), chunk(calls=[weather_call()]), done()])
    r = oa.Response.model_validate(to_response(echo(), answer))
    reasoning, call = r.output
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "hmm"
    assert call.type == "function_call" and (call.call_id, call.name) == ("call_1", "get_weather")
    assert json.loads(call.arguments) == {"city": "Paris"}


def test_length_is_an_incomplete_response() -> None:
    r = oa.Response.model_validate(
        to_response(echo(max_output_tokens=3), ChatResponse.combine([chunk("a"), done("length")]))
    )
    assert r.status == "incomplete" and r.incomplete_details is not None
    assert r.incomplete_details.reason == "max_output_tokens" and r.max_output_tokens == 3


def test_stream_of_text() -> None:
    events = run(StreamConverter(echo()), [chunk("Hel"), chunk("lo"), done()])
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(10))
    assert events[0]["response"]["status"] == "in_progress" and events[0]["response"]["usage"] is None
    assert events[6]["text"] == "Hello"
    item_ids = {e["item_id"] for e in events if "item_id" in e}
    assert len(item_ids) == 1 and item_ids == {events[2]["item"]["id"]}
    final = oa.Response.model_validate(events[-1]["response"])
    assert final.output_text == "Hello" and final.id == events[0]["response"]["id"]


def test_stream_of_thinking_then_text() -> None:
    events = run(
        StreamConverter(echo(reasoning={"effort": "low"})),
        [chunk(thinking="a"), chunk(thinking="b"), chunk("ok"), done()],
    )
    kinds = [e["type"] for e in events]
    assert kinds[2:9] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    assert events[6]["text"] == "ab"
    assert events[9]["output_index"] == 1  # the message follows the reasoning item
    final = events[-1]["response"]
    assert [i["type"] for i in final["output"]] == ["reasoning", "message"]
    assert final["reasoning"] == {"effort": "low", "summary": None}


def test_stream_of_a_call() -> None:
    events = run(StreamConverter(echo()), [chunk(calls=[weather_call()]), chunk("ignored"), done()])
    kinds = [e["type"] for e in events]
    assert kinds[2:] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[2]["item"]["status"] == "in_progress" and events[2]["item"]["arguments"] == ""
    assert json.loads(events[4]["arguments"]) == {"city": "Paris"} and events[4]["name"] == "get_weather"
    assert [i["type"] for i in events[-1]["response"]["output"]] == ["function_call"]


def test_failure_mid_stream_is_a_failed_response() -> None:
    conv = StreamConverter(echo())
    events = run(conv, [chunk("par")])
    name, data = conv.fail("model runner has unexpectedly stopped")
    check_event(name, data)
    assert name == "response.failed" and data["sequence_number"] == len(events)
    assert data["response"]["error"]["message"] == "model runner has unexpectedly stopped"


def test_stream_cut_by_max_output_tokens_ends_incomplete() -> None:
    events = run(StreamConverter(echo(max_output_tokens=2)), [chunk("a b"), done("length")])
    final = events[-1]
    assert final["type"] == "response.incomplete" and final["response"]["status"] == "incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["response"]["output"][0]["content"][0]["text"] == "a b"
