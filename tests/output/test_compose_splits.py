"""``build_parser`` on real models' output formats, fed whole, one character at a time, split at every single point
and in seeded random chunkings: the content, thinking and calls must always come out the same."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from pollama.output import PassThrough
from pollama.output.compose import ComposedParser, build_parser

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
LLAMA_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "format": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
        },
    },
}
THINK = ("<think>", "</think>")
QWEN_PROMPT = "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
QWEN3_PROMPT = QWEN_PROMPT + "<think>\n"  # Ollama's qwen3 template opens the thinking block itself

Call = tuple[str, dict[str, Any]]


@dataclass
class Case:
    output: str
    content: str
    thinking: str = ""
    calls: list[Call] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None
    tag: str | None = None
    thinking_tags: tuple[str, str] | None = None
    prompt: str = ""


CASES: dict[str, Case] = {
    "llama3.2 bare JSON call": Case(
        '{"name": "get_current_weather", "parameters": {"location": "Paris, France", "format": "celsius"}}',
        "",
        calls=[("get_current_weather", {"location": "Paris, France", "format": "celsius"})],
        tools=[LLAMA_WEATHER],
        tag="{",
    ),
    "llama3.1 python tag call": Case(
        '<|python_tag|>{"name": "get_current_weather", "parameters": {"location": "Tokyo", "format": "celsius"}}',
        "",
        calls=[("get_current_weather", {"location": "Tokyo", "format": "celsius"})],
        tools=[LLAMA_WEATHER],
        tag="{",
    ),
    "llama3.2 prose answer with tools offered": Case(
        "The capital of France is Paris. {It has been since 987.}",
        "The capital of France is Paris. {It has been since 987.}",
        tools=[LLAMA_WEATHER],
        tag="{",
    ),
    "qwen2.5 one call": Case(
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        "",
        calls=[("get_weather", {"city": "Paris"})],
        tools=[WEATHER, TIME],
        tag="<tool_call>",
    ),
    "qwen2.5 two calls": Case(
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>',
        "",
        calls=[("get_weather", {"city": "Paris"}), ("get_time", {})],
        tools=[WEATHER, TIME],
        tag="<tool_call>",
    ),
    "qwen2.5 text then call": Case(
        'I will look that up.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "São Paulo"}}\n</tool_call>',
        "I will look that up.\n",
        calls=[("get_weather", {"city": "São Paulo"})],
        tools=[WEATHER, TIME],
        tag="<tool_call>",
    ),
    "qwen2.5-coder 0.5b bare object with the schema as value": Case(
        '{"name": "get_weather", "arguments": {"city": {"type": "string", "description": "The city name"}}}',
        "",
        calls=[("get_weather", {"city": {"type": "string", "description": "The city name"}})],
        tools=[WEATHER],
        tag="<tool_call>",
    ),
    "qwen2.5 two bare objects": Case(
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n{"name": "get_time", "arguments": {}}',
        "",
        calls=[("get_weather", {"city": "Oslo"}), ("get_time", {})],
        tools=[WEATHER, TIME],
        tag="<tool_call>",
    ),
    "qwen2.5 prose answer with tools offered": Case(
        "I'm sorry, I can't browse the web. Use a tool like get_weather {city} to check.",
        "I'm sorry, I can't browse the web. Use a tool like get_weather {city} to check.",
        tools=[WEATHER],
        tag="<tool_call>",
    ),
    "qwen2.5 JSON answer that is not a call": Case(
        '{"city": "Paris", "temperature": 21}\nDone.',
        '{"city": "Paris", "temperature": 21}\nDone.',
        tools=[WEATHER],
        tag="<tool_call>",
    ),
    "qwen3 thinking then a call (prompt opens the block)": Case(
        "Okay, the user wants the weather in Paris. I should call get_weather.\n</think>\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        "",
        thinking="Okay, the user wants the weather in Paris. I should call get_weather.\n",
        calls=[("get_weather", {"city": "Paris"})],
        tools=[WEATHER],
        tag="<tool_call>",
        thinking_tags=THINK,
        prompt=QWEN3_PROMPT,
    ),
    "qwen3 thinking then a call": Case(
        "<think>\nThe user asks for two things.\n</think>\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>',
        "",
        thinking="The user asks for two things.\n",
        calls=[("get_weather", {"city": "Paris"}), ("get_time", {})],
        tools=[WEATHER, TIME],
        tag="<tool_call>",
        thinking_tags=THINK,
        prompt=QWEN_PROMPT,
    ),
    "qwen3 thinking then an answer, tools offered": Case(
        "<think>\nNo tool needed.\n</think>\n\nParis is the capital of France.",
        "Paris is the capital of France.",
        thinking="No tool needed.\n",
        tools=[WEATHER],
        tag="<tool_call>",
        thinking_tags=THINK,
        prompt=QWEN_PROMPT,
    ),
    "mistral list of calls": Case(
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]',
        "",
        calls=[("get_weather", {"city": "Paris"}), ("get_time", {})],
        tools=[WEATHER, TIME],
        tag="[TOOL_CALLS] [",
    ),
    "mistral prose": Case(
        "Bonjour ! [Note] Je ne peux pas.",
        "Bonjour ! [Note] Je ne peux pas.",
        tools=[WEATHER, TIME],
        tag="[TOOL_CALLS] [",
    ),
    "JSON-only model call": Case(
        '\n{"name": "get_weather", "arguments": {"city": "Kraków"}}',
        "\n",
        calls=[("get_weather", {"city": "Kraków"})],
        tools=[WEATHER],
        tag=None,
    ),
    "JSON-only model, two calls": Case(
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n{"name": "get_time", "arguments": {}}',
        "",
        calls=[("get_weather", {"city": "Oslo"}), ("get_time", {})],
        tools=[WEATHER, TIME],
        tag="{",
    ),
    "JSON-only model, JSON that is not a call": Case(
        '{"result": [1, 2, {"x": "}"}]} and more',
        '{"result": [1, 2, {"x": "}"}]} and more',
        tools=[WEATHER],
        tag=None,
    ),
    "deepseek-r1 thinking": Case(
        "<think>\nOkay, 2+2. That is 4.\n</think>\n\nThe answer is **4**.",
        "The answer is **4**.",
        thinking="Okay, 2+2. That is 4.\n",
        thinking_tags=THINK,
        prompt="<｜User｜>What is 2+2?<｜Assistant｜>",
    ),
    "deepseek-r1 thinking, prompt ends with the opening tag": Case(
        "Okay, 2+2. That is 4.\n</think>\n\nThe answer is **4**.",
        "The answer is **4**.",
        thinking="Okay, 2+2. That is 4.\n",
        thinking_tags=THINK,
        prompt="<｜User｜>What is 2+2?<｜Assistant｜><think>\n",
    ),
    "thinking on, model did not think": Case(
        "  Just the answer, <think>not thinking</think>.",
        "  Just the answer, <think>not thinking</think>.",
        thinking_tags=THINK,
    ),
    "thinking cut off by the end of generation": Case(
        "<think>\nStill going </thi",
        "",
        thinking="Still going </thi",
        thinking_tags=THINK,
    ),
    "answer that is only a partial opening tag": Case("<thi", "<thi", thinking_tags=THINK),
}


def run(case: Case, chunks: list[str]) -> tuple[str, str, list[Call], list[int]]:
    parser = build_parser(thinking_tags=case.thinking_tags, prompt=case.prompt, tools=case.tools, tool_tag=case.tag)
    pieces = [parser.feed(c) for c in chunks] + [parser.flush()]
    calls = [c for p in pieces for c in p.tool_calls]
    return (
        "".join(p.content for p in pieces),
        "".join(p.thinking for p in pieces),
        [(c.function.name, c.function.arguments) for c in calls],
        [c.function.index or 0 for c in calls],
    )


def expected(case: Case) -> tuple[str, str, list[Call], list[int]]:
    return case.content, case.thinking, case.calls, list(range(len(case.calls)))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_whole(case: Case) -> None:
    assert run(case, [case.output]) == expected(case)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_one_character_at_a_time(case: Case) -> None:
    assert run(case, list(case.output)) == expected(case)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_split_point(case: Case) -> None:
    want = expected(case)
    for i in range(1, len(case.output)):
        assert run(case, [case.output[:i], case.output[i:]]) == want, f"split at {i}: {case.output[:i]!r}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_random_chunks(case: Case) -> None:
    rng = random.Random(14)
    want = expected(case)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(case.output)), k=rng.randint(1, min(12, len(case.output) - 1))))
        chunks = [case.output[a:b] for a, b in zip([0, *cuts], [*cuts, len(case.output)], strict=True)]
        assert run(case, chunks) == want, chunks


def test_nothing_to_parse_is_pass_through() -> None:
    assert isinstance(build_parser(thinking_tags=None, prompt="", tools=None, tool_tag=None), PassThrough)
    assert isinstance(build_parser(thinking_tags=None, prompt="", tools=[], tool_tag="{"), PassThrough)
    assert isinstance(build_parser(thinking_tags=("", ""), prompt="", tools=None, tool_tag=None), PassThrough)
    # tools without a usable name can never be called
    nameless = [{"type": "function", "function": {"name": ""}}]
    assert isinstance(build_parser(thinking_tags=None, prompt="", tools=nameless, tool_tag="{"), PassThrough)


def test_parts_built() -> None:
    parser = build_parser(thinking_tags=THINK, prompt="", tools=[WEATHER], tool_tag="<tool_call>")
    assert isinstance(parser, ComposedParser)
    assert parser.thinking is not None and parser.tools is not None and parser.tools.tag == "<tool_call>"
    only_tools = build_parser(thinking_tags=None, prompt="", tools=[WEATHER], tool_tag=None)
    assert isinstance(only_tools, ComposedParser) and only_tools.thinking is None
    assert only_tools.tools is not None and only_tools.tools.tag == "{"


def test_streams_as_it_goes() -> None:
    """Thinking and plain content are sent on as they come, not saved up for the end."""
    parser = build_parser(thinking_tags=THINK, prompt="", tools=[WEATHER], tool_tag="<tool_call>")
    assert parser.feed("<think>\nHmm").thinking == "Hmm"
    assert parser.feed(" ok</think>\n\n").thinking == " ok"
    assert parser.feed("Paris").content == "Paris"
    assert parser.feed(" is nice.").content == " is nice."
    assert not parser.flush()


def test_prompt_ending_with_opening_tag_after_whitespace() -> None:
    parser = build_parser(thinking_tags=THINK, prompt="x<think>\n\n ", tools=None, tool_tag=None)
    piece = parser.feed("thinking here</think>answer")
    assert (piece.thinking, piece.content) == ("thinking here", "answer")
