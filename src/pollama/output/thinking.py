"""Separating a model's thinking from its answer: Ollama's thinking/parser.go state machine.

The parser looks for the opening tag before any other text (leading whitespace allowed); if something else comes
first the model is not thinking and everything passes through untouched. Whitespace right after the opening and
the closing tag is eaten. A tag split across chunks is held back until it is decided.
"""

from __future__ import annotations

import enum

from pollama.output.base import Piece

# Go's unicode.IsSpace; str.isspace would also count U+001C..U+001F, which Go keeps.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class ThinkingState(enum.Enum):
    LOOKING_FOR_OPENING = enum.auto()
    THINKING_STARTED_EATING_WHITESPACE = enum.auto()
    THINKING = enum.auto()
    THINKING_DONE_EATING_WHITESPACE = enum.auto()
    THINKING_DONE = enum.auto()


def _overlap(s: str, delim: str) -> int:
    """Length of the longest suffix of `s` that is a prefix of `delim`."""
    for i in range(min(len(delim), len(s)), 0, -1):
        if s.endswith(delim[:i]):
            return i
    return 0


class ThinkingParser:
    """Splits streamed text into (thinking, content) as Ollama's thinking.Parser does."""

    def __init__(self, opening: str, closing: str) -> None:
        if not opening or not closing:
            raise ValueError("thinking tags must not be empty")
        self.opening = opening
        self.closing = closing
        self.state = ThinkingState.LOOKING_FOR_OPENING
        self._acc = ""

    def add(self, text: str) -> tuple[str, str]:
        """AddContent: the thinking and the content that can be sent now."""
        self._acc += text
        thinking: list[str] = []
        content: list[str] = []
        again = True
        # One chunk may cross several states; looping means nothing already decidable waits for the next chunk.
        while again:
            t, c, again = self._eat()
            thinking.append(t)
            content.append(c)
        return "".join(thinking), "".join(content)

    def feed(self, text: str) -> Piece:
        thinking, content = self.add(text)
        return Piece(content=content, thinking=thinking)

    def flush(self) -> Piece:
        """What is held back when generation ends (Ollama drops it; we give it back)."""
        held, self._acc = self._acc, ""
        if self.state is ThinkingState.THINKING:
            return Piece(thinking=held)  # a closing tag that never completed is part of the thinking
        # A partial opening tag: the model never started thinking. Whitespace alone is dropped, as Ollama does.
        return Piece(content=held if held.strip(GO_SPACE) else "")

    def _eat(self) -> tuple[str, str, bool]:
        acc = self._acc
        match self.state:
            case ThinkingState.LOOKING_FOR_OPENING:
                trimmed = acc.lstrip(GO_SPACE)
                if trimmed.startswith(self.opening):
                    after = trimmed[len(self.opening) :].lstrip(GO_SPACE)
                    self._acc = after
                    self.state = ThinkingState.THINKING if after else ThinkingState.THINKING_STARTED_EATING_WHITESPACE
                    return "", "", True
                if self.opening.startswith(trimmed):
                    return "", "", False  # whitespace or a partial opening tag so far
                # No opening tag: not thinking. The untrimmed text goes on so real content keeps its whitespace.
                self.state = ThinkingState.THINKING_DONE
                self._acc = ""
                return "", acc, False
            case ThinkingState.THINKING_STARTED_EATING_WHITESPACE:
                trimmed = acc.lstrip(GO_SPACE)
                self._acc = trimmed
                if not trimmed:
                    return "", "", False
                self.state = ThinkingState.THINKING
                return "", "", True
            case ThinkingState.THINKING:
                if (i := acc.find(self.closing)) >= 0:
                    thinking = acc[:i]
                    rest = acc[i + len(self.closing) :].lstrip(GO_SPACE)
                    self._acc = ""
                    self.state = ThinkingState.THINKING_DONE if rest else ThinkingState.THINKING_DONE_EATING_WHITESPACE
                    return thinking, rest, False
                if n := _overlap(acc, self.closing):
                    self._acc = acc[-n:]
                    return acc[:-n], "", False
                self._acc = ""
                return acc, "", False
            case ThinkingState.THINKING_DONE_EATING_WHITESPACE:
                trimmed = acc.lstrip(GO_SPACE)
                self._acc = ""
                if trimmed:
                    self.state = ThinkingState.THINKING_DONE
                return "", trimmed, False
            case ThinkingState.THINKING_DONE:
                self._acc = ""
                return "", acc, False
        raise AssertionError(self.state)  # pragma: no cover
