"""The Modelfile parser (Ollama's ``parser/parser.go: ParseFile``): text to a list of commands.

It is a port of Ollama's rune-by-rune state machine rather than a line-based parser, because the exact
behaviour at the edges (where whitespace is kept, when a quote is unterminated, which line an error names,
which characters are silently dropped) is part of what users rely on. Turning the commands into a create
request (parameters, files, messages) lives in ``modelfile/request.py``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from pollama.modelfile.serialize import command as format_command

ERR_MISSING_FROM = "no FROM line"
ERR_INVALID_MESSAGE_ROLE = 'message role must be one of "system", "user", or "assistant"'
ERR_INVALID_COMMAND = (
    'command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", "parser", '
    '"parameter", "message", or "requires"'
)
ERR_UNEXPECTED_EOF = "unexpected EOF"

_COMMANDS = frozenset(
    ("from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter", "message")
) | {"requires"}
_ROLES = frozenset(("system", "user", "assistant"))

# Lexer states (parser.go: stateNil … stateComment).
_NIL, _NAME, _VALUE, _PARAMETER, _MESSAGE, _COMMENT = range(6)


class ModelfileError(ValueError):
    """A Modelfile that does not parse; ``str()`` is Ollama's message (``(line N): …`` where Ollama gives one)."""

    def __init__(self, message: str, line: int = 0) -> None:
        self.line = line
        self.msg = message
        super().__init__(f"(line {line}): {message}" if line > 0 else message)


@dataclass(frozen=True)
class Command:
    """One directive. ``name`` is ``model`` for FROM, the lower-cased directive, or a PARAMETER's own name."""

    name: str
    args: str

    def __str__(self) -> str:
        return format_command(self.name, self.args)


@dataclass
class Modelfile:
    commands: list[Command] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(f"{c}\n" for c in self.commands)


def _decode(data: bytes | str) -> str:
    """``unicode.BOMOverride(UTF8)``: a UTF-16 BOM switches to UTF-16, a UTF-8 BOM is dropped."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith(codecs.BOM_UTF16_LE):
        return data[2:].decode("utf-16-le", errors="replace")
    if data.startswith(codecs.BOM_UTF16_BE):
        return data[2:].decode("utf-16-be", errors="replace")
    return data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")


def _is_alpha(r: str) -> bool:
    return "a" <= r <= "z" or "A" <= r <= "Z"


def _is_space(r: str) -> bool:
    return r in " \t"


def _is_newline(r: str) -> bool:
    return r in "\r\n"


def _next(r: str, state: int) -> tuple[int, str, str | None]:
    """``parseRuneForState``: the next state, the rune to keep ("" for none) and an error message."""
    if state == _NIL:
        if r == "#":
            return _COMMENT, "", None
        if _is_space(r) or _is_newline(r):
            return _NIL, "", None
        return _NAME, r, None
    if state == _NAME:
        if _is_alpha(r):
            return _NAME, r, None
        if _is_space(r):
            return _VALUE, "", None
        return _NIL, "", ERR_INVALID_COMMAND
    if state == _VALUE:
        if _is_newline(r) or _is_space(r):
            return _NIL, r, None
        return _VALUE, r, None
    if state in (_PARAMETER, _MESSAGE):
        if _is_alpha(r) or (state == _PARAMETER and (("0" <= r <= "9") or r == "_")):
            return state, r, None
        if _is_space(r):
            return _VALUE, "", None
        return _NIL, "", ERR_UNEXPECTED_EOF
    # _COMMENT
    return (_NIL if _is_newline(r) else _COMMENT), "", None


def unquote(s: str) -> tuple[str, bool]:
    """Strip ``\"\"\"…\"\"\"`` or ``\"…\"``; False while the quote is still open."""
    if s.startswith('"""'):
        if len(s) >= 6 and s.endswith('"""'):
            return s[3:-3], True
        return "", False
    if s.startswith('"'):
        if len(s) >= 2 and s.endswith('"'):
            return s[1:-1], True
        return "", False
    return s, True


def parse(data: bytes | str) -> Modelfile:
    """Parse Modelfile text (bytes may carry a UTF-8 or UTF-16 BOM); raises ModelfileError."""
    commands: list[Command] = []
    name = ""
    curr = _NIL
    line = 1
    buf: list[str] = []
    role = ""
    for ch in _decode(data):
        if _is_newline(ch):
            line += 1
        nxt, r, err = _next(ch, curr)
        if err == ERR_UNEXPECTED_EOF:
            raise ModelfileError(f"{ERR_UNEXPECTED_EOF}: {''.join(buf)}")
        if err is not None:
            raise ModelfileError(err, line)
        if nxt != curr:
            if curr == _NAME:
                word = "".join(buf)
                if word.lower() not in _COMMANDS:
                    raise ModelfileError(ERR_INVALID_COMMAND, line)
                lowered = word.lower()
                if lowered == "from":
                    name = "model"
                elif lowered == "parameter":
                    nxt = _PARAMETER  # the parameter's own name becomes the command name
                elif lowered == "message":
                    nxt = _MESSAGE
                    name = lowered
                else:
                    name = lowered
            elif curr == _PARAMETER:
                name = "".join(buf)
            elif curr == _MESSAGE:
                if "".join(buf) not in _ROLES:
                    raise ModelfileError(ERR_INVALID_MESSAGE_ROLE, line)
                role = "".join(buf)
            elif curr == _VALUE:
                value, ok = unquote("".join(buf).strip())
                if not ok or _is_space(r):
                    # Inside an open quote, or whitespace that may be followed by more value: keep going.
                    buf.append(r)
                    continue
                if role:
                    value = f"{role}: {value}"
                    role = ""
                commands.append(Command(name, value))
            buf.clear()
            curr = nxt
        if r and r.isprintable():
            buf.append(r)

    if curr == _VALUE:
        value, ok = unquote("".join(buf).strip())
        if not ok:
            raise ModelfileError(ERR_UNEXPECTED_EOF)
        if role:
            value = f"{role}: {value}"
        commands.append(Command(name, value))
    elif curr not in (_NIL, _COMMENT):
        raise ModelfileError(ERR_UNEXPECTED_EOF)

    if not any(c.name == "model" for c in commands):
        raise ModelfileError(ERR_MISSING_FROM)
    return Modelfile(commands)
