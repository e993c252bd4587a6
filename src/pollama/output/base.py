"""The parser protocol and the pieces it yields; the trivial parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pollama.api.responses import Logprob
from pollama.api.types import ToolCall


@dataclass(slots=True)
class Piece:
    """What one stretch of generated text turned out to be."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    # Set by the inference core, not by parsers: the tokens sampled since the previous piece.
    logprobs: list[Logprob] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.content or self.thinking or self.tool_calls or self.logprobs)


class OutputParser(Protocol):
    """Fed the runner's text as it streams; may hold text back until it knows what it is."""

    def feed(self, text: str) -> Piece: ...

    def flush(self) -> Piece:
        """Whatever is still held back when generation ends."""
        ...


class PassThrough:
    """Every token is content, sent on at once."""

    def feed(self, text: str) -> Piece:
        return Piece(content=text)

    def flush(self) -> Piece:
        return Piece()
