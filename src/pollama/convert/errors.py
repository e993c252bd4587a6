"""The converter's one error type: a model directory that cannot be converted, in Ollama's words where it has
them (``unsupported architecture "X"``, ``unknown architecture``)."""

from __future__ import annotations


class ConvertError(ValueError):
    """The input files are not a model this converter can turn into GGUF."""
