"""AST node types of the Go text/template interpreter, mirroring Go's text/template/parse nodes.

Each node keeps its byte offset (`pos`) so execution errors can name a line and column the way Go does, and
`str()` of a node renders it back to template source as Go's `Node.String()` does (used in error messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Node:
    pos: int


@dataclass(eq=False)
class TextNode(Node):
    text: str

    def __str__(self) -> str:
        # Go's TextNode.String prints the text as it is (``textFormat`` is "%s" outside Go's own tests).
        return self.text


@dataclass(eq=False)
class CommentNode(Node):
    text: str

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


@dataclass(eq=False)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False)
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass(eq=False)
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False)
class BoolNode(Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False)
class NumberNode(Node):
    text: str
    # Exactly one of these is the value execution uses: ints are Go `int`, everything with . e E p P is float64.
    value: int | float

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class StringNode(Node):
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False)
class FieldNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False)
class VariableNode(Node):
    # ident[0] is the variable name including "$"; the rest are fields, as in Go.
    ident: list[str]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False)
class IdentifierNode(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False)
class ChainNode(Node):
    node: Node
    fields: list[str]

    def __str__(self) -> str:
        inner = str(self.node)
        if isinstance(self.node, PipeNode):
            inner = "(" + inner + ")"
        return inner + "".join("." + f for f in self.fields)


@dataclass(eq=False)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        parts = []
        for a in self.args:
            s = str(a)
            parts.append("(" + s + ")" if isinstance(a, PipeNode) else s)
        return " ".join(parts)


@dataclass(eq=False)
class PipeNode(Node):
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)
    is_assign: bool = False

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(str(d) for d in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False)
class ActionNode(Node):
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False)
class BranchNode(Node):
    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None = None

    keyword = ""

    def __str__(self) -> str:
        s = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


@dataclass(eq=False)
class IfNode(BranchNode):
    keyword = "if"


@dataclass(eq=False)
class RangeNode(BranchNode):
    keyword = "range"


@dataclass(eq=False)
class WithNode(BranchNode):
    keyword = "with"


@dataclass(eq=False)
class BreakNode(Node):
    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False)
class ContinueNode(Node):
    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(eq=False)
class TemplateNode(Node):
    name: str
    pipe: PipeNode | None = None

    def __str__(self) -> str:
        name = '"' + self.name + '"'
        if self.pipe is None:
            return "{{template " + name + "}}"
        return "{{template " + name + " " + str(self.pipe) + "}}"


@dataclass(eq=False)
class EndNode(Node):
    """Parser-internal marker for `{{end}}`; never left in a finished tree."""

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(eq=False)
class ElseNode(Node):
    """Parser-internal marker for `{{else}}`; never left in a finished tree."""

    def __str__(self) -> str:
        return "{{else}}"
