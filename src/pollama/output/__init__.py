"""Incremental parsers between the runner's text and a response: what is content, thinking or a tool call.

``OutputParser`` is the seam; ``PassThrough`` (everything is content) is what a model without thinking or
tool-call markers gets.
"""

from pollama.output.base import OutputParser, PassThrough, Piece
from pollama.output.compose import build_parser
from pollama.output.thinking import ThinkingParser
from pollama.output.tools import ToolCallParser
from pollama.output.tooltag import infer_tool_tag

__all__ = ["OutputParser", "PassThrough", "Piece"]

__all__ += ["ThinkingParser", "ToolCallParser", "build_parser", "infer_tool_tag"]
