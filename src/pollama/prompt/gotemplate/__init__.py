"""A Go `text/template` interpreter, complete enough for every template in Ollama's model library.

Public API: `parse(text) -> GoTemplate`, `GoTemplate.execute(data) -> str`, `GoTemplate.root` (the AST, for
callers that inspect which fields a template references), `GoTemplate.templates` (named `define`/`block`
bodies), and `TemplateError` whose message reads like Go's. Options match Ollama's `template.New("")
.Option("missingkey=zero")` with its extra functions (`json`, `currentDate`, `yesterdayDate`,
`toTypeScriptType`).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import nodes
from .errors import TemplateError
from .exec import Executor
from .funcs import DEFAULT_FUNCS, Func, FuncError
from .gofmt import format_v, sprintf
from .nodes import ListNode
from .parser import parse_tree
from .values import json_marshal

__all__ = [
    "DEFAULT_FUNCS",
    "Func",
    "FuncError",
    "GoTemplate",
    "TemplateError",
    "format_v",
    "json_marshal",
    "nodes",
    "parse",
    "sprintf",
]


class GoTemplate:
    """A parsed template: the root list plus the named templates it defines."""

    def __init__(self, text: str, root: ListNode, templates: dict[str, ListNode], funcs: Mapping[str, Func]) -> None:
        self.text = text
        self.root = root
        self.templates = templates
        self.funcs = funcs

    def execute(self, data: object) -> str:
        """Render with `data` as dot and `$`; raises TemplateError like Go's Execute."""
        return Executor(self.text, self.templates, self.funcs).run(self.root, data)

    def with_root(self, root: ListNode) -> GoTemplate:
        """The same template (named templates, funcs) with a different root tree."""
        return GoTemplate(self.text, root, self.templates, self.funcs)

    def all_trees(self) -> list[ListNode]:
        """The root followed by every defined template body (Go's `Templates()`)."""
        return [self.root, *self.templates.values()]


def parse(text: str, funcs: Mapping[str, Func] | None = None) -> GoTemplate:
    """Parse Go template source; raises TemplateError (`template: :LINE: msg`) on bad syntax."""
    fs = DEFAULT_FUNCS if funcs is None else funcs
    root, templates = parse_tree(text, fs)
    return GoTemplate(text, root, templates, fs)
