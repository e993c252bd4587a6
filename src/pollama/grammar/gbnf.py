"""GBNF building blocks: literals, character classes, bounded repetition, a rule set, and the JSON primitives
every grammar here shares.

The text produced is llama.cpp's GBNF dialect (``llama-grammar.cpp``). Two limits of its parser shape what we
emit: a repetition bound above ``MAX_REPETITION`` is silently turned into an unbounded one, and a minimum above
it is a parse error, so ``repeat`` splits large bounds into nested rules instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "JSON_CHAR",
    "MAX_DIGITS",
    "MAX_REPETITION",
    "SPACE",
    "SPACE_REGEX",
    "Rules",
    "char_class",
    "generic_json",
    "group",
    "literal",
    "rename_rule",
    "repeat",
]

# Unbounded integers are capped at this many digits (as llama.cpp's integral-part): a model cannot emit digits
# forever.
MAX_DIGITS = 16
# llama-grammar.cpp's MAX_REPETITION_THRESHOLD.
MAX_REPETITION = 2000

# Optional whitespace between JSON tokens, as llama.cpp's json_schema_to_grammar: a model may break lines and
# indent, but cannot emit whitespace forever (the one loop a JSON grammar otherwise leaves open).
SPACE = '| " " | "\\n"{1,2} [ \\t]{0,20}'
# The same language as an ECMAScript regex (for lazy-grammar trigger patterns).
SPACE_REGEX = r"(?: |\n{1,2}[ \t]{0,20})?"

# One character of a JSON string, as the JSON text spells it: any raw character but the quote, the backslash
# and controls, or an escape. ``\u`` escapes of UTF-16 surrogates are left out so that every ``char`` is
# exactly one code point of the decoded string (minLength/maxLength count code points).
JSON_CHAR = (
    r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" '
    r"([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))"
)

_RULE_NAME = re.compile(r"[^a-zA-Z0-9-]+")


def _escape_char(ch: str, *, in_class: bool) -> str:
    o = ord(ch)
    if ch == "\\":
        return "\\\\"
    if ch == '"' and not in_class:
        return '\\"'
    if in_class and ch in "]-[":
        return "\\" + ch
    if in_class and ch == "^":
        return "\\x5E"  # GBNF has no \^ escape
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    if o < 0x20 or o == 0x7F:
        return f"\\x{o:02X}"
    return ch


def literal(text: str) -> str:
    """A GBNF string literal matching ``text`` exactly (``""`` for the empty string)."""
    return '"' + "".join(_escape_char(c, in_class=False) for c in text) + '"'


def char_class(chars: Iterable[str | tuple[str, str]], *, negated: bool = False) -> str:
    """A GBNF character class of single characters and inclusive ``(first, last)`` ranges."""
    parts: list[str] = []
    for item in chars:
        if isinstance(item, tuple):
            lo, hi = item
            parts.append(_escape_char(lo, in_class=True) + "-" + _escape_char(hi, in_class=True))
        else:
            parts.append(_escape_char(item, in_class=True))
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def group(item: str) -> str:
    """``item`` parenthesised unless it already is one atom."""
    return item if _is_atom(item) else f"({item})"


def _is_atom(item: str) -> bool:
    """True when ``item`` can take a quantifier as is: a name, a literal, a class or one parenthesised group."""
    if re.fullmatch(r"[a-zA-Z0-9-]+", item):
        return True
    if re.fullmatch(r'"(?:[^"\\]|\\.)*"', item):
        return True
    if re.fullmatch(r"\[(?:[^\]\\]|\\.)*\]", item):
        return True
    if item.startswith("(") and item.endswith(")"):
        depth = 0
        in_str = in_cls = esc = False
        for i, c in enumerate(item):
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif in_str:
                in_str = c != '"'
            elif in_cls:
                in_cls = c != "]"
            elif c == '"':
                in_str = True
            elif c == "[":
                in_cls = True
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0 and i != len(item) - 1:
                    return False
        return True
    return False


class Rules:
    """An ordered set of named GBNF rules. ``add`` returns the name a body was given: an identical body already
    present is shared, a taken name gets a numeric suffix."""

    def __init__(self) -> None:
        self._rules: dict[str, str] = {}
        self._by_body: dict[str, str] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._rules

    def fresh(self, hint: str) -> str:
        """A name not used yet, derived from ``hint``; reserve it with ``define``."""
        base = _RULE_NAME.sub("-", hint).strip("-") or "rule"
        name, n = base, 1
        while name in self._rules:
            name = f"{base}{n}"
            n += 1
        self._rules[name] = ""  # reserved until defined, so that recursive references can use it
        return name

    def define(self, name: str, body: str) -> None:
        self._rules[name] = body
        self._by_body.setdefault(body, name)

    def add(self, hint: str, body: str) -> str:
        if body in self._by_body:
            return self._by_body[body]
        name = self.fresh(hint)
        self.define(name, body)
        return name

    def render(self, root: str = "root") -> str:
        """The GBNF text of the rules reachable from ``root`` (unused helpers are left out)."""
        seen = {root}
        todo = [root]
        while todo:
            for tok in _TOKEN.findall(self._rules.get(todo.pop(), "")):
                if tok in self._rules and tok not in seen:
                    seen.add(tok)
                    todo.append(tok)
        return "".join(f"{name} ::= {body}\n" for name, body in self._rules.items() if name in seen)


def repeat(rules: Rules, item: str, lo: int, hi: int | None, *, hint: str = "rep") -> str:
    """``item`` repeated ``lo`` to ``hi`` times (``hi`` None: unbounded), as a GBNF expression.

    Bounds past llama.cpp's repetition limit are expressed through chunk rules of ``item{1000}`` so that the
    language stays exact and unambiguous."""
    if hi is not None and hi < lo:
        raise ValueError("hi < lo")
    g = group(item)
    if hi == 0:
        return '""'
    if lo <= MAX_REPETITION and (hi is None or hi <= MAX_REPETITION):
        if (lo, hi) == (0, 1):
            return f"{g}?"
        if (lo, hi) == (0, None):
            return f"{g}*"
        if (lo, hi) == (1, None):
            return f"{g}+"
        if lo == hi:
            return g if lo == 1 else f"{g}{{{lo}}}"
        return f"{g}{{{lo},{'' if hi is None else hi}}}"
    chunk = rules.add(hint + "-chunk", f"{g}{{1000}}")
    parts: list[str] = []
    if lo >= 1000:
        parts.append(repeat(rules, chunk, lo // 1000, lo // 1000, hint=hint))
    if lo % 1000:
        parts.append(f"{g}{{{lo % 1000}}}")
    if hi is None:
        parts.append(f"{g}*")
    elif hi > lo:
        parts.append(_up_to(rules, g, chunk, hi - lo, hint))
    return " ".join(parts) if parts else '""'


def _up_to(rules: Rules, g: str, chunk: str, n: int, hint: str) -> str:
    """Between 0 and ``n`` items: a full chunk followed by up to ``n - 1000`` more, or fewer than 1000."""
    if n <= MAX_REPETITION:
        return f"{g}{{0,{n}}}"
    rest = _up_to(rules, g, chunk, n - 1000, hint)
    return rules.add(f"{hint}-upto", f"{chunk} {group(rest)} | {g}{{0,999}}")


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]|#[^\n]*|[a-zA-Z0-9-]+|.', re.S)


def rename_rule(gbnf: str, old: str, new: str) -> str:
    """``gbnf`` with every use and the definition of rule ``old`` renamed ``new`` (literals, classes and comments
    are left alone)."""
    return "".join(new if tok == old else tok for tok in _TOKEN.findall(gbnf))


def rule_names(gbnf: str) -> set[str]:
    """The names defined in ``gbnf``."""
    return set(re.findall(r"^([a-zA-Z0-9-]+)\s*::=", gbnf, re.M))


def generic_json(rules: Rules) -> str:
    """Rules for any JSON value (``value``) and object (``object``); returns ``value``."""
    if "value" not in rules:
        space = rules.add("space", SPACE)
        char = rules.add("char", JSON_CHAR)
        string = rules.add("string", f'"\\"" {char}* "\\""')
        number = rules.add(
            "number", f'"-"? ([0] | [1-9] [0-9]{{0,{MAX_DIGITS - 1}}}) ("." [0-9]{{1,16}})? ([eE] [-+]? [0-9]{{1,2}})?'
        )
        for name in ("value", "object", "array"):
            rules.fresh(name)
        rules.define("value", f'object | array | {string} | {number} | ("true" | "false" | "null")')
        rules.define(
            "object",
            f'"{{" {space} ({string} {space} ":" {space} value'
            f' ({space} "," {space} {string} {space} ":" {space} value)*)? {space} "}}"',
        )
        rules.define("array", f'"[" {space} (value ({space} "," {space} value)*)? {space} "]"')
    return "value"
