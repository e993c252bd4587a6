"""The single exception type of the Go template interpreter.

Its message is formatted like Go's parse and exec errors (`template: :1: ...`), because Ollama shows those
strings to users verbatim (`template error: <err>`).
"""

from __future__ import annotations


class TemplateError(Exception):
    """A parse or execution error; `str()` is the Go-style message."""
