"""The text a model writes before a tool call, read from its template as Ollama's tools/template.go does.

The tag is the first non-blank text inside the template's `{{ if .ToolCalls }}` block, cut before any `{` and
trimmed: `<tool_call>` for Qwen, `[TOOL_CALLS] [` for Mistral. A template that renders calls as bare JSON (Llama 3.x)
or has no such block gives `{`, meaning "a JSON object at the start of the answer".
"""

from __future__ import annotations

from collections.abc import Sequence

from pollama.output.thinking import GO_SPACE
from pollama.prompt.gotemplate.nodes import ActionNode, BranchNode, FieldNode, IfNode, ListNode, Node, TextNode
from pollama.prompt.template import Template

__all__ = ["DEFAULT_TOOL_TAG", "infer_tool_tag"]

DEFAULT_TOOL_TAG = "{"


def infer_tool_tag(template: Template | None) -> str:
    """parseTag: the tool-call tag of `template`, `{` when it has none."""
    if template is None:
        return DEFAULT_TOOL_TAG
    block = _find_tool_calls_if(template.tree.root.nodes)
    if block is None:
        return DEFAULT_TOOL_TAG
    text = _first_text(block.list.nodes)
    if text is None:
        return DEFAULT_TOOL_TAG
    # Text from `{` on is the call itself, not a tag.
    tag = text.replace("\r\n", "\n").split("{", 1)[0].strip(GO_SPACE)
    return tag or DEFAULT_TOOL_TAG


def _names_tool_calls(n: IfNode) -> bool:
    return any(isinstance(a, FieldNode) and "ToolCalls" in a.ident for c in n.pipe.cmds for a in c.args)


def _find_tool_calls_if(nodes: Sequence[Node]) -> IfNode | None:
    """findToolCallNode: the first `if` whose condition names a `.ToolCalls` field, searched depth first."""
    for n in nodes:
        if isinstance(n, IfNode) and _names_tool_calls(n):
            return n
        if isinstance(n, ListNode):
            children = [n]
        elif isinstance(n, BranchNode):  # if, range, with
            children = [n.list] + ([n.else_list] if n.else_list is not None else [])
        else:
            continue
        for child in children:
            if (found := _find_tool_calls_if(child.nodes)) is not None:
                return found
    return None


def _first_text(nodes: Sequence[Node]) -> str | None:
    """findTextNode: the first non-blank text, not looking past an action or out of a nested block."""
    for n in nodes:
        if isinstance(n, TextNode):
            if n.text.strip(GO_SPACE):
                return n.text
        elif isinstance(n, ListNode):
            if (text := _first_text(n.nodes)) is not None:
                return text
        elif isinstance(n, BranchNode):
            for child in (n.list, n.else_list):
                if child is not None and (text := _first_text(child.nodes)) is not None:
                    return text
            # The text after a nested block may follow the calls already; Ollama stops here.
            return None
        elif isinstance(n, ActionNode):
            return None
    return None
