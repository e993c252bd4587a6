"""Incremental parsers between the runner's text and a response: what is content, thinking or a tool call.

``OutputParser`` is the seam; ``PassThrough`` (everything is content) is what a model without thinking or
tool-call markers gets.
"""

from pollama.output.base import OutputParser, PassThrough, Piece

__all__ = ["OutputParser", "PassThrough", "Piece"]
