"""The output parser for one request: thinking first, then tool calls in what is not thinking, else pass-through.

This is the inference core's single entry point (``build_parser``); it mirrors the order of Ollama's chat handler,
where the thinking parser's content is what the tool parser reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pollama.output.base import OutputParser, PassThrough, Piece
from pollama.output.thinking import GO_SPACE, ThinkingParser
from pollama.output.tools import ToolCallParser, tool_names

__all__ = ["ComposedParser", "build_parser"]


class ComposedParser:
    """A thinking parser feeding a tool-call parser; either may be absent."""

    def __init__(self, thinking: ThinkingParser | None, tools: ToolCallParser | None) -> None:
        self.thinking = thinking
        self.tools = tools

    def feed(self, text: str) -> Piece:
        thinking, content = self.thinking.add(text) if self.thinking is not None else ("", text)
        return self._with_tools(thinking, content, final=False)

    def flush(self) -> Piece:
        held = self.thinking.flush() if self.thinking is not None else Piece()
        return self._with_tools(held.thinking, held.content, final=True)

    def _with_tools(self, thinking: str, content: str, *, final: bool) -> Piece:
        if self.tools is None:
            return Piece(content=content, thinking=thinking)
        calls, content = self.tools.add(content) if content else ([], "")
        if final:
            rest = self.tools.flush()
            content += rest.content
        return Piece(content=content, thinking=thinking, tool_calls=calls)


def build_parser(
    *,
    thinking_tags: tuple[str, str] | None,
    prompt: str,
    tools: Sequence[Mapping[str, Any]] | None,
    tool_tag: str | None,
    bare_calls: bool = True,
) -> OutputParser:
    """The parser for a request's output.

    `thinking_tags` is given when thinking is on and the template's tags are known (`Template.thinking_tags()`);
    the parser starts inside the thinking block when the rendered `prompt` already ends with the opening tag.
    `tools` are the request's tools as raw JSON dicts; `tool_tag` is ``infer_tool_tag(template)`` (`{` if None).
    `bare_calls`: whether an answer opening with a bare call object counts as a call under a wrapper tag.
    """
    thinking: ThinkingParser | None = None
    if thinking_tags is not None and thinking_tags[0] and thinking_tags[1]:
        thinking = ThinkingParser(*thinking_tags)
        if prompt.strip(GO_SPACE).endswith(thinking.opening):
            thinking.add(thinking.opening)
    tool_parser = ToolCallParser(tools, tool_tag or "{", bare=bare_calls) if tools and tool_names(tools) else None
    if thinking is None and tool_parser is None:
        return PassThrough()
    return ComposedParser(thinking, tool_parser)
