"""JSON Schema ``pattern`` (an ECMAScript regex, matched anywhere in the string) to the GBNF of the JSON string
contents it allows, as the JSON text spells them.

Supported: literals and escapes, ``.``, classes with ranges and negation, ``\\d \\w \\s`` and their negations,
groups (capturing, ``(?:``), alternation, the quantifiers ``* + ? {n} {n,} {n,m}`` (lazy forms too), and ``^``/``$``
at the ends of a top-level branch. A pattern without ``^`` may start anywhere (any characters before it), and
likewise at the end. Anything else (backreferences, lookaround, ``\\b``, unicode properties, flags) raises
``PatternError``: the caller refuses the schema rather than ignore the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollama.grammar.gbnf import JSON_CHAR, Rules, char_class, group, literal, repeat

__all__ = ["PatternError", "pattern_to_gbnf"]

# Quantifiers in patterns ("\\d+") would otherwise let a model loop forever.
MAX_UNBOUNDED = 256


class PatternError(ValueError):
    """A regex feature the grammar cannot express."""


_DIGIT: list[str | tuple[str, str]] = [("0", "9")]
_WORD: list[str | tuple[str, str]] = [("a", "z"), ("A", "Z"), ("0", "9"), "_"]
_SPACE: list[str | tuple[str, str]] = [" ", "\t", "\n", "\r", "\f", "\v"]
_SHORTHANDS: dict[str, tuple[list[str | tuple[str, str]], bool]] = {
    "d": (list(_DIGIT), False),
    "D": (list(_DIGIT), True),
    "w": (list(_WORD), False),
    "W": (list(_WORD), True),
    "s": (list(_SPACE), False),
    "S": (list(_SPACE), True),
}
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v", "0": "\0"}
# Characters a JSON string must escape, and the escape a model is allowed to write for them.
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f", "\b": "\\b"}


def _json_spelling(ch: str) -> str:
    if ch in _JSON_ESCAPES:
        return _JSON_ESCAPES[ch]
    if ord(ch) < 0x20:
        return f"\\u{ord(ch):04x}"
    return ch


def _needs_escape(ch: str) -> bool:
    return ch in _JSON_ESCAPES or ord(ch) < 0x20


@dataclass
class _Set:
    """A character set: items (chars and ranges), possibly negated."""

    items: list[str | tuple[str, str]]
    negated: bool = False


def _ord_range(item: str | tuple[str, str]) -> range:
    lo, hi = item if isinstance(item, tuple) else (item, item)
    return range(ord(lo), ord(hi) + 1)


def _set_to_gbnf(s: _Set) -> str:
    if s.negated:
        # any raw JSON string character outside the set (escaped characters are left out: a subset)
        excluded: list[str | tuple[str, str]] = [*s.items, '"', "\\", ("\x00", "\x1f"), "\x7f"]
        return char_class(excluded, negated=True)
    raw: list[str | tuple[str, str]] = []
    escaped: list[str] = []
    for item in s.items:
        if isinstance(item, tuple):
            lo, hi = item
            if ord(lo) > ord(hi):
                raise PatternError(f"invalid range {lo}-{hi}")
            for o in range(ord(lo), min(ord(hi), 0x7F) + 1):
                if _needs_escape(chr(o)):
                    escaped.append(chr(o))
            # raw part: the range without the characters JSON escapes
            ranges = _split_range(ord(lo), ord(hi))
            raw.extend(ranges)
        elif _needs_escape(item):
            escaped.append(item)
        else:
            raw.append(item)
    alts = [char_class(raw)] if raw else []
    alts.extend(literal(_json_spelling(c)) for c in dict.fromkeys(escaped))
    if not alts:
        raise PatternError("empty character class")
    return alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")"


def _split_range(lo: int, hi: int) -> list[str | tuple[str, str]]:
    """The range [lo, hi] minus controls, the quote and the backslash, as class items."""
    out: list[str | tuple[str, str]] = []
    start = None
    for o in [*range(lo, min(hi, 0x7F) + 1), -1]:
        ok = o >= 0x20 and o not in (0x22, 0x5C)
        if o != -1 and ok:
            if start is None:
                start = o
            continue
        if start is not None:
            end = o - 1 if o != -1 else min(hi, 0x7F)
            out.append(chr(start) if start == end else (chr(start), chr(end)))
            start = None
    if hi > 0x7F:
        first = max(lo, 0x80)
        out.append(chr(first) if first == hi else (chr(first), chr(hi)))
    return out


class _Parser:
    def __init__(self, pattern: str, rules: Rules, hint: str) -> None:
        self.p = pattern
        self.i = 0
        self.rules = rules
        self.hint = hint

    def error(self, what: str) -> PatternError:
        return PatternError(f"{what} at position {self.i} of pattern {self.p!r}")

    def peek(self) -> str | None:
        return self.p[self.i] if self.i < len(self.p) else None

    def top(self) -> str:
        """The whole pattern: each branch anchored or padded with any characters."""
        branches: list[str] = []
        while True:
            anchored_start = self.peek() == "^"
            if anchored_start:
                self.i += 1
            seq, anchored_end = self.sequence(top=True)
            parts = ([] if anchored_start else [f"{self.any_char()}*"]) + ([seq] if seq else [])
            if not anchored_end:
                parts.append(f"{self.any_char()}*")
            branches.append(" ".join(parts) if parts else '""')
            if self.peek() == "|":
                self.i += 1
                continue
            if self.peek() is not None:
                raise self.error("unbalanced parenthesis")
            break
        return branches[0] if len(branches) == 1 else "(" + " | ".join(branches) + ")"

    def any_char(self) -> str:
        return self.rules.add("char", JSON_CHAR)

    def alternation(self) -> str:
        branches = [self.sequence(top=False)[0]]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence(top=False)[0])
        branches = [b or '""' for b in branches]
        return branches[0] if len(branches) == 1 else "(" + " | ".join(branches) + ")"

    def sequence(self, *, top: bool) -> tuple[str, bool]:
        items: list[str] = []
        anchored_end = False
        while (c := self.peek()) is not None and c not in "|)":
            if c == "$":
                self.i += 1
                if not top or self.peek() not in (None, "|"):
                    raise self.error("'$' inside a pattern is not supported")
                anchored_end = True
                break
            if c == "^":
                raise self.error("'^' inside a pattern is not supported")
            atom = self.atom()
            items.append(self.quantified(atom))
        return " ".join(items), anchored_end

    def quantified(self, atom: str) -> str:
        c = self.peek()
        if c is None or c not in "*+?{":
            return atom
        if c == "{":
            end = self.p.find("}", self.i)
            body = self.p[self.i + 1 : end] if end != -1 else ""
            lo_s, comma, hi_s = body.partition(",")
            if end == -1 or not lo_s.isdigit() or (hi_s and not hi_s.isdigit()):
                # ECMAScript reads a "{" that is not a quantifier as a literal
                return atom
            lo, hi = int(lo_s), (int(hi_s) if hi_s else None) if comma else int(lo_s)
            if hi is not None and hi < lo:
                raise self.error("quantifier range out of order")
            self.i = end + 1
        else:
            self.i += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        if self.peek() == "?":
            self.i += 1  # lazy: same language
        elif self.peek() == "+":
            raise self.error("possessive quantifiers are not supported")
        if hi is None:
            hi = max(lo, MAX_UNBOUNDED)
        return repeat(self.rules, atom, lo, hi, hint=self.hint)

    def atom(self) -> str:
        c = self.p[self.i]
        if c == "(":
            self.i += 1
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                raise self.error("lookaround and named groups are not supported")
            inner = self.alternation()
            if self.peek() != ")":
                raise self.error("missing ')'")
            self.i += 1
            return group(inner) if inner else '""'
        if c == "[":
            return _set_to_gbnf(self.char_set())
        if c == ".":
            self.i += 1
            return _set_to_gbnf(_Set(["\n", "\r", "\u2028", "\u2029"], negated=True))
        if c == "\\":
            return self.escape_atom()
        if c in "*+?":
            raise self.error("nothing to repeat")
        if c == ")":
            raise self.error("unbalanced parenthesis")
        self.i += 1
        return literal(_json_spelling(c))

    def escape_atom(self) -> str:
        self.i += 1
        c = self.peek()
        if c is None:
            raise self.error("pattern ends with '\\'")
        if c in _SHORTHANDS:
            self.i += 1
            items, negated = _SHORTHANDS[c]
            if negated:
                # printable ASCII outside the set: Unicode digits, letters and spaces count differently in
                # ECMAScript and in Python's re (what jsonschema checks with), so none are written
                inside = {chr(o) for item in items for o in _ord_range(item)}
                return _set_to_gbnf(_Set([chr(o) for o in range(0x20, 0x7F) if chr(o) not in inside]))
            return _set_to_gbnf(_Set(items))
        ch = self.escaped_char()
        return literal(_json_spelling(ch))

    def escaped_char(self) -> str:
        """The character of an escape (after the backslash), for literals and class members."""
        c = self.p[self.i]
        self.i += 1
        if c in _SIMPLE_ESCAPES:
            if c == "0" and (self.peek() or "").isdigit():
                raise self.error("octal escapes are not supported")
            return _SIMPLE_ESCAPES[c]
        if c == "x":
            h = self.p[self.i : self.i + 2]
            if len(h) == 2 and all(x in "0123456789abcdefABCDEF" for x in h):
                self.i += 2
                return chr(int(h, 16))
            raise self.error("bad \\x escape")
        if c == "u":
            h = self.p[self.i : self.i + 4]
            if len(h) == 4 and all(x in "0123456789abcdefABCDEF" for x in h):
                self.i += 4
                return chr(int(h, 16))
            raise self.error("bad \\u escape")
        if c.isalnum():
            self.i -= 1
            raise self.error(f"escape '\\{c}' is not supported")
        return c

    def char_set(self) -> _Set:
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        items: list[str | tuple[str, str]] = []
        first = True
        while True:
            c = self.peek()
            if c is None:
                raise self.error("missing ']'")
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "\\":
                self.i += 1
                e = self.peek()
                if e is None:
                    raise self.error("pattern ends with '\\'")
                if e in _SHORTHANDS:
                    self.i += 1
                    sub, sub_neg = _SHORTHANDS[e]
                    if sub_neg:
                        raise self.error(f"'\\{e}' inside a class is not supported")
                    items.extend(sub)
                    continue
                lo = "\b" if e == "b" and self.p.startswith("b", self.i) and self._skip(1) else self.escaped_char()
            else:
                self.i += 1
                lo = c
            if self.peek() == "-" and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                self.i += 1
                h = self.p[self.i]
                if h == "\\":
                    self.i += 1
                    if self.peek() in _SHORTHANDS:
                        raise self.error("a class shorthand cannot end a range")
                    hi = self.escaped_char()
                else:
                    self.i += 1
                    hi = h
                items.append((lo, hi))
            else:
                items.append(lo)
        return _Set(items, negated)

    def _skip(self, n: int) -> bool:
        self.i += n
        return True


def pattern_to_gbnf(pattern: str, rules: Rules, *, hint: str = "pattern") -> str:
    """A GBNF expression for the contents (between the quotes) of JSON strings that ``pattern`` matches."""
    return _Parser(pattern, rules, hint).top()
