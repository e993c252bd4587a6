"""Grammars that constrain sampling, compiled in the server and sent to the runner as GBNF text.

- ``compile_format``: a request's ``format`` (``"json"`` or a JSON Schema) to GBNF, or ``BadRequest``.
- ``tool_call_grammar``: a lazy grammar so that tool calls name a given tool with valid arguments.
- ``lazy_format_grammar``: a ``format`` grammar that starts after the closing thinking tag.

Pure Python: the server never imports llama.cpp. The grammar engine is llama.cpp's own GBNF sampler, so what is
written here is what the runner enforces (tests/grammar check the grammars through it).
"""

from __future__ import annotations

import json
from typing import Any

from pollama.errors import BadRequest
from pollama.grammar.gbnf import Rules, generic_json
from pollama.grammar.keywords import SchemaError
from pollama.grammar.schema import compile_schema
from pollama.grammar.tools import LazyGrammar, lazy_format_grammar, tool_call_grammar

__all__ = [
    "JSON_GRAMMAR",
    "LazyGrammar",
    "SchemaError",
    "compile_format",
    "lazy_format_grammar",
    "tool_call_grammar",
]


def _json_object_grammar() -> str:
    rules = Rules()
    root = rules.fresh("root")
    generic_json(rules)
    rules.define(root, "object")
    return rules.render()


# format "json": any JSON object, as Ollama's grammar for it (root ::= object), with bounded whitespace.
JSON_GRAMMAR = _json_object_grammar()


def _go_quote(s: str) -> str:
    """Go's %q of a string (strconv.Quote), as Ollama prints the raw format in its error."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out) + '"'


def invalid_format(raw: str) -> BadRequest:
    """Ollama's error for a ``format`` that is neither "json" nor an object; ``raw`` is the JSON text sent."""
    return BadRequest(f'invalid format: {_go_quote(raw)}; expected "json" or a valid JSON Schema object')


def compile_format(format: Any) -> str | None:
    """The GBNF grammar (root rule ``root``) for a request's decoded ``format`` value, or None when there is no
    format (absent, JSON null, ""). ``"json"`` is any JSON object; an object is a JSON Schema. Raises
    ``BadRequest`` for anything else (Ollama's message), and for a schema the grammar cannot enforce (the
    keyword and where it is)."""
    if format is None or format == "":
        return None
    if format == "json":
        return JSON_GRAMMAR
    if not isinstance(format, dict):
        raw = json.dumps(format, ensure_ascii=False, separators=(",", ":"))
        raise invalid_format(raw)
    try:
        return compile_schema(format)
    except SchemaError as e:
        raise BadRequest(f"invalid format: JSON Schema not supported: {e.reason} (at {e.pointer})") from None
    except RecursionError:
        raise BadRequest("invalid format: JSON Schema not supported: nested too deeply") from None
