"""Tokenizer for Go text/template source, following Go's text/template/parse lexer.

It owns delimiter scanning, the `{{-`/`-}}` trim markers (applied here, as Go does), comments, and the
tokens inside actions. Lexical errors become an ERROR token whose text is Go's message; the parser turns
it into a `template: :LINE: msg` error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto


class T(Enum):
    ERROR = auto()
    EOF = auto()
    TEXT = auto()
    COMMENT = auto()
    LEFT_DELIM = auto()
    RIGHT_DELIM = auto()
    SPACE = auto()
    IDENTIFIER = auto()
    FIELD = auto()
    VARIABLE = auto()
    DECLARE = auto()
    ASSIGN = auto()
    CHAR = auto()
    CHAR_CONSTANT = auto()
    STRING = auto()
    RAW_STRING = auto()
    NUMBER = auto()
    BOOL = auto()
    NIL = auto()
    DOT = auto()
    PIPE = auto()
    LEFT_PAREN = auto()
    RIGHT_PAREN = auto()
    KEYWORD = auto()


KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
LEFT = "{{"
RIGHT = "}}"
SPACE_CHARS = " \t\r\n"


@dataclass
class Token:
    typ: T
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        # Mirrors Go's item.String(), which is what "unexpected X in Y" errors print.
        if self.typ is T.EOF:
            return "EOF"
        if self.typ is T.ERROR:
            return self.val
        if self.typ is T.KEYWORD:
            return "<" + self.val + ">"
        if len(self.val) > 10:
            return go_quote_prefix(self.val, 10) + "..."
        return go_quote_prefix(self.val, len(self.val))


def go_quote_prefix(s: str, n: int) -> str:
    """Go's `%.Nq`: quote the first n characters with Go escapes."""
    out = ['"']
    for ch in s[:n]:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.tokens: list[Token] = []
        self.paren_depth = 0

    # --- helpers -------------------------------------------------------------------------------------------

    def _emit(self, typ: T, val: str | None = None) -> None:
        v = self.text[self.start : self.pos] if val is None else val
        self.tokens.append(Token(typ, v, self.start, self.start_line))
        self._ignore()

    def _ignore(self) -> None:
        self.line += self.text.count("\n", self.start, self.pos) if self.pos > self.start else 0
        self.start = self.pos
        self.start_line = self.line

    def _error(self, msg: str) -> None:
        self.tokens.append(Token(T.ERROR, msg, self.start, self.start_line))

    def _peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < len(self.text) else ""

    # --- entry point ---------------------------------------------------------------------------------------

    def run(self) -> list[Token]:
        ok = True
        while ok:
            ok = self._lex_text()
        return self.tokens

    def _lex_text(self) -> bool:
        """Scan text up to the next left delimiter; returns False once EOF or an error was emitted."""
        x = self.text.find(LEFT, self.pos)
        if x < 0:
            self.pos = len(self.text)
            if self.pos > self.start:
                self._emit(T.TEXT)
            self._emit(T.EOF)
            return False
        self.pos = x
        trim_len = 0
        after = self.text[x + len(LEFT) : x + len(LEFT) + 2]
        if len(after) == 2 and after[0] == "-" and after[1] in SPACE_CHARS:
            # Left trim marker: drop trailing whitespace of the preceding text.
            trim_len = len(self.text[self.start : x]) - len(self.text[self.start : x].rstrip(SPACE_CHARS))
            trim_len = 0 if trim_len < 0 else trim_len
        if x - trim_len > self.start:
            self.tokens.append(Token(T.TEXT, self.text[self.start : x - trim_len], self.start, self.start_line))
        self._ignore()
        return self._lex_left_delim()

    def _lex_left_delim(self) -> bool:
        self.pos += len(LEFT)
        trim = self._peek() == "-" and self._peek(1) in SPACE_CHARS and self._peek(1) != ""
        after_marker = 2 if trim else 0
        if self.text.startswith("/*", self.pos + after_marker):
            self.pos += after_marker
            self._ignore()
            return self._lex_comment()
        self._emit(T.LEFT_DELIM)
        self.pos += after_marker
        self._ignore()
        self.paren_depth = 0
        return self._lex_inside_action()

    def _lex_comment(self) -> bool:
        self.pos += 2
        x = self.text.find("*/", self.pos)
        if x < 0:
            self._error("unclosed comment")
            return False
        self.pos = x + 2
        delim, trim = self._at_right_delim()
        if not delim:
            self._error("comment ends before closing delimiter")
            return False
        # Comments are dropped (Go only keeps them with the ParseComments mode).
        if trim:
            self.pos += 2
        self.pos += len(RIGHT)
        if trim:
            self._skip_space()
        self._ignore()
        return True

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in SPACE_CHARS:
            self.pos += 1

    def _at_right_delim(self) -> tuple[bool, bool]:
        if (
            self._peek() in SPACE_CHARS
            and self._peek() != ""
            and self._peek(1) == "-"
            and self.text.startswith(RIGHT, self.pos + 2)
        ):
            return True, True
        if self.text.startswith(RIGHT, self.pos):
            return True, False
        return False, False

    def _lex_right_delim(self, trim: bool) -> bool:
        if trim:
            self.pos += 2
            self._ignore()
        self.pos += len(RIGHT)
        self._emit(T.RIGHT_DELIM)
        if trim:
            self._skip_space()
            self._ignore()
        return True

    def _lex_inside_action(self) -> bool:
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.paren_depth == 0:
                    return self._lex_right_delim(trim)
                self._error("unclosed left paren")
                return False
            ch = self._peek()
            if ch == "":
                self._error("unclosed action")
                return False
            if ch in SPACE_CHARS:
                self._lex_space()
            elif ch == "=":
                self.pos += 1
                self._emit(T.ASSIGN)
            elif ch == ":":
                if self._peek(1) != "=":
                    self.pos += 1
                    self._error("expected :=")
                    return False
                self.pos += 2
                self._emit(T.DECLARE)
            elif ch == "|":
                self.pos += 1
                self._emit(T.PIPE)
            elif ch == '"':
                if not self._lex_quote():
                    return False
            elif ch == "`":
                x = self.text.find("`", self.pos + 1)
                if x < 0:
                    self._error("unterminated raw quoted string")
                    return False
                self.pos = x + 1
                self._emit(T.RAW_STRING)
            elif ch == "$":
                self.pos += 1
                while _is_alnum(self._peek()):
                    self.pos += 1
                if not self._check_terminator():
                    return False
                self._emit(T.VARIABLE)
            elif ch == "'":
                if not self._lex_char():
                    return False
            elif ch == ".":
                nxt = self._peek(1)
                if nxt.isdigit() and nxt.isascii():
                    if not self._lex_number():
                        return False
                    continue
                self.pos += 1
                if not _is_alnum(self._peek()):
                    self._emit(T.DOT)
                    continue
                while _is_alnum(self._peek()):
                    self.pos += 1
                if not self._check_terminator():
                    return False
                self._emit(T.FIELD)
            elif ch in "+-" or (ch.isdigit() and ch.isascii()):
                if not self._lex_number():
                    return False
            elif _is_alnum(ch):
                while _is_alnum(self._peek()):
                    self.pos += 1
                word = self.text[self.start : self.pos]
                if not self._check_terminator():
                    return False
                if word in KEYWORDS:
                    self._emit(T.KEYWORD)
                elif word in ("true", "false"):
                    self._emit(T.BOOL)
                elif word == "nil":
                    self._emit(T.NIL)
                else:
                    self._emit(T.IDENTIFIER)
            elif ch == "(":
                self.pos += 1
                self._emit(T.LEFT_PAREN)
                self.paren_depth += 1
            elif ch == ")":
                self.pos += 1
                self._emit(T.RIGHT_PAREN)
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    self._error("unexpected right paren")
                    return False
            elif ord(ch) <= 0x7F and ch.isprintable():
                self.pos += 1
                self._emit(T.CHAR)
            else:
                self.pos += 1
                self._error(f"unrecognized character in action: U+{ord(ch):04X} '{ch}'")
                return False

    def _lex_space(self) -> None:
        while self._peek() in SPACE_CHARS and self._peek() != "":
            # Stop before " -}}" so the trim marker is seen by the delimiter check.
            if self._peek(1) == "-" and self.text.startswith(RIGHT, self.pos + 2):
                break
            self.pos += 1
        if self.pos == self.start:
            # Only " -}}" ahead: let the caller treat it as the right delimiter.
            return
        self._emit(T.SPACE)

    def _check_terminator(self) -> bool:
        ch = self._peek()
        if ch == "" or ch in SPACE_CHARS or ch in ".,|:()" or self.text.startswith(RIGHT, self.pos):
            return True
        self._error(f"bad character U+{ord(ch):04X} '{ch}'")
        return False

    def _lex_quote(self) -> bool:
        self.pos += 1
        while True:
            ch = self._peek()
            if ch == "\\":
                self.pos += 1
                if self._peek() not in ("", "\n"):
                    self.pos += 1
                    continue
                ch = self._peek()
            if ch in ("", "\n"):
                self._error("unterminated quoted string")
                return False
            self.pos += 1
            if ch == '"':
                break
        self._emit(T.STRING)
        return True

    def _lex_char(self) -> bool:
        self.pos += 1
        while True:
            ch = self._peek()
            if ch == "\\":
                self.pos += 1
                if self._peek() not in ("", "\n"):
                    self.pos += 1
                    continue
                ch = self._peek()
            if ch in ("", "\n"):
                self._error("unterminated character constant")
                return False
            self.pos += 1
            if ch == "'":
                break
        self._emit(T.CHAR_CONSTANT)
        return True

    def _lex_number(self) -> bool:
        if self._peek() in "+-":
            self.pos += 1
        digits = "0123456789_"
        if self._peek() == "0" and self._peek(1) in ("x", "X", "o", "O", "b", "B") and self._peek(1) != "":
            self.pos += 2
            digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[self.text[self.pos - 1].lower()]
        while self._peek() != "" and self._peek() in digits:
            self.pos += 1
        if self._peek() == ".":
            self.pos += 1
            while self._peek() != "" and self._peek() in digits:
                self.pos += 1
        exp = "pP" if digits.startswith("0123456789abcdef") else "eE"
        if self._peek() != "" and self._peek() in exp:
            self.pos += 1
            if self._peek() in ("+", "-") and self._peek() != "":
                self.pos += 1
            while self._peek() != "" and self._peek() in "0123456789_":
                self.pos += 1
        if self._peek() == "i":
            self.pos += 1
        if _is_alnum(self._peek()):
            self.pos += 1
            self._error(f"bad number syntax: {go_quote_prefix(self.text[self.start : self.pos], 1000)}")
            return False
        self._emit(T.NUMBER)
        return True


def lex(text: str) -> list[Token]:
    return Lexer(text).run()
