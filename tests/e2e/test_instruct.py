"""The built-in instruct model through the official ``ollama`` client: first answers, tool calls (streamed and
not, and the round trip with a tool result), fill-in-the-middle, structured outputs, logprobs, thinking, and a
model whose only template is its GGUF's Jinja chat template."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jsonschema
import ollama
import pytest
from e2e_helpers import Server

from pollama.store.builtin import QWEN_SHA256

QWEN = "qwen2.5-coder:0.5b"
GREEDY: dict[str, Any] = {"temperature": 0}

WEATHER_TOOL = {
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
WEATHER_QUESTION = {"role": "user", "content": "What is the weather in Paris right now?"}

PEOPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "people": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 20},
                    "age": {"type": "integer", "minimum": 0, "maximum": 120},
                    "role": {"enum": ["engineer", "doctor", "artist"]},
                },
                "required": ["name", "age", "role"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["people"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    """A server of this module's own (same store), so the instruct model it loads stays out of the shared
    server's ``/api/ps``; the models the tests create are deleted at the end."""
    own = start_server()
    yield own
    for name in ("qwen-thinks", "qwen-jinja"):
        httpx.request("DELETE", f"{own.url}/api/delete", json={"model": name})
    own.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> ollama.Client:
    return ollama.Client(host=server.url, timeout=300)


def test_readme_first_example_answers_and_ends_its_turn(client: ollama.Client) -> None:
    r = client.generate(QWEN, "Why is the sky blue?", options=GREEDY)
    assert r.done_reason == "stop"
    assert "light" in r.response.lower() and len(r.response.split()) > 10
    chat = client.chat(QWEN, [{"role": "user", "content": "Say hi in 5 words."}], options=GREEDY)
    assert chat.message.content.strip() and chat.done_reason == "stop"


def test_show_and_tags_as_ollama_library(client: ollama.Client) -> None:
    show = client.show(QWEN)
    assert show.capabilities == ["completion", "tools", "insert"]
    assert show.template is not None and show.template.startswith("{{- if .Suffix }}<|fim_prefix|>")
    assert show.details.family == "qwen2" and show.details.quantization_level == "Q4_K_M"
    (entry,) = [m for m in client.list().models if m.model == QWEN]
    assert entry.size is not None and entry.size > 491_400_064  # the GGUF plus template, license and config


def test_tool_call_not_streamed(client: ollama.Client) -> None:
    r = client.chat(QWEN, [WEATHER_QUESTION], tools=[WEATHER_TOOL], options=GREEDY)
    calls = r.message.tool_calls or []
    assert len(calls) == 1, r.message
    assert calls[0].function.name == "get_weather"
    assert dict(calls[0].function.arguments) == {"city": "Paris"}
    assert r.done_reason == "stop"


def test_tool_call_streamed(client: ollama.Client) -> None:
    calls = []
    content = ""
    for part in client.chat(QWEN, [WEATHER_QUESTION], tools=[WEATHER_TOOL], options=GREEDY, stream=True):
        calls += part.message.tool_calls or []
        content += part.message.content or ""
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert "<tool_call>" not in content and '"name"' not in content


def test_tool_result_round_trip(client: ollama.Client) -> None:
    question = {"role": "user", "content": "Is it warm in Paris today?"}
    first = client.chat(QWEN, [question], tools=[WEATHER_TOOL], options={**GREEDY, "num_predict": 64})
    assert [c.function.name for c in first.message.tool_calls or []] == ["get_weather"]
    result = {"role": "tool", "content": '{"temperature": 18, "unit": "celsius"}', "tool_name": "get_weather"}
    final = client.chat(
        QWEN, [question, first.message, result], tools=[WEATHER_TOOL], options={**GREEDY, "num_predict": 64}
    )
    # The tool's answer is used, and the turn ends with text rather than another call. (This 0.5B model first
    # echoes the call it made as a bare object; after a tool result that is content, as in Ollama.)
    assert not final.message.tool_calls
    assert final.done_reason == "stop"
    assert "18" in final.message.content


def test_fill_in_the_middle(client: ollama.Client) -> None:
    r = client.generate(
        QWEN,
        "def add(a, b):\n    ",
        suffix="\n\n\nprint(add(2, 3))\n",
        options={**GREEDY, "num_predict": 32},
    )
    assert "return a + b" in r.response


def test_fill_in_the_middle_refused_without_insert(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.generate("gemma3:270m", "def add(a, b):", suffix="print(add(2, 3))")
    assert err.value.status_code == 400
    assert err.value.error == "registry.ollama.ai/library/gemma3:270m does not support insert"


def test_json_schema_outputs_always_validate(client: ollama.Client) -> None:
    def one(seed: int) -> Any:
        r = client.chat(
            QWEN,
            [{"role": "user", "content": "Invent a small team of people with their ages and jobs, as JSON."}],
            format=PEOPLE_SCHEMA,
            options={"temperature": 0.9, "seed": seed, "num_predict": 200},
        )
        assert r.done_reason == "stop", r.message.content
        return json.loads(r.message.content)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, range(20)))
    for answer in answers:
        jsonschema.validate(answer, PEOPLE_SCHEMA)
    assert len({json.dumps(a) for a in answers}) > 1  # seeds matter: the grammar constrains, it does not dictate


def test_format_json_gives_json(client: ollama.Client) -> None:
    r = client.generate(QWEN, "List three fruits as a JSON object.", format="json", options=GREEDY)
    assert isinstance(json.loads(r.response), dict)


def test_unenforceable_schema_is_refused(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.generate(QWEN, "hi", format={"type": "array", "uniqueItems": True})
    assert err.value.status_code == 400
    assert "uniqueItems" in err.value.error


def test_logprobs_one_per_generated_token(server: Server) -> None:
    with server.client() as c:
        body = {
            "model": QWEN,
            "prompt": "Name a color.",
            "stream": False,
            "logprobs": True,
            "top_logprobs": 2,
            "options": {**GREEDY, "num_predict": 12},
        }
        r = c.post("/api/generate", json=body).json()
        assert len(r["logprobs"]) == r["eval_count"]
        for entry in r["logprobs"]:
            assert entry["logprob"] <= 0 and len(entry["top_logprobs"]) == 2
            assert entry["top_logprobs"][0]["token"] == entry["token"]
        bad = c.post("/api/generate", json={**body, "top_logprobs": 21})
        assert bad.status_code == 400 and bad.json() == {"error": "top_logprobs must be between 0 and 20"}


THINKING_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}"
    "{{- if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n{{ if .Think }}<think>\n{{ end }}"
)


def test_thinking_template_separates_thinking(client: ollama.Client) -> None:
    client.create("qwen-thinks", from_=QWEN, template=THINKING_TEMPLATE)
    assert "thinking" in (client.show("qwen-thinks").capabilities or [])
    r = client.chat(
        "qwen-thinks",
        [{"role": "user", "content": "What is 2 + 3?"}],
        think=True,
        options={**GREEDY, "num_predict": 24},
    )
    # The prompt opened the thinking block, so everything up to a closing tag is thinking, never content.
    assert r.message.thinking
    assert "<think>" not in (r.message.content or "") and "</think>" not in r.message.thinking
    off = client.chat(
        "qwen-thinks",
        [{"role": "user", "content": "What is 2 + 3?"}],
        think=False,
        options={**GREEDY, "num_predict": 8},
    )
    assert not off.message.thinking and off.message.content


def test_model_with_only_a_gguf_chat_template(client: ollama.Client, server: Server) -> None:
    # The built-in's GGUF blob alone, as `FROM ./qwen.gguf` would upload it: no TEMPLATE layer, and its
    # chat template matches none of Ollama's named templates.
    client.create("qwen-jinja", files={"model.gguf": "sha256:" + QWEN_SHA256})
    show = client.show("qwen-jinja")
    assert "tools" in (show.capabilities or [])
    with server.client() as c:
        rendered = c.post(
            "/api/chat",
            json={"model": "qwen-jinja", "messages": [{"role": "user", "content": "hi"}], "_debug_render_only": True},
        ).json()["_debug_info"]["rendered_template"]
    assert rendered.startswith("<|im_start|>system\n")
    assert rendered.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    r = client.chat("qwen-jinja", [{"role": "user", "content": "Say hi in 5 words."}], options=GREEDY)
    assert r.message.content.strip()
    tool = client.chat("qwen-jinja", [WEATHER_QUESTION], tools=[WEATHER_TOOL], options=GREEDY)
    assert [(c.function.name, dict(c.function.arguments)) for c in tool.message.tool_calls or []] == [
        ("get_weather", {"city": "Paris"})
    ]
