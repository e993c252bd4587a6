"""Lazy grammars: tool calls that always name a given tool with arguments that validate, and a ``format``
grammar that starts after the thinking block.

A lazy grammar is inactive until a trigger pattern matches the text generated so far (llama.cpp's
``llama_sampler_init_grammar_lazy_patterns``). llama.cpp then feeds the grammar the text from the pattern's
first non-empty capture group (or the whole match) to the end of the buffer, and constrains every token after.
If that replayed text does not fit the grammar llama.cpp throws from inside the sampler, which would kill the
runner; so every trigger here is anchored at the end of the buffer (``$``) and only matches when the text from
its group on is a prefix the grammar accepts. A buffer that has gone past such a prefix never triggers.

Trigger conventions (what the runner must do): pass ``gbnf`` with root rule ``root`` and every pattern of
``triggers`` as a trigger pattern (no trigger tokens).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pollama.grammar.gbnf import SPACE, SPACE_REGEX, Rules, generic_json, literal, rename_rule, rule_names
from pollama.grammar.keywords import SchemaError
from pollama.grammar.schema import SchemaCompiler

__all__ = ["ARGUMENT_KEYS", "LazyGrammar", "lazy_format_grammar", "tool_call_grammar"]

# The keys a call may hold its arguments under: Qwen, Mistral and most templates write "arguments", Llama 3's
# JSON tool calls "parameters"; Ollama's parser reads either.
ARGUMENT_KEYS = ("arguments", "parameters")
# Whitespace allowed between a closing thinking tag and the answer.
_AFTER_TAG_SPACE = "[ \\t\\r\\n]{0,16}"
_AFTER_TAG_SPACE_REGEX = r"[ \t\r\n]{0,16}"


@dataclass(frozen=True)
class LazyGrammar:
    """A GBNF grammar (root rule ``root``) that applies once one of ``triggers`` (ECMAScript regexes, llama.cpp
    trigger-pattern semantics) matches the output so far."""

    gbnf: str
    triggers: tuple[str, ...]


def _regex_escape(text: str) -> str:
    """llama.cpp's regex_escape: the characters special to ECMAScript regexes, backslashed."""
    return re.sub(r"([.^$|()*+?\[\]{}\\])", r"\\\1", text)


def _prefix_closure(atoms: Sequence[str]) -> str:
    """A regex matching every prefix of the concatenation of ``atoms`` (each atom a regex whose own prefixes
    it also matches: a single character, or a whitespace run)."""
    out = ""
    for atom in reversed(atoms):
        out = f"{atom}(?:{out})?" if out else atom
    return out


def _chars(text: str) -> list[str]:
    return [_regex_escape(c) for c in text]


@dataclass(frozen=True)
class _Tool:
    name: str
    parameters: Any


def _tools(tools: Sequence[Mapping[str, Any]]) -> list[_Tool]:
    out: list[_Tool] = []
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str) or not fn["name"]:
            continue
        out.append(_Tool(fn["name"], fn.get("parameters")))
    return out


def _call_prefix_atoms(name: str, key: str) -> list[str]:
    """The start of a call object up to its arguments' opening brace, as regex atoms (``{"name": "x",
    "arguments": {``) with the grammar's whitespace between tokens."""
    ws = SPACE_REGEX
    name_json = json.dumps(name, ensure_ascii=False)
    return [
        r"\{",
        ws,
        *_chars('"name"'),
        ws,
        ":",
        ws,
        *_chars(name_json),
        ws,
        ",",
        ws,
        *_chars(f'"{key}"'),
        ws,
        ":",
        ws,
        r"\{",
    ]


def _call_prefixes(tools: list[_Tool]) -> str:
    """A regex for every non-empty prefix of every call object's start, for any tool and arguments key; the
    sequences share their common starts (a trie) so that the pattern stays short with many tools."""
    trie: dict[str, Any] = {}
    for tool in tools:
        for key in ARGUMENT_KEYS:
            node = trie
            for atom in _call_prefix_atoms(tool.name, key):
                node = node.setdefault(atom, {})

    def emit(node: dict[str, Any]) -> str:
        alts = [f"{atom}(?:{emit(child)})?" if child else atom for atom, child in node.items()]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return f"(?:{emit(trie)})"


def _arguments_rule(rules: Rules, tool: _Tool, index: int) -> str:
    """The rule for one tool's arguments: its parameters schema, or any object when the schema is missing,
    not an object schema, or beyond the compiler."""
    params = tool.parameters
    if isinstance(params, Mapping) and params.get("type", "object") == "object" and params:
        trial = Rules()
        try:
            SchemaCompiler(params, trial, prefix="probe").compile()
        except (SchemaError, RecursionError):
            pass
        else:
            return SchemaCompiler(params, rules, prefix=f"tool{index}-args").compile()
    generic_json(rules)
    return "object"


def _call_rule(rules: Rules, tools: list[_Tool]) -> str:
    sp = rules.add("space", SPACE)
    keys = "(" + " | ".join(literal(f'"{k}"') for k in ARGUMENT_KEYS) + ")"
    alts = []
    for i, tool in enumerate(tools):
        args = _arguments_rule(rules, tool, i)
        name = literal(json.dumps(tool.name, ensure_ascii=False))
        alts.append(
            rules.add(
                f"tool{i}-call",
                f'"{{" {sp} "\\"name\\"" {sp} ":" {sp} {name} {sp} "," {sp} {keys} {sp} ":" {sp} {args} {sp} "}}"',
            )
        )
    return rules.add("call", " | ".join(alts))


def tool_call_grammar(
    tools: Sequence[Mapping[str, Any]], *, tag: str, bare: bool = True, single: bool = False
) -> LazyGrammar:
    """The lazy grammar of one or more calls of ``tools`` (the request's raw tool dicts), in the form the
    model's tool-call ``tag`` implies:

    - ``"{"`` (JSON-only templates, Llama 3): call objects ``{"name": ..., "arguments"|"parameters": {...}}``,
      one or more separated by whitespace or ``;``, triggered by an object at the very start of the output;
    - ``"[TOOL_CALLS]"`` (Mistral): the tag and a JSON list of call objects, triggered by the tag, or a bare list
      or object at the start of the output;
    - any other tag (``<tool_call>`` for Qwen, Hermes): ``tag call closing-tag`` blocks (the closing tag is the
      tag with ``</`` for an XML-like ``<x>``, otherwise none), triggered by the tag, or bare call objects at
      the start of the output.

    With ``bare`` false the bare forms of the tagged kinds (a list or object at the start) are left out: only the
    tag starts a call. With ``single`` exactly one call is allowed (OpenAI's named ``tool_choice``, or
    ``parallel_tool_calls: false``). A tool whose parameters schema the compiler refuses takes any JSON object as
    arguments."""
    known = _tools(tools)
    if not known:
        raise ValueError("no tool has a function name")
    rules = Rules()
    root = rules.fresh("root")
    sp = rules.add("space", SPACE)
    call = _call_rule(rules, known)
    prefixes = _call_prefixes(known)

    # A single call ends the output, with no whitespace after it either, so that only end-of-generation can
    # follow (a small model forced into a call otherwise pads with whitespace up to the limit).
    tail = "" if single else f" {sp}"

    def repeated(item: str, sep: str) -> str:
        return item if single else f"{item} ({sep} {item})*"

    bare_calls = repeated(call, f'{sp} ";"? {sp}') + tail
    bare_trigger = rf"^\s*({prefixes})$"
    if tag == "{":
        rules.define(root, bare_calls)
        return LazyGrammar(rules.render(), (bare_trigger,))
    if tag == "[TOOL_CALLS]":
        comma = f'{sp} "," {sp}'
        lst = f'"[" {sp} {repeated(call, comma)} {sp} "]"'
        tagged = f"({_regex_escape(tag)}{SPACE_REGEX}(?:\\[{SPACE_REGEX}{prefixes}?)?)$"
        if not bare:
            rules.define(root, f"{literal(tag)} {sp} {lst}{tail}")
            return LazyGrammar(rules.render(), (tagged,))
        rules.define(root, f"{literal(tag)} {sp} {lst}{tail} | {lst}{tail} | {bare_calls}")
        return LazyGrammar(rules.render(), (tagged, rf"^\s*(\[{SPACE_REGEX}{prefixes})$", bare_trigger))
    closing = "</" + tag[1:] if re.fullmatch(r"<[A-Za-z_][\w.-]*>", tag) else ""
    block = f"{literal(tag)} {sp} {call} {sp}" + (f" {literal(closing)}" if closing else "")
    tagged = f"({_regex_escape(tag)}(?:{SPACE_REGEX}{prefixes}?)?)$"
    if not bare:
        rules.define(root, repeated(block, sp) + tail)
        return LazyGrammar(rules.render(), (tagged,))
    rules.define(root, f"{repeated(block, sp)}{tail} | {bare_calls}")
    return LazyGrammar(rules.render(), (tagged, bare_trigger))


def lazy_format_grammar(schema_gbnf: str, *, after: str) -> LazyGrammar:
    """``schema_gbnf`` (a ``compile_format`` grammar) applied only to the text after the first ``after`` (a
    closing thinking tag such as ``</think>``): the thinking stays free, the answer is constrained."""
    names = rule_names(schema_gbnf)
    answer = "answer"
    n = 1
    while answer in names:
        answer, n = f"answer{n}", n + 1
    body = rename_rule(schema_gbnf, "root", answer)
    gbnf = f"root ::= {literal(after)} {_AFTER_TAG_SPACE} {answer}\n{body}"
    return LazyGrammar(gbnf, (f"({_regex_escape(after)}{_AFTER_TAG_SPACE_REGEX})$",))
