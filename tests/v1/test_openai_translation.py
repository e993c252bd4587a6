"""OpenAI bodies to native requests and back, without a server: messages and their parts, sampling defaults,
``response_format``, reasoning, ``tool_choice`` checks, completions, embeddings encodings."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from pollama.api.embed import EmbedResponse
from pollama.api.responses import ChatMessage, ChatResponse, GenerateResponse, Logprob, Metrics, TokenLogprob
from pollama.api.types import ToolCall, ToolCallFunction
from pollama.errors import BadRequest
from pollama.grammar import tool_call_grammar
from pollama.inference.output import ToolChoice
from pollama.openai.chat import completion_json as chat_json
from pollama.openai.chat import decode_chat, seeded
from pollama.openai.completions import CompletionChunks, decode_completion
from pollama.openai.embeddings import decode_embeddings, embeddings_json

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def chat(**body: Any) -> Any:
    return decode_chat({"model": "m", "messages": [{"role": "user", "content": "hi"}], **body})


def test_text_and_image_parts_make_one_message_with_the_image_payload() -> None:
    parts = [
        {"type": "text", "text": "What is"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "text", "text": "in this picture?"},
    ]
    (msg,) = chat(messages=[{"role": "user", "content": parts}]).request.messages
    assert (msg.role, msg.content, msg.images) == ("user", "What is\nin this picture?", [PNG])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://example.com/cat.png",
            "image URLs are not currently supported, please use base64 encoded data instead",
        ),
        ("data:image/gif;base64,R0lG", "invalid image input"),
        ("data:image/png;base64,!!!", "invalid image input"),
    ],
)
def test_images_other_than_base64_data_urls_are_refused(url: str, message: str) -> None:
    part = {"type": "image_url", "image_url": url}
    with pytest.raises(BadRequest, match=message):
        chat(messages=[{"role": "user", "content": [part]}])


def test_tool_history_arguments_are_decoded_and_results_get_the_tool_name() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call], "reasoning": "I need the tool."},
        {"role": "tool", "tool_call_id": "call_1", "content": "12 degrees"},
    ]
    system, _, assistant, tool = chat(messages=messages).request.messages
    assert system.role == "system"
    assert assistant.tool_calls == [
        ToolCall(id="call_1", function=ToolCallFunction(name="get_weather", arguments={"city": "Oslo"}))
    ]
    assert assistant.thinking == "I need the tool."
    assert (tool.tool_name, tool.tool_call_id, tool.content) == ("get_weather", "call_1", "12 degrees")


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([], r"\[\] is too short - 'messages'"),
        ([{"role": "user", "content": None}], "invalid message content type: <nil>"),
        (
            [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}],
            "invalid tool call arguments",
        ),
        ("hi", "invalid type for 'messages'"),
    ],
)
def test_bad_messages_are_400s(messages: Any, error: str) -> None:
    with pytest.raises(BadRequest, match=error):
        chat(messages=messages)


def test_sampling_defaults_are_openais_and_fields_map_to_options() -> None:
    assert chat().request.options == {"temperature": 1.0, "top_p": 1.0}
    opts = chat(
        max_tokens=5, max_completion_tokens=9, temperature=0, top_p=0.5, seed=3, stop="END", presence_penalty=0.5
    ).request.options
    assert opts == {
        "num_predict": 9,
        "temperature": 0.0,
        "top_p": 0.5,
        "seed": 3,
        "stop": ["END"],
        "presence_penalty": 0.5,
    }
    with pytest.raises(BadRequest, match="invalid type for 'stop' field: number"):
        chat(stop=["a", 1])
    with pytest.raises(BadRequest, match="invalid type for 'temperature'"):
        chat(temperature="hot")


def test_response_format_becomes_the_native_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert chat(response_format={"type": "json_object"}).request.format == "json"
    assert (
        chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}).request.format
        == schema
    )
    assert chat(response_format={"type": "text"}).request.format is None
    with pytest.raises(BadRequest, match="response_format"):
        chat(response_format={"type": "xml"})


@pytest.mark.parametrize(
    ("body", "think"),
    [
        ({}, None),
        ({"reasoning_effort": "none"}, False),
        ({"reasoning_effort": "minimal"}, "low"),
        ({"reasoning_effort": "high"}, "high"),
        ({"reasoning": {"effort": "xhigh"}}, "max"),
    ],
)
def test_reasoning_effort_maps_to_think(body: dict[str, Any], think: Any) -> None:
    assert chat(**body).request.think == think


def test_unknown_reasoning_effort_is_refused() -> None:
    with pytest.raises(BadRequest, match="invalid reasoning value"):
        chat(reasoning_effort="extreme")


def test_n_and_seeds_of_the_choices() -> None:
    call = chat(n=3, seed=10)
    assert call.n == 3
    assert [seeded(call.request, i).options["seed"] for i in range(3)] == [10, 11, 12]  # type: ignore[index]
    assert "seed" not in seeded(chat(n=2).request, 1).options  # type: ignore[operator]
    for n in (0, 17):
        with pytest.raises(BadRequest, match="'n'"):
            chat(n=n)


def test_tool_choice_is_checked_against_the_tools() -> None:
    assert ToolChoice.parse(None, None) == ToolChoice("auto")
    named = ToolChoice.parse({"type": "function", "function": {"name": "get_time"}}, [WEATHER, TIME])
    assert (named.mode, named.name, named.parallel) == ("required", "get_time", False)
    assert named.callable([WEATHER, TIME]) == [TIME]
    assert ToolChoice.parse("none", [WEATHER]).offered([WEATHER]) is None
    # A forced choice makes one call unless parallel calls are asked for explicitly; auto allows several.
    assert [ToolChoice.parse("required", [WEATHER], parallel=p).parallel for p in (None, True, False)] == [
        False,
        True,
        False,
    ]
    assert [ToolChoice.parse("auto", [WEATHER], parallel=p).parallel for p in (None, True, False)] == [
        True,
        True,
        False,
    ]
    with pytest.raises(BadRequest, match="not among the tools"):
        ToolChoice.parse({"type": "function", "function": {"name": "launch"}}, [WEATHER])
    with pytest.raises(BadRequest, match="requires tools"):
        ToolChoice.parse("required", None)
    with pytest.raises(BadRequest, match="invalid tool_choice"):
        ToolChoice.parse("always", [WEATHER])


def test_single_call_grammar_ends_at_the_call() -> None:
    many = tool_call_grammar([WEATHER], tag="<tool_call>").gbnf.splitlines()[0]
    one = tool_call_grammar([WEATHER], tag="<tool_call>", single=True).gbnf.splitlines()[0]
    assert ")*" in many
    assert one == 'root ::= "<tool_call>" space call space "</tool_call>" | call'


def test_chat_answer_shape_with_tool_calls_and_logprobs() -> None:
    call = chat(logprobs=True, top_logprobs=1, parallel_tool_calls=False)
    calls = [ToolCall(id=f"call_{i}", function=ToolCallFunction(name="f", arguments={"x": i})) for i in range(2)]
    lp = Logprob(TokenLogprob("hi", -0.5, (104, 105)), (TokenLogprob("hi", -0.5, (104, 105)),))
    answer = ChatResponse(
        "m",
        message=ChatMessage(content="", tool_calls=calls),
        done=True,
        done_reason="stop",
        metrics=Metrics(prompt_eval_count=7, eval_count=3),
        logprobs=[lp],
    )
    body = chat_json("chatcmpl-1", 5, "m", [answer], call)
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [
        {"id": "call_0", "index": 0, "type": "function", "function": {"name": "f", "arguments": '{"x": 0}'}}
    ]
    assert choice["logprobs"]["content"][0]["top_logprobs"] == [{"token": "hi", "logprob": -0.5, "bytes": [104, 105]}]
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert body["system_fingerprint"] == "fp_ollama"


def test_completion_prompts_times_n_and_echo_in_the_stream() -> None:
    call = decode_completion({"model": "m", "prompt": ["a", "b"], "n": 2, "seed": 1, "echo": True})
    assert call.prompts == ["a", "a", "b", "b"]
    assert [r.options["seed"] for r in call.requests] == [1, 2, 1, 2]  # type: ignore[index]

    writer = CompletionChunks("cmpl-1", 1, "m", call)
    (first,) = writer.chunks(2, GenerateResponse("m", response="!"))
    assert first["choices"][0]["text"] == "b!"
    with pytest.raises(BadRequest, match="token arrays"):
        decode_completion({"model": "m", "prompt": [1, 2, 3]})


def test_embeddings_inputs_and_encodings() -> None:
    req, encoding = decode_embeddings({"model": "m", "input": ["a", "b"], "encoding_format": "BASE64", "dimensions": 2})
    assert (req.input, req.dimensions, encoding) == (["a", "b"], 2, "base64")
    for bad in (None, [], 3):
        with pytest.raises(BadRequest, match="invalid input"):
            decode_embeddings({"model": "m", "input": bad})
    # Token arrays are the model's own ids, one input per array.
    assert decode_embeddings({"model": "m", "input": [[1, 2], [3]]})[0].tokens == [[1, 2], [3]]
    assert decode_embeddings({"model": "m", "input": [5, 6]})[0].tokens == [[5, 6]]
    for bad in ([[1], "a"], [[]], [True, 2]):
        with pytest.raises(BadRequest, match="invalid input"):
            decode_embeddings({"model": "m", "input": bad})
    with pytest.raises(BadRequest, match=r"Supported values: \['float', 'base64'\]"):
        decode_embeddings({"model": "m", "input": "a", "encoding_format": "int8"})
    vectors = np.array([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    body = embeddings_json(EmbedResponse("m", vectors, prompt_eval_count=4), "base64")
    decoded = [np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in body["data"]]
    assert np.array_equal(np.array(decoded), vectors)
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    floats = embeddings_json(EmbedResponse("m", vectors), "float")
    assert [d["index"] for d in floats["data"]] == [0, 1]
    assert floats["data"][0]["embedding"] == pytest.approx([0.6, 0.8])
