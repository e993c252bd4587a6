"""Lazy grammars through llama.cpp's own lazy grammar sampler (loads llama.cpp and a vocabulary-only GGUF):
text before a trigger is free, a tool call after it names a given tool with arguments that validate, and the
answer after a closing thinking tag follows the format. Triggers never fire on text the grammar would refuse
(llama.cpp would throw from the sampler and kill the runner), which the no-crash test exercises."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import jsonschema
import pytest
from llamacpp_grammar import GrammarEngine, RandomWriter

from pollama.grammar import LazyGrammar, compile_format, lazy_format_grammar, tool_call_grammar

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
}
ODD = {  # a schema the compiler refuses: its arguments fall back to any object
    "type": "function",
    "function": {"name": "odd.tool-1", "parameters": {"type": "object", "not": {"required": ["x"]}}},
}
NO_PARAMS = {"type": "function", "function": {"name": "ping"}}
TOOLS = [WEATHER, TIME, ODD, NO_PARAMS]


def _accepts(engine: GrammarEngine, lazy: LazyGrammar, text: str, *, complete: bool = True) -> bool:
    return engine.accepts(lazy.gbnf, text, triggers=lazy.triggers, complete=complete)


def _call(name: str, args: dict[str, Any], key: str = "arguments") -> str:
    return json.dumps({"name": name, key: args})


def test_qwen_tagged_calls(engine: GrammarEngine) -> None:
    g = tool_call_grammar(TOOLS, tag="<tool_call>")
    paris = _call("get_weather", {"city": "Paris"})
    ok = [
        f"<tool_call>\n{paris}\n</tool_call>",
        f"Let me check. <tool_call>\n{paris}\n</tool_call>",
        f"<tool_call>\n{_call('get_weather', {'city': 'Paris', 'unit': 'celsius'})}\n</tool_call>",
        f"<tool_call>\n{paris}\n</tool_call>\n<tool_call>\n{_call('get_time', {'zone': 'CET'})}\n</tool_call>",
        f"<tool_call>{_call('get_weather', {'city': 'Oslo'}, 'parameters')}</tool_call>",
        f"<tool_call>\n{_call('odd.tool-1', {'x': [1, {'y': None}]})}\n</tool_call>",
        f"<tool_call>\n{_call('ping', {})}\n</tool_call>",
        '<tool_call>\n{\n  "name": "get_time",\n  "arguments": {\n    "zone": "UTC"\n  }\n}\n</tool_call>',
    ]
    for text in ok:
        assert _accepts(engine, g, text), text
    bad = [
        f"<tool_call>\n{_call('get_news', {'city': 'Paris'})}\n</tool_call>",  # not a given tool
        f"<tool_call>\n{_call('get_weather', {'city': {'type': 'string'}})}\n</tool_call>",  # schema as value
        f"<tool_call>\n{_call('get_weather', {'town': 'Paris'})}\n</tool_call>",  # required argument missing
        f"<tool_call>\n{_call('get_weather', {'city': 'Paris', 'unit': 'kelvin'})}\n</tool_call>",
        f"<tool_call>\n{_call('get_weather', {'city': 'Paris'}, 'args')}\n</tool_call>",
        f"<tool_call>\n{_call('ping', [])}\n</tool_call>",  # arguments must be an object
        f"<tool_call>\n{paris}\n",  # never closed
        f"<tool_call>\n{paris}\n</tool_call> and some more text",
        '<tool_call>\n{"arguments": {"city": "Paris"}, "name": "get_weather"}\n</tool_call>',
    ]
    for text in bad:
        assert not _accepts(engine, g, text), text


def test_a_tag_that_is_one_control_token_triggers_and_is_matched_by_its_text(engine: GrammarEngine) -> None:
    """Qwen's <tool_call> and Mistral's [TOOL_CALLS] are single special tokens; gemma's <start_of_turn> stands
    in for them: the grammar sees the token's text, so the literal tag in the grammar matches it."""
    tag = "<start_of_turn>"
    assert len(engine.tokenize(tag, special=True)) == 1
    g = tool_call_grammar(TOOLS, tag=tag)
    call = _call("get_weather", {"city": "Paris"})
    assert engine.accepts(g.gbnf, f"Sure.{tag}\n{call}\n</start_of_turn>", triggers=g.triggers, special=True)
    assert not engine.accepts(g.gbnf, f"Sure.{tag}\n{_call('x', {})}", triggers=g.triggers, special=True)


def test_a_bare_call_at_the_start_is_constrained_too(engine: GrammarEngine) -> None:
    g = tool_call_grammar(TOOLS, tag="<tool_call>")
    assert _accepts(engine, g, _call("get_weather", {"city": "Paris"}))
    assert _accepts(engine, g, "\n  " + _call("get_weather", {"city": "Paris"}))
    assert not _accepts(engine, g, _call("get_weather", {"city": {"type": "string", "description": "The city"}}))
    assert not _accepts(engine, g, _call("lookup", {"city": "Paris"}))
    assert not _accepts(engine, g, '{"answer": 42}')


@pytest.mark.parametrize("tag", ["<tool_call>", "[TOOL_CALLS]"])
def test_without_bare_forms_only_the_tag_starts_a_call(engine: GrammarEngine, tag: str) -> None:
    # After a tool result a model echoing its call as a bare object is writing an answer, not calling.
    g = tool_call_grammar(TOOLS, tag=tag, bare=False)
    echo = _call("get_weather", {"city": "Paris"}) + '\n{"response": "18 degrees"}'
    assert _accepts(engine, g, echo)
    assert not any(t.startswith("^") for t in g.triggers)
    tagged = f"{tag}\n{_call('get_weather', {'city': 'Paris'})}" if tag == "<tool_call>" else ""
    if tagged:
        assert _accepts(engine, g, tagged + "\n</tool_call>")
        assert not _accepts(engine, g, f"{tag}\n{_call('get_weather', {'city': {'type': 'string'}})}\n</tool_call>")


def test_text_before_a_trigger_is_free(engine: GrammarEngine) -> None:
    g = tool_call_grammar(TOOLS, tag="<tool_call>")
    for text in (
        "The weather in Paris is sunny.",
        'Here is JSON: {"name": "nope", "arguments": 1}',  # an object, but not at the start
        "{} is an empty object",  # starts with a brace the call grammar could never continue
        'Sure:\n{"name": "nope"}',  # "^" is the start of the output, not of a line
        "Use the <tool_call tag for calls.",
        "",
    ):
        assert _accepts(engine, g, text), text


def test_mistral_list_of_calls(engine: GrammarEngine) -> None:
    g = tool_call_grammar(TOOLS, tag="[TOOL_CALLS]")
    one = _call("get_weather", {"city": "Paris"})
    two = _call("get_time", {"zone": "CET"})
    for text in (f"[TOOL_CALLS] [{one}]", f"[TOOL_CALLS][{one}, {two}]", f"[{one}]", one, f"Sure.[TOOL_CALLS] [{two}]"):
        assert _accepts(engine, g, text), text
    for text in (
        f"[TOOL_CALLS] [{_call('get_news', {})}]",
        f"[TOOL_CALLS] {one}",
        f"[TOOL_CALLS] [{one}",
        "[TOOL_CALLS] []",
    ):
        assert not _accepts(engine, g, text), text
    assert _accepts(engine, g, "[1] A footnote, not a call.")


def test_json_only_calls(engine: GrammarEngine) -> None:
    g = tool_call_grammar(TOOLS, tag="{")
    one = _call("get_weather", {"city": "Paris"}, "parameters")
    two = _call("get_time", {"zone": "CET"})
    for text in (one, f"{one}; {two}", f" {one}\n{two}\n"):
        assert _accepts(engine, g, text), text
    assert not _accepts(engine, g, _call("get_weather", {}, "parameters"))
    assert not _accepts(engine, g, f"{one} done")
    assert _accepts(engine, g, f"I will call {_call('nothing', {})}")  # not at the start: free text


def test_every_call_a_trigger_lets_through_validates(engine: GrammarEngine) -> None:
    """Random calls with arguments good and bad: whatever the grammar accepts parses to a given tool whose
    arguments validate against its schema."""
    g = tool_call_grammar([WEATHER, TIME], tag="<tool_call>")
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in (WEATHER, TIME)}
    rng = random.Random(3)
    values: list[Any] = ["Paris", "", 3, None, ["x"], {"type": "string"}, "celsius", "kelvin"]
    accepted = 0
    for _ in range(1000):
        name = rng.choice(["get_weather", "get_time", "get_news"])
        args = {k: rng.choice(values) for k in rng.sample(["city", "unit", "zone", "extra"], rng.randint(0, 3))}
        text = f"<tool_call>\n{_call(name, args)}\n</tool_call>"
        if _accepts(engine, g, text):
            accepted += 1
            call = json.loads(text.split("\n")[1])
            assert call["name"] in schemas
            jsonschema.validate(call["arguments"], schemas[call["name"]])
    assert accepted >= 20


@pytest.mark.parametrize("tag", ["<tool_call>", "[TOOL_CALLS]", "{"])
def test_triggers_never_fire_on_text_the_grammar_would_refuse(engine: GrammarEngine, tag: str) -> None:
    """llama.cpp feeds the grammar the text from the trigger on and throws if it does not fit; random texts
    around the trigger must leave the process standing (and free when they do not form a call)."""
    g = tool_call_grammar([WEATHER], tag=tag)
    pieces = [tag, "{", '{"', "{}", '{"name', '"name"', ": ", '"get_weather"', ",", "x", " ", "\n", '"', "}", "[", "]"]
    rng = random.Random(tag)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        engine.accepts(g.gbnf, text, triggers=g.triggers, complete=False)


def test_every_trigger_is_anchored_at_the_end_of_the_output() -> None:
    for tag in ("<tool_call>", "[TOOL_CALLS]", "{"):
        for trigger in tool_call_grammar([WEATHER, TIME], tag=tag).triggers:
            assert trigger.endswith("$")
            re.compile(trigger)  # the same syntax as ECMAScript for what we use


def test_format_after_thinking(engine: GrammarEngine) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    gbnf = compile_format(schema)
    assert gbnf is not None
    g = lazy_format_grammar(gbnf, after="</think>")
    for text in (
        '<think>Let me think. {"not": "constrained"} maybe 41?</think>\n\n{"answer": 42}',
        '</think>{"answer": 1}',
        "<think>still thinking when the output ends",
    ):
        assert _accepts(engine, g, text), text
    for text in (
        "<think>hm</think>\n\nThe answer is 42.",
        '<think>hm</think>\n{"answer": "42"}',
        '<think>hm</think>\n{"answer": 42} trailing',
    ):
        assert not _accepts(engine, g, text), text


def test_format_json_after_thinking(engine: GrammarEngine) -> None:
    gbnf = compile_format("json")
    assert gbnf is not None
    g = lazy_format_grammar(gbnf, after="</think>")
    assert _accepts(engine, g, '<think>x</think>\n{"a": [1]}')
    assert not _accepts(engine, g, "<think>x</think>\n[1]")


@pytest.mark.parametrize("tag", ["<tool_call>", "[TOOL_CALLS]", "{"])
def test_every_call_the_grammar_lets_a_model_write_validates(engine: GrammarEngine, tag: str) -> None:
    """Random texts written under the (triggered) call grammar: each holds only calls of given tools whose
    arguments validate against the tool's schema."""
    writer = RandomWriter(engine)
    tools = [WEATHER, TIME]
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
    g = tool_call_grammar(tools, tag=tag)
    rng = random.Random(tag)
    written = [t for t in (writer.write(g.gbnf, rng, max_chars=400) for _ in range(200)) if t is not None]
    assert len(written) >= 40
    decoder = json.JSONDecoder()
    for text in written:
        calls = []
        i = 0
        while (start := text.find("{", i)) != -1:
            call, i = decoder.raw_decode(text, start)
            calls.append(call)
        assert calls, text
        for call in calls:
            assert call["name"] in schemas, text
            args = call.get("arguments", call.get("parameters"))
            jsonschema.validate(args, schemas[call["name"]])
