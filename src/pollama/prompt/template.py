"""Ollama's `template.Template`: parsing a model's TEMPLATE, what it references, and its three execution modes.

Mirrors template/template.go: `{{ .Response }}` is appended when neither `.Messages` nor `.Response` is
referenced; execution is (1) prompt+suffix, (2) `.Messages` with collation, or (3) legacy per-turn
`.System/.Prompt/.Response` with the last turn cut after `.Response`. Also the capability checks
(server/images.go) and thinking-tag inference (thinking/template.go).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from .gotemplate import GoTemplate, TemplateError, parse
from .gotemplate.nodes import (
    ActionNode,
    BranchNode,
    CommandNode,
    FieldNode,
    ListNode,
    Node,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    VariableNode,
)
from .types import Message, Tool, ToolList

__all__ = ["Template", "TemplateError", "Values", "collate", "default_template"]


@dataclass
class Values:
    """Go's template.Values: what a request contributes to a template execution."""

    messages: list[Message] = field(default_factory=list)
    tools: list[Tool] | None = None
    prompt: str = ""
    suffix: str = ""
    think: bool = False
    think_level: str = ""
    is_think_set: bool = False
    force_legacy: bool = False  # test hook, as in Ollama


class ChatTemplate(Protocol):
    """What prompt building and the output parsers need of a model's template: Ollama's Go templates
    (``Template``) and Hugging Face Jinja templates from a GGUF (``prompt.jinja.JinjaTemplate``) both are."""

    raw: str

    def execute(self, v: Values) -> str: ...

    def capabilities(self) -> list[str]: ...

    def thinking_tags(self) -> tuple[str, str]: ...


def _identifiers(n: Node | None) -> list[str]:
    """template.Identifiers: every field/variable identifier in action, branch and template pipelines."""
    if n is None:
        return []
    if isinstance(n, ListNode):
        return [i for c in n.nodes for i in _identifiers(c)]
    if isinstance(n, TemplateNode):
        if n.pipe is None:
            raise TemplateError("undefined template specified")
        return _identifiers(n.pipe)
    if isinstance(n, ActionNode):
        return _identifiers(n.pipe)
    if isinstance(n, BranchNode):
        out = _identifiers(n.pipe) + _identifiers(n.list)
        return out + (_identifiers(n.else_list) if n.else_list is not None else [])
    if isinstance(n, PipeNode):
        return [i for c in n.cmds for a in c.args for i in _identifiers(a)]
    if isinstance(n, (FieldNode, VariableNode)):
        return list(n.ident)
    return []


def _cut_after_response(root: ListNode) -> ListNode:
    """template.deleteNode: keep everything up to and including the first `.Response`, drop what follows."""
    cut = False

    def walk(n: Node) -> Node | None:
        nonlocal cut
        if isinstance(n, FieldNode) and "Response" in n.ident:
            cut = True
            return n
        if cut:
            return None
        if isinstance(n, ListNode):
            kept = [k for k in (walk(c) for c in n.nodes) if k is not None]
            return ListNode(n.pos, kept)
        if isinstance(n, BranchNode):
            body = walk(n.list)
            # Go would panic on an else list after the cut; treating it as removed is the sane reading.
            else_list = walk(n.else_list) if n.else_list is not None else None
            assert isinstance(body, ListNode)
            return type(n)(n.pos, n.pipe, body, else_list if isinstance(else_list, ListNode) else None)
        if isinstance(n, ActionNode):
            pipe = walk(n.pipe)
            return None if pipe is None else ActionNode(n.pos, pipe)  # type: ignore[arg-type]
        if isinstance(n, PipeNode):
            cmds = []
            for c in n.cmds:
                args = [k for k in (walk(a) for a in c.args) if k is not None]
                if not args:
                    return None
                cmds.append(CommandNode(c.pos, args))
            return PipeNode(n.pos, n.decl, cmds, n.is_assign) if cmds else None
        return n

    out = walk(root)
    assert isinstance(out, ListNode)
    return out


def _visit(n: Node | None, ancestors: list[Node], fn: Callable[[Node, list[Node]], None]) -> None:
    if n is None:
        return
    ancestors.append(n)
    fn(n, ancestors)
    children: list[Node | None] = []
    if isinstance(n, ListNode):
        children = list(n.nodes)
    elif isinstance(n, BranchNode):
        children = [n.pipe, n.list, n.else_list]
    elif isinstance(n, (ActionNode, TemplateNode)):
        children = [n.pipe]
    elif isinstance(n, PipeNode):
        children = list(n.cmds)
    elif isinstance(n, CommandNode):
        children = list(n.args)
    for c in children:
        _visit(c, ancestors, fn)
    ancestors.pop()


def _walk_all(n: Node | None) -> Iterator[Node]:
    found: list[Node] = []
    _visit(n, [], lambda x, _: found.append(x))
    return iter(found)


def collate(messages: list[Message]) -> tuple[str, list[Message]]:
    """Merge consecutive same-role messages (not `tool`) with blank lines; return all system text too."""
    system: list[str] = []
    collated: list[Message] = []
    for m in messages:
        if m.role == "system":
            system.append(m.content)
        if collated and collated[-1].role == m.role and m.role != "tool":
            collated[-1].content += "\n\n" + m.content
        else:
            # Copy so merging never mutates the caller's messages.
            collated.append(m.copy())
    return "\n\n".join(system), collated


class Template:
    """A parsed model template (Ollama's *template.Template)."""

    def __init__(self, raw: str, tree: GoTemplate) -> None:
        self.raw = raw
        self.tree = tree

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse like Ollama: Go parse errors, identifier checks, and `{{ .Response }}` appended if needed."""
        tree = parse(text)
        t = cls(text, tree)
        names = t.vars()
        if "messages" not in names and "response" not in names:
            response = ActionNode(
                len(text), PipeNode(len(text), [], [CommandNode(len(text), [FieldNode(len(text), ["Response"])])])
            )
            tree.root.nodes.append(response)
        return t

    def __str__(self) -> str:
        return self.raw

    def vars(self) -> list[str]:
        """Sorted, lower-cased, de-duplicated identifiers used anywhere (Ollama's Vars)."""
        names: set[str] = set()
        for root in self.tree.all_trees():
            for n in root.nodes:
                names.update(i.lower() for i in _identifiers(n))
        return sorted(names)

    def uses(self, name: str) -> bool:
        """Whether the template references identifier `name` (case-insensitive, e.g. "Tools", "Suffix")."""
        return name.lower() in self.vars()

    def contains(self, s: str) -> bool:
        return s in self.raw

    def thinking_tags(self) -> tuple[str, str]:
        """thinking.InferTags: the text around `{{ .Thinking }}` inside a `range .Messages`."""
        tags = ["", ""]

        def enter(n: Node, ancestors: list[Node]) -> None:
            if not (isinstance(n, FieldNode) and n.ident and n.ident[0] == "Thinking"):
                return
            rng = next((a for a in reversed(ancestors) if isinstance(a, RangeNode)), None)
            if rng is None or not any(
                isinstance(x, FieldNode) and x.ident[0] == "Messages" for x in _walk_all(rng.pipe)
            ):
                return
            lst = next((a for a in reversed(ancestors) if isinstance(a, ListNode)), None)
            if lst is None or not lst.nodes:
                return
            first, last = lst.nodes[0], lst.nodes[-1]
            if isinstance(first, TextNode):
                tags[0] = first.text.strip()
            if isinstance(last, TextNode):
                tags[1] = last.text.strip()

        _visit(self.tree.root, [], enter)
        return tags[0], tags[1]

    def capabilities(self) -> list[str]:
        """goTemplateCapabilities: "tools" (uses .Tools), "insert" (.Suffix), "thinking" (inferable tags)."""
        try:
            names = self.vars()
        except TemplateError:
            return []
        caps = [c for c, v in (("tools", "tools"), ("insert", "suffix")) if v in names]
        opening, closing = self.thinking_tags()
        if opening and closing:
            caps.append("thinking")
        return caps

    def execute(self, v: Values) -> str:
        """Template.Execute: render `v` in whichever of Ollama's three modes applies."""
        think = {"Think": v.think, "ThinkLevel": v.think_level, "IsThinkSet": v.is_think_set}
        system, messages = collate(v.messages)
        if v.prompt and v.suffix:
            return self.tree.execute({"Prompt": v.prompt, "Suffix": v.suffix, "Response": "", **think})
        if not v.force_legacy and "messages" in self.vars():
            data = {
                "System": system,
                "Messages": messages,
                "Tools": ToolList(v.tools),
                "Response": "",
                **think,
            }
            return self.tree.execute(data)
        return self._execute_legacy(messages, think)

    def _execute_legacy(self, messages: list[Message], think: dict[str, object]) -> str:
        out: list[str] = []
        system = prompt = response = ""

        def turn() -> None:
            nonlocal system, prompt, response
            out.append(self.tree.execute({"System": system, "Prompt": prompt, "Response": response, **think}))
            system = prompt = response = ""

        for m in messages:
            if m.role == "system":
                if prompt or response:
                    turn()
                system = m.content
            elif m.role == "user":
                if response:
                    turn()
                prompt = m.content
            elif m.role == "assistant":
                response = m.content
        last = self.tree.with_root(_cut_after_response(self.tree.root))
        out.append(last.execute({"System": system, "Prompt": prompt, "Response": response, **think}))
        return "".join(out)


def default_template() -> Template:
    """The template of a model without one: `{{ .Prompt }}`."""
    return Template.parse("{{ .Prompt }}")
