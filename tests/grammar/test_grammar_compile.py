"""The grammar compiler in process: the format values Ollama accepts and refuses, the refusal of every schema
keyword the grammar cannot enforce (naming it and where it is), and the shape of the generated GBNF.

What the grammars mean is checked through llama.cpp's engine in test_grammar_llamacpp.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pollama.errors import BadRequest
from pollama.grammar import JSON_GRAMMAR, compile_format, lazy_format_grammar, tool_call_grammar
from pollama.grammar.gbnf import Rules, rename_rule, repeat
from pollama.grammar.regex import PatternError, pattern_to_gbnf


@pytest.mark.parametrize("value", [None, ""])
def test_no_format_means_no_grammar(value: Any) -> None:
    assert compile_format(value) is None


def test_an_empty_schema_is_any_value() -> None:
    gbnf = compile_format({})
    assert gbnf is not None and re.search(r"^root ::= value$", gbnf, re.M)


def test_json_format_is_any_object() -> None:
    assert compile_format("json") == JSON_GRAMMAR
    assert re.search(r"^root ::= object$", JSON_GRAMMAR, re.M)


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        ("xml", '"\\"xml\\""'),
        ("JSON", '"\\"JSON\\""'),
        (123, '"123"'),
        ([1, "a"], '"[1,\\"a\\"]"'),
        (True, '"true"'),
    ],
)
def test_other_formats_get_ollamas_error(value: Any, raw: str) -> None:
    with pytest.raises(BadRequest) as e:
        compile_format(value)
    assert e.value.message == f'invalid format: {raw}; expected "json" or a valid JSON Schema object'


@pytest.mark.parametrize(
    ("schema", "keyword", "pointer"),
    [
        ({"not": {"type": "string"}}, "not", "#/not"),
        ({"type": "array", "uniqueItems": True}, "uniqueItems", "#/uniqueItems"),
        ({"type": "number", "multipleOf": 2}, "multipleOf", "#/multipleOf"),
        ({"type": "object", "patternProperties": {"^a": {}}}, "patternProperties", "#/patternProperties"),
        ({"if": {}, "then": {}, "else": {}}, "if", "#/if"),
        ({"type": "object", "minProperties": 1}, "minProperties", "#/minProperties"),
        ({"type": "array", "contains": {"type": "string"}}, "contains", "#/contains"),
        ({"type": "object", "propertyNames": {"pattern": "^a"}}, "propertyNames", "#/propertyNames"),
        ({"type": "object", "dependentRequired": {"a": ["b"]}}, "dependentRequired", "#/dependentRequired"),
        ({"type": "object", "unevaluatedProperties": False}, "unevaluatedProperties", "#/unevaluatedProperties"),
        (
            {"type": "object", "properties": {"a": {"type": "array", "items": {"not": {}}}}},
            "not",
            "#/properties/a/items/not",
        ),
        ({"$ref": "https://example.com/schema.json"}, "local reference", "#/$ref"),
        ({"$ref": "#/$defs/missing"}, "points to nothing", "#/$ref"),
        ({"$ref": "#anchor"}, "anchors", "#/$ref"),
        ({"type": "string", "format": "ipv6"}, 'format "ipv6"', "#/format"),
        ({"type": "string", "pattern": "(?=a)b"}, "lookaround", "#/pattern"),
        ({"type": "string", "pattern": "(a)\\1"}, "\\1", "#/pattern"),
        ({"type": "string", "pattern": "\\bword\\b"}, "\\b", "#/pattern"),
        ({"type": "string", "pattern": "a^b"}, "'^'", "#/pattern"),
        ({"type": "string", "pattern": "\\p{L}"}, "\\p", "#/pattern"),
        ({"type": "string", "pattern": "[a-"}, "missing ']'", "#/pattern"),
        ({"type": "string", "pattern": "^a$", "maxLength": 3}, "maxLength", "#/maxLength"),
        ({"type": "string", "format": "date", "minLength": 3}, "minLength", "#/minLength"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "maxLength", "#/maxLength"),
        ({"type": "integer", "minimum": 3, "maximum": 2}, "no integer", "#"),
        ({"type": "integer", "exclusiveMinimum": 2, "exclusiveMaximum": 3}, "no integer", "#"),
        ({"type": "number", "minimum": 1, "exclusiveMaximum": 1}, "no number", "#"),
        ({"type": "number", "maximum": 1e45}, "more than 40 digits", "#/maximum"),
        ({"type": "number", "minimum": 1e-41}, "more than 40 digits", "#/minimum"),
        ({"type": "integer", "minimum": "1"}, "must be a number", "#/minimum"),
        ({"type": "strin"}, '"type" must be one of', "#/type"),
        ({"enum": []}, '"enum" must be a non-empty array', "#/enum"),
        ({"type": "string", "enum": [1, 2]}, "no value of the schema's type", "#/enum"),
        ({"type": "string", "const": 1}, '"const"', "#/const"),
        ({"anyOf": []}, "non-empty array", "#/anyOf"),
        ({"anyOf": [{}], "oneOf": [{}]}, "together", "#/oneOf"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "nothing in common", "#/allOf/1/type"),
        ({"allOf": [{"pattern": "a"}, {"pattern": "b"}]}, '"pattern"', "#/allOf/1/pattern"),
        (
            {"allOf": [{"properties": {"a": {}}, "additionalProperties": False}, {"required": ["b"]}]},
            'required property "b"',
            "#/allOf/0/additionalProperties",
        ),
        ({"type": "object", "required": ["x"], "additionalProperties": False}, 'required property "x"', "#/required"),
        ({"type": "array", "prefixItems": [{}], "items": False, "minItems": 2}, "minItems", "#/minItems"),
        ({"type": "object", "properties": {"a": False}, "required": ["a"]}, "false accepts no value", "#/properties/a"),
        ({"type": "array", "minItems": -1}, "non-negative integer", "#/minItems"),
        ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, '"oneOf" branches 0 and 1', "#/oneOf/1"),
        (
            {"oneOf": [{"type": "string"}, {"type": "object"}, {"type": "object", "properties": {"a": {}}}]},
            '"oneOf" branches 1 and 2',
            "#/oneOf/2",
        ),
        ({"oneOf": [{"enum": [1, 2]}, {"enum": [2, 3]}]}, 'use "anyOf"', "#/oneOf/1"),
        ({"enum": ["a", "bb"], "maxLength": 1}, '"maxLength" together with "enum"', "#/maxLength"),
        ({"const": 5, "minimum": 6}, '"minimum" together with "const"', "#/minimum"),
    ],
)
def test_unenforceable_schemas_are_refused_by_keyword_and_pointer(
    schema: dict[str, Any], keyword: str, pointer: str
) -> None:
    with pytest.raises(BadRequest) as e:
        compile_format(schema)
    assert e.value.message.startswith("invalid format: JSON Schema not supported: ")
    assert keyword in e.value.message
    assert e.value.message.endswith(f"(at {pointer})")


def test_annotations_and_unknown_keywords_are_ignored() -> None:
    plain = compile_format({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})
    annotated = compile_format(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.com/x",
            "title": "T",
            "description": "D",
            "$comment": "c",
            "x-vendor": {"anything": True},
            "type": "object",
            "properties": {
                "a": {"type": "string", "description": "d", "examples": ["e"], "default": "x", "readOnly": True}
            },
            "required": ["a"],
        }
    )
    assert plain == annotated


@pytest.mark.parametrize(
    "branches",
    [
        [{"type": "string"}, {"type": "null"}],
        [{"const": "a"}, {"const": "b"}],
        [{"enum": [1, 2]}, {"type": "string"}],
        [
            {"type": "object", "properties": {"kind": {"const": "a"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"const": "b"}, "n": {}}, "required": ["kind"]},
        ],
        [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ],
        [{"$ref": "#/$defs/s"}, {"type": "integer"}],
    ],
)
def test_one_of_with_exclusive_branches_compiles(branches: list[Any]) -> None:
    assert compile_format({"$defs": {"s": {"type": "string"}}, "oneOf": branches}) is not None


def test_a_deeply_nested_schema_is_refused_not_crashed() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(2000):
        schema = {"type": "array", "items": schema}
    with pytest.raises(BadRequest):
        compile_format(schema)


def test_properties_keep_the_schemas_order() -> None:
    gbnf = compile_format(
        {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}}, "required": []}
    )
    assert gbnf is not None
    assert gbnf.index('"\\"zeta\\""') < gbnf.index('"\\"alpha\\""')


def test_every_rule_referenced_is_defined() -> None:
    gbnf = compile_format(
        {
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time"},
                "mail": {"type": "string", "format": "email"},
                "ip": {"type": "string", "format": "ipv4"},
                "link": {"type": "string", "format": "uri"},
                "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"},
                "n": {"type": "number", "minimum": -1.5, "exclusiveMaximum": 2.25},
            },
        }
    )
    assert gbnf is not None
    defined = set(re.findall(r"^([a-zA-Z0-9-]+) ::=", gbnf, re.M))
    body = re.sub(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]', " ", gbnf)
    used = set(re.findall(r"(?<![a-zA-Z0-9-])([a-zA-Z][a-zA-Z0-9-]*)(?![a-zA-Z0-9-]*\s*::=)", body))
    assert used <= defined


def test_repetition_past_llamacpps_limit_is_split_into_chunks() -> None:
    rules = Rules()
    assert repeat(rules, "x", 0, 2000) == "x{0,2000}"
    expr = repeat(rules, "x", 2500, 5200)
    assert "{2500" not in expr and "5200" not in expr
    assert all(int(n) <= 2000 for n in re.findall(r"(\d+)", expr + rules.render()))


def test_rename_rule_leaves_literals_and_classes_alone() -> None:
    gbnf = 'root ::= "root" [root] x\nx ::= root | "\\"root\\""\n'
    assert rename_rule(gbnf, "root", "answer") == 'answer ::= "root" [root] x\nx ::= answer | "\\"root\\""\n'


@pytest.mark.parametrize("pattern", ["(?i)a", "a{2,1}", "*a", "(a", "a)", "\\k<x>", "a++"])
def test_patterns_beyond_the_subset_raise(pattern: str) -> None:
    with pytest.raises(PatternError):
        pattern_to_gbnf(pattern, Rules())


def test_lazy_format_grammar_puts_the_tag_before_the_schema_root() -> None:
    schema = compile_format({"type": "object", "properties": {"root": {"$ref": "#"}}})
    assert schema is not None
    lazy = lazy_format_grammar(schema, after="</think>")
    assert lazy.gbnf.startswith('root ::= "</think>" [ \\t\\r\\n]{0,16} answer\n')
    assert "answer ::= " in lazy.gbnf and '"\\"root\\""' in lazy.gbnf
    assert lazy.triggers == ("(</think>[ \\t\\r\\n]{0,16})$",)


def test_tool_call_grammar_triggers_per_tag_form() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    qwen = tool_call_grammar(tools, tag="<tool_call>")
    assert len(qwen.triggers) == 2
    assert qwen.triggers[0].startswith("(<tool_call>") and qwen.triggers[0].endswith(")$")
    assert qwen.triggers[1].startswith("^\\s*(") and qwen.triggers[1].endswith(")$")
    assert '"</tool_call>"' in qwen.gbnf
    mistral = tool_call_grammar(tools, tag="[TOOL_CALLS]")
    assert mistral.triggers[0].startswith("(\\[TOOL_CALLS\\]")
    assert len(mistral.triggers) == 3
    assert '"</|python_tag|>"' not in tool_call_grammar(tools, tag="<|python_tag|>").gbnf
    bare = tool_call_grammar(tools, tag="{")
    assert len(bare.triggers) == 1 and bare.triggers[0].startswith("^\\s*(")


def test_tool_call_grammar_needs_a_named_tool() -> None:
    with pytest.raises(ValueError):
        tool_call_grammar([{"type": "function", "function": {"description": "no name"}}], tag="<tool_call>")
