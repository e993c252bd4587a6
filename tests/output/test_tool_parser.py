"""The generic tool-call parser: Ollama's own cases (tools/tools_test.go TestParser, fed chunk by chunk exactly as
there and compared without the end-of-stream flush, as Ollama's test does), then what pollama adds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pollama.output.tools import ToolCallParser, tool_names


def _tool(name: str, **props: str) -> dict[str, Any]:
    properties = {k: {"type": "string", "description": v} for k, v in props.items()}
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": properties}}}


TOOLS = [
    _tool("get_temperature", city="The city", format="fahrenheit or celsius"),
    _tool("get_conditions", location="The location"),
    {"type": "function", "function": {"name": "say_hello", "description": "Say hello"}},
    {"type": "function", "function": {"name": "say_hello_world", "description": "Say hello world"}},
    _tool("get_address", location="The location"),
    _tool("add", a="first", b="second"),
]

QWEN = "<tool_call>"
DEEPSEEK = "<|tool▁calls▁begin|>"
JSON = "{"
MISTRAL = "[TOOL_CALLS] ["
LIST = "["

Calls = list[tuple[str, dict[str, Any]]]


def run(tag: str, chunks: list[str], *, flush: bool = False) -> tuple[str, Calls, list[int]]:
    parser = ToolCallParser(TOOLS, tag)
    content = ""
    calls = []
    for chunk in chunks:
        got, text = parser.add(chunk)
        calls += got
        content += text
    if flush:
        content += parser.flush().content
    return content, [(c.function.name, c.function.arguments) for c in calls], [c.function.index or 0 for c in calls]


TEMP_LONDON = ("get_temperature", {"city": "London", "format": "fahrenheit"})
COND_TOKYO = ("get_conditions", {"location": "Tokyo"})
OLLAMA_CASES: dict[str, tuple[str, list[str], str, Calls]] = {
    "no tool calls - just text": (
        QWEN,
        ["Hello, how can I help you today?"],
        "Hello, how can I help you today?",
        [],
    ),
    "empty input": (QWEN, [""], "", []),
    "tool call": (
        QWEN,
        ['<tool_call>{"name": "get_conditions", "arguments": {"location": "San Francisco"}}</tool_call>'],
        "",
        [("get_conditions", {"location": "San Francisco"})],
    ),
    "empty args": (
        QWEN,
        ['<tool_call>{"name": "get_conditions", "arguments": {}}</tool_call>'],
        "",
        [("get_conditions", {})],
    ),
    "text before tool call": (
        QWEN,
        [
            "Let me check the weather. "
            '<tool_call>{"name": "get_temperature", "arguments": {"city": "New York"}}</tool_call>'
        ],
        "Let me check the weather. ",
        [("get_temperature", {"city": "New York"})],
    ),
    "qwen no args with text": (
        QWEN,
        ["Let me say hello to the user. I'll use the say_hello tool. "],
        "Let me say hello to the user. I'll use the say_hello tool. ",
        [],
    ),
    "two tool calls in a list": (
        MISTRAL,
        [
            '[TOOL_CALLS] [{"name": "get_temperature", "arguments": {"city": "London", "format": "fahrenheit"}}, '
            '{"name": "get_conditions", "arguments": {"location": "Tokyo"}}][/TOOL_CALLS]'
        ],
        "",
        [TEMP_LONDON, COND_TOKYO],
    ),
    "qwen two tool calls": (
        QWEN,
        [
            "Okay, let's call both tools! "
            '<tool_call>{"name": "get_temperature", "arguments": {"city": "London", "format": "fahrenheit"}}'
            "</tool_call>"
            '<tool_call>{"name": "get_conditions", "arguments": {"location": "Tokyo"}}</tool_call>'
        ],
        "Okay, let's call both tools! ",
        [TEMP_LONDON, COND_TOKYO],
    ),
    "empty args followed by args": (
        QWEN,
        [
            "Let me say hello and check the weather. "
            '<tool_call>{"name": "say_hello", "arguments": {}}</tool_call>'
            '<tool_call>{"name": "get_temperature", "arguments": {"city": "London", "format": "fahrenheit"}}'
            "</tool_call>"
        ],
        "Let me say hello and check the weather. ",
        [("say_hello", {}), TEMP_LONDON],
    ),
    "qwen empty followed by args": (
        QWEN,
        [
            'Let me check the weather. <tool_call>{"name": "get_conditions", "arguments": {}}</tool_call>'
            '<tool_call>{"name": "get_conditions", "arguments": {"location": "Tokyo"}}'
        ],
        "Let me check the weather. ",
        [("get_conditions", {}), COND_TOKYO],
    ),
    "deepseek": (
        DEEPSEEK,
        [
            "<think>Wait, I need to call a tool</think><|tool▁calls▁begin|><|tool▁call▁begin|>function<|tool▁sep|>"
            'get_temperature\n```json\n{"city": "Tokyo"}\n```<|tool▁call▁end|><|tool▁calls▁end|><|end▁of▁sentence|>'
        ],
        "<think>Wait, I need to call a tool</think>",
        [("get_temperature", {"city": "Tokyo"})],
    ),
    "deepseek incremental": (
        DEEPSEEK,
        [
            "<think>Wait",
            ", I need",
            " to call",
            " a tool</think><|too",
            "l▁calls▁begin",
            "|>",
            "<|tool▁call▁begin|>function<|tool▁sep|>get_temperature\n",
            "```json\n",
            '{"city": "Tokyo"}\n',
            "```",
            "<|tool▁c",
            "all▁end|>",
            "<|tool▁calls▁end|>",
            "<|end▁of▁sentence|>",
        ],
        "<think>Wait, I need to call a tool</think>",
        [("get_temperature", {"city": "Tokyo"})],
    ),
    "json": (
        JSON,
        ["{", '"name": "get_temperature",', '"arguments": {', '"city": "Tokyo"', "}", "}"],
        "",
        [("get_temperature", {"city": "Tokyo"})],
    ),
    "json maybe a tool call": (JSON, ["{", '"name": "get_temperature",', '"arguments": {'], "", []),
    "json not a tool call": (
        JSON,
        ["{", '"name": "search", ', '"arguments": {', '"query": "What is the capital of Canada?"', "}", "}"],
        '{"name": "search", "arguments": {"query": "What is the capital of Canada?"}}',
        [],
    ),
    "json object followed by tool call": (
        JSON,
        ['{"name": "jeff"}', '{"name": "get_conditions", "arguments": {"location": "San Francisco"}}'],
        '{"name": "jeff"}{"name": "get_conditions", "arguments": {"location": "San Francisco"}}',
        [],
    ),
    "json object followed by tool call split": (
        JSON,
        ['{"name": "jeff"} {', '"name": "get_conditions", "arguments": {"location": "San Francisco"}}'],
        '{"name": "jeff"} {"name": "get_conditions", "arguments": {"location": "San Francisco"}}',
        [],
    ),
    "json code": (JSON, ['for { fmt.Println("hello") }'], 'for { fmt.Println("hello") }', []),
    "list multiple": (
        LIST,
        [
            "[",
            "{",
            '"name": "get_temperature", ',
            '"arguments": {',
            '"city": "London"',
            "}",
            "},",
            "{",
            '"name": "get_conditions", ',
            '"arguments": {',
            '"location": "Tokyo"',
            "}",
            "}]",
        ],
        "",
        [("get_temperature", {"city": "London"}), COND_TOKYO],
    ),
    "list partial": (
        LIST,
        ["[{", '"name": "get_conditions", ', '"arguments": {', '"location": "Tokyo"', "}", "}"],
        "",
        [COND_TOKYO],
    ),
    "list invalid": (
        LIST,
        ["[", "{", '"name": "search", ', '"arguments": {', '"query": "What is the capital of Canada?"', "}", "}"],
        "",
        [],
    ),
    "list trailing ]": (
        LIST,
        ["[", "{", '"name": "get_conditions", ', '"arguments": {', '"location": "Tokyo"', "}", "}", "]", "]"],
        "",
        [COND_TOKYO],
    ),
    "list not a tool call": (LIST, ["[special", " del", "ivery]"], "[special delivery]", []),
    "tool name with collision": (
        QWEN,
        ["<tool_call>", "{", '"name": "say_hello', '_world",', '"arguments": {}}', "}"],
        "",
        [("say_hello_world", {})],
    ),
    "tool name with collision multiple": (
        QWEN,
        [
            "<tool_call>",
            "{",
            '"name": "say_hello',
            '_world",',
            '"arguments": {}}',
            "</tool_call>",
            "<tool_call>",
            "{",
            '"name": "say_hello',
            '",',
            '"arguments": {}}',
            "</tool_call>",
        ],
        "",
        [("say_hello_world", {}), ("say_hello", {})],
    ),
    "tool name with collision non streaming": (QWEN, ['<tool_call>{"name": "say_hello'], "", []),
    "tool name with collision non streaming multiple": (
        QWEN,
        [
            '<tool_call>{"name": "say_hello", "arguments": {}}</tool_call>'
            '<tool_call>{"name": "say_hello_world", "arguments": {}}'
        ],
        "",
        [("say_hello", {}), ("say_hello_world", {})],
    ),
    "tool name with collision non streaming shorter": (
        QWEN,
        ['<tool_call>{"name": "say_hello", "arguments": {}}</tool_call>'],
        "",
        [("say_hello", {})],
    ),
    "tool name with collision non streaming longer": (
        QWEN,
        ['<tool_call>{"name": "say_hello_world", "arguments": {}}</tool_call>'],
        "",
        [("say_hello_world", {})],
    ),
    "tool name with substring of another": (
        JSON,
        ["{", '"name": "get_address",', '"arguments": {', '"location": "London"', "}", "}"],
        "",
        [("get_address", {"location": "London"})],
    ),
    "tool name with substring of another (qwen)": (
        QWEN,
        ['<tool_call>{"name": "get_address", "arguments": {"location": "London"}}</tool_call>'],
        "",
        [("get_address", {"location": "London"})],
    ),
    "args before name": (
        QWEN,
        ['<tool_call>{"arguments": {"a": "5", "b": "10"}, "name": "add"}</tool_call>'],
        "",
        [("add", {"a": "5", "b": "10"})],
    ),
}


@pytest.mark.parametrize(("tag", "chunks", "content", "calls"), OLLAMA_CASES.values(), ids=OLLAMA_CASES.keys())
def test_ollama_cases(tag: str, chunks: list[str], content: str, calls: Calls) -> None:
    got_content, got_calls, indexes = run(tag, chunks)
    assert got_content == content
    assert got_calls == calls
    assert indexes == list(range(len(calls)))


# What pollama adds: the end of the stream gives back what is not a call, and the bare-object form.
FLUSH_CASES: dict[str, tuple[str, list[str], str, Calls]] = {
    "unfinished call after a wrapper tag comes back as text": (
        QWEN,
        ['<tool_call>{"name": "say_hello'],
        '<tool_call>{"name": "say_hello',
        [],
    ),
    "unknown tool after a wrapper tag is content": (
        QWEN,
        ['<tool_call>\n{"name": "search", "arguments": {"q": "x"}}\n</tool_call>'],
        '<tool_call>\n{"name": "search", "arguments": {"q": "x"}}\n</tool_call>',
        [],
    ),
    "malformed JSON is content": (
        QWEN,
        ['<tool_call>\n{"name": "get_conditions", "arguments": {"location": }}\n</tool_call>'],
        '<tool_call>\n{"name": "get_conditions", "arguments": {"location": }}\n</tool_call>',
        [],
    ),
    "unfinished JSON-only answer is content": (
        LIST,
        ["[", '{"name": "search", ', '"arguments": {'],
        '[{"name": "search", "arguments": {',
        [],
    ),
    "partial tag at the end is content": (QWEN, ["See <tool_c"], "See <tool_c", []),
    "text after the calls without the markup": (
        QWEN,
        ['<tool_call>\n{"name": "say_hello", "arguments": {}}\n</tool_call>\nI said hello.'],
        "I said hello.",
        [("say_hello", {})],
    ),
    "only markup after the calls": (
        MISTRAL,
        ['[TOOL_CALLS] [{"name": "say_hello", "arguments": {}}]'],
        "",
        [("say_hello", {})],
    ),
    "text after a list of calls": (
        MISTRAL,
        ['[TOOL_CALLS] [{"name": "say_hello", "arguments": {}}]\nDone [1].'],
        "Done [1].",
        [("say_hello", {})],
    ),
    "control tokens after the call are markup": (
        DEEPSEEK,
        [
            "<|tool▁calls▁begin|><|tool▁call▁begin|>function<|tool▁sep|>get_temperature\n"
            '```json\n{"city": "Tokyo"}\n```<|tool▁call▁end|><|tool▁calls▁end|><｜end▁of▁sentence｜>'
        ],
        "",
        [("get_temperature", {"city": "Tokyo"})],
    ),
    "bare object under a wrapper tag": (
        QWEN,
        ['\n{"name": "get_conditions", "arguments": {"location": "Paris"}}'],
        "",
        [("get_conditions", {"location": "Paris"})],
    ),
    "several bare objects": (
        QWEN,
        ['{"name": "say_hello", "arguments": {}}\n{"name": "add", "arguments": {"a": "1", "b": "2"}}'],
        "",
        [("say_hello", {}), ("add", {"a": "1", "b": "2"})],
    ),
    "bare object then a tagged call": (
        QWEN,
        [
            '{"name": "say_hello", "arguments": {}}\n'
            '<tool_call>\n{"name": "say_hello_world", "arguments": {}}\n</tool_call>'
        ],
        "",
        [("say_hello", {}), ("say_hello_world", {})],
    ),
    "bare object naming no tool is content": (
        QWEN,
        ['{"name": "search", "arguments": {"query": "say_hello"}}'],
        '{"name": "search", "arguments": {"query": "say_hello"}}',
        [],
    ),
    "bare object whose name only contains a tool name is content": (
        QWEN,
        ['{"name": "say_hello_everyone", "arguments": {}} ok'],
        '{"name": "say_hello_everyone", "arguments": {}} ok',
        [],
    ),
    "bare object not at the start is content": (
        QWEN,
        ['Call: {"name": "say_hello", "arguments": {}}'],
        'Call: {"name": "say_hello", "arguments": {}}',
        [],
    ),
    "bare JSON answer then a real call": (
        QWEN,
        ['{"a": 1}\n<tool_call>{"name": "say_hello", "arguments": {}}</tool_call>'],
        '{"a": 1}\n',
        [("say_hello", {})],
    ),
    "call without arguments (Ollama's TODO)": (
        QWEN,
        ['<tool_call>{"name": "say_hello"}</tool_call>'],
        "",
        [("say_hello", {})],
    ),
    "unusable arguments are not a call": (
        QWEN,
        ['<tool_call>{"name": "add", "arguments": "a=1"}</tool_call>'],
        '<tool_call>{"name": "add", "arguments": "a=1"}</tool_call>',
        [],
    ),
    "arguments as a JSON string": (
        QWEN,
        ['<tool_call>{"name": "add", "arguments": "{\\"b\\": \\"2\\", \\"a\\": \\"1\\"}"}</tool_call>'],
        "",
        [("add", {"b": "2", "a": "1"})],
    ),
    "key named after the tool": (
        JSON,
        ['{"get_conditions": {"location": "Oslo"}}'],
        "",
        [("get_conditions", {"location": "Oslo"})],
    ),
    "OpenAI-style nesting": (
        JSON,
        ['{"type": "function", "function": {"name": "get_conditions", "arguments": {"location": "Oslo"}}}'],
        "",
        [("get_conditions", {"location": "Oslo"})],
    ),
    "Llama 3.1 python tag": (
        JSON,
        ["<|python", '_tag|>{"name": "get_conditions", "parameters": {"location": "Oslo"}}'],
        "",
        [("get_conditions", {"location": "Oslo"})],
    ),
    "python tag with built-in tool code is content": (
        JSON,
        ['<|python_tag|>brave_search.call(query="x")'],
        '<|python_tag|>brave_search.call(query="x")',
        [],
    ),
    "NaN is not JSON": (
        QWEN,
        ['<tool_call>{"name": "add", "arguments": {"a": NaN}}</tool_call>'],
        '<tool_call>{"name": "add", "arguments": {"a": NaN}}</tool_call>',
        [],
    ),
    "unicode arguments": (
        QWEN,
        ['<tool_call>{"name": "get_conditions", "arguments": {"location": "Zürich 東京 🌧"}}</tool_call>'],
        "",
        [("get_conditions", {"location": "Zürich 東京 🌧"})],
    ),
    "braces and escapes inside strings": (
        JSON,
        ['{"name": "add", "arguments": {"a": "}{\\"", "b": "\\\\"}}'],
        "",
        [("add", {"a": '}{"', "b": "\\"})],
    ),
}


@pytest.mark.parametrize(("tag", "chunks", "content", "calls"), FLUSH_CASES.values(), ids=FLUSH_CASES.keys())
def test_pollama_cases(tag: str, chunks: list[str], content: str, calls: Calls) -> None:
    got_content, got_calls, indexes = run(tag, chunks, flush=True)
    assert got_content == content
    assert got_calls == calls
    assert indexes == list(range(len(calls)))


@pytest.mark.parametrize(("tag", "chunks", "content", "calls"), FLUSH_CASES.values(), ids=FLUSH_CASES.keys())
def test_pollama_cases_one_character_at_a_time(tag: str, chunks: list[str], content: str, calls: Calls) -> None:
    got_content, got_calls, _ = run(tag, list("".join(chunks)), flush=True)
    assert (got_content, got_calls) == (content, calls)


def test_arguments_keep_the_models_key_order() -> None:
    _, calls, _ = run(
        QWEN,
        [
            '<tool_call>{"name": "get_temperature", '
            '"arguments": {"format": "celsius", "city": "Rome", "z": {"y": 1, "x": 2}}}'
        ],
    )
    args = calls[0][1]
    assert list(args) == ["format", "city", "z"]
    assert json.dumps(args) == '{"format": "celsius", "city": "Rome", "z": {"y": 1, "x": 2}}'


def test_wrapper_tag_streams_text_before_the_call() -> None:
    parser = ToolCallParser(TOOLS, QWEN)
    assert parser.add("Let me ") == ([], "Let me ")
    assert parser.add("check <tool") == ([], "check ")
    assert parser.add("_call>") == ([], "")
    calls, content = parser.add('{"name": "say_hello", "arguments": {}}')
    assert content == "" and [c.function.name for c in calls] == ["say_hello"]


def test_json_tag_gives_up_on_prose_at_once() -> None:
    parser = ToolCallParser(TOOLS, JSON)
    assert parser.add("\n") == ([], "\n")
    assert parser.add("Hello") == ([], "Hello")
    assert parser.add(' {"name": "say_hello"}') == ([], ' {"name": "say_hello"}')


def test_a_finished_call_is_not_held_by_a_partial_name_behind_it() -> None:
    """Ollama waits on any partial tool name at the end of the buffer; a later `{` would then see balanced braces
    and hand the finished call out as content. Only a partial name that could change the match waits."""
    parser = ToolCallParser(TOOLS, JSON)
    calls, content = parser.add('{"name": "say_hello", "arguments": {}}\n{"name": "say')
    assert [c.function.name for c in calls] == ["say_hello"] and content == ""
    calls, content = parser.add('_hello_world", "arguments": {}}')
    assert [c.function.name for c in calls] == ["say_hello_world"] and content == ""


def test_tool_names_from_raw_request_tools() -> None:
    raw: list[dict[str, Any]] = [
        {"type": "function", "function": {"name": "a"}},
        {"type": "function", "function": {"name": ""}},
        {"type": "function", "function": "bad"},
        {"type": "function"},
        {"type": "function", "function": {"name": "a"}},
        {"type": "function", "function": {"name": "b"}},
    ]
    assert tool_names(raw) == ["a", "b"]
