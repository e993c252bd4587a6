"""OpenAI's API through the official ``openai`` SDK against a live server on the built-in models: chat
completions streamed and not, a tool round trip forced with ``tool_choice``, a ``json_schema`` answer, ``n``
choices, completions with a suffix, embeddings in both encodings, the model list, and errors in OpenAI's shape."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import numpy as np
import openai
import pytest
from e2e_helpers import Server

QWEN = "qwen2.5-coder:0.5b"
MINILM = "all-minilm"

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The name of the city"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL: Any = {
    "type": "function",
    "function": {"name": "get_time", "description": "Get the current time", "parameters": {"type": "object"}},
}
CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 30}, "country": {"type": "string", "maxLength": 30}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    own = start_server()
    yield own
    own.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="ollama", timeout=300, max_retries=0)


def test_chat_not_streamed(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model=QWEN, messages=[{"role": "user", "content": "Say hello."}], temperature=0, max_tokens=16
    )
    (choice,) = r.choices
    assert r.object == "chat.completion" and r.system_fingerprint == "fp_ollama"
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert r.usage is not None and r.usage.prompt_tokens > 0 and 0 < r.usage.completion_tokens <= 16


def test_chat_streamed_with_usage_matches_the_unstreamed_answer(client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "Count from 1 to 5."}]
    whole = client.chat.completions.create(model=QWEN, messages=messages, temperature=0, max_tokens=24)
    chunks = list(
        client.chat.completions.create(
            model=QWEN,
            messages=messages,
            temperature=0,
            max_tokens=24,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]


def test_forced_tool_call_round_trip(client: openai.OpenAI) -> None:
    # A question the model would answer itself; a named tool_choice makes it call the tool anyway.
    messages: list[Any] = [{"role": "user", "content": "Write a haiku about Lyon."}]
    tools = [WEATHER_TOOL, TIME_TOOL]
    forced = {"type": "function", "function": {"name": "get_weather"}}
    first = client.chat.completions.create(
        model=QWEN, messages=messages, tools=tools, tool_choice=forced, temperature=0, max_tokens=64
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_TOOL["function"]["parameters"])
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 18, "sky": "clear"}'},
    ]
    final = client.chat.completions.create(
        model=QWEN, messages=messages, tools=tools, tool_choice="none", temperature=0, max_tokens=64
    )
    assert final.choices[0].finish_reason in ("stop", "length")
    assert not final.choices[0].message.tool_calls and final.choices[0].message.content


def test_required_tool_call_streamed_has_id_and_index(client: openai.OpenAI) -> None:
    calls = []
    for chunk in client.chat.completions.create(
        model=QWEN,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
        temperature=0,
        max_tokens=64,
        stream=True,
    ):
        for choice in chunk.choices:
            calls += choice.delta.tool_calls or []
            last_reason = choice.finish_reason
    assert [(c.index, c.function.name) for c in calls] == [(0, "get_weather")]  # type: ignore[union-attr]
    assert calls[0].id and json.loads(calls[0].function.arguments or "")["city"]  # type: ignore[union-attr]
    assert last_reason == "tool_calls"


def test_json_schema_answer_validates(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model=QWEN,
        messages=[{"role": "user", "content": "Name a famous city and its country."}],
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": CITY_SCHEMA}},
        temperature=0,
        max_tokens=64,
    )
    jsonschema.validate(json.loads(r.choices[0].message.content or ""), CITY_SCHEMA)


def test_n_gives_that_many_choices(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model=QWEN,
        messages=[{"role": "user", "content": "Invent a name for a cat."}],
        n=3,
        seed=7,
        temperature=1.5,
        max_tokens=12,
    )
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert all(c.message.content for c in r.choices)
    # Each choice has its own seed, so at temperature 1.5 they are not all the same text.
    assert len({c.message.content for c in r.choices}) > 1
    assert r.usage is not None and r.usage.completion_tokens > 12


def test_completion_with_suffix(client: openai.OpenAI) -> None:
    r = client.completions.create(
        model=QWEN, prompt="def add(a, b):\n    ", suffix="\n    return result\n", temperature=0, max_tokens=24
    )
    text = r.choices[0].text
    assert r.object == "text_completion" and "result" in text and "a" in text and "b" in text
    streamed = "".join(
        c.choices[0].text
        for c in client.completions.create(
            model=QWEN,
            prompt="def add(a, b):\n    ",
            suffix="\n    return result\n",
            temperature=0,
            max_tokens=24,
            stream=True,
        )
        if c.choices
    )
    assert streamed == text


def test_embeddings_float_and_base64(client: openai.OpenAI) -> None:
    texts = ["The cat sits on the mat.", "A feline rests on a rug.", "Stock markets fell today."]
    floats = client.embeddings.create(model=MINILM, input=texts, encoding_format="float")
    vectors = np.array([d.embedding for d in floats.data])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert floats.usage.prompt_tokens > 0
    # The SDK decodes base64 itself; ask for the raw body to see the encoding on the wire.
    raw = client.embeddings.with_raw_response.create(model=MINILM, input=texts, encoding_format="base64")
    encoded = json.loads(raw.text)["data"]
    decoded = np.array([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in encoded])
    assert np.allclose(decoded, vectors, atol=1e-6)
    short = client.embeddings.create(model=MINILM, input="hello", dimensions=64)
    assert len(short.data[0].embedding) == 64


def test_embeddings_of_token_arrays_are_those_of_their_text(client: openai.OpenAI, server: Server) -> None:
    # The model's own token ids (a completion model embeds too): the native answer's context is the rendered
    # prompt's tokens and the answer's, so they stand for exactly that text.
    body = {"model": QWEN, "prompt": "Name a color.", "stream": False, "options": {"temperature": 0, "num_predict": 3}}
    native = httpx.post(f"{server.url}/api/generate", json=body, timeout=300).json()
    rendered = httpx.post(f"{server.url}/api/generate", json={**body, "_debug_render_only": True}, timeout=300).json()
    text = rendered["_debug_info"]["rendered_template"] + native["response"]
    by_ids = client.embeddings.create(model=QWEN, input=[native["context"]])
    by_text = client.embeddings.create(model=QWEN, input=text)
    assert np.allclose(by_ids.data[0].embedding, by_text.data[0].embedding, atol=1e-6)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=QWEN, input=[[10**9]])


def test_models_list_and_get(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert QWEN in ids and "all-minilm:latest" in ids
    model = client.models.retrieve(QWEN)
    assert (model.id, model.object, model.owned_by) == (QWEN, "model", "library") and model.created > 0


def test_errors_in_openai_shape(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.status_code == 404
    assert missing.value.body == {
        "message": "model 'no-such-model' not found",
        "type": "not_found_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model=QWEN, messages=[])
    assert empty.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as unknown_tool:
        client.chat.completions.create(
            model=QWEN,
            messages=[{"role": "user", "content": "hi"}],
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "nope"}},
        )
    assert "nope" in unknown_tool.value.message
    with pytest.raises(openai.BadRequestError) as encoding:
        client.embeddings.create(model=MINILM, input="x", encoding_format="int8")  # type: ignore[arg-type]
    assert "encoding_format" in encoding.value.message
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_logit_bias_bans_the_greedy_first_token(client: openai.OpenAI, server: Server) -> None:
    prompt = "Name a color."
    # The model's own token ids: the native answer's context is the prompt's tokens, then the answer's.
    native = httpx.post(
        f"{server.url}/api/generate",
        json={"model": QWEN, "prompt": prompt, "stream": False, "options": {"temperature": 0, "num_predict": 4}},
        timeout=300,
    ).json()
    first = native["context"][native["prompt_eval_count"]]
    plain = client.completions.create(model=QWEN, prompt=prompt, temperature=0, max_tokens=4)
    banned = client.completions.create(
        model=QWEN, prompt=prompt, temperature=0, max_tokens=4, logit_bias={str(first): -100}
    )
    assert plain.choices[0].text == native["response"]
    assert banned.choices[0].text != plain.choices[0].text
