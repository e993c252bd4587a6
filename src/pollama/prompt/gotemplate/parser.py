"""Parser from lexer tokens to the AST, following Go's text/template/parse grammar and error messages.

It owns declarations and their parse-time scoping (`undefined variable "$x"`), the `define`/`block`
registry of named templates, `else if`/`else with` chaining, and the function-existence check.
"""

from __future__ import annotations

from collections.abc import Collection

from .errors import TemplateError
from .lexer import T, Token, lex
from .literals import go_unquote, parse_number
from .nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
)


class Parser:
    def __init__(self, text: str, funcs: Collection[str], name: str = "") -> None:
        self.text = text
        self.name = name
        self.funcs = funcs
        self.tokens = lex(text)
        self.i = 0
        self.last_line = 1
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.templates: dict[str, ListNode] = {}

    # --- token plumbing ------------------------------------------------------------------------------------

    def error(self, msg: str) -> TemplateError:
        return TemplateError(f"template: {self.name}:{self.last_line}: {msg}")

    def next(self) -> Token:
        tok = self.tokens[self.i] if self.i < len(self.tokens) else self.tokens[-1]
        self.i += 1
        self.last_line = tok.line
        return tok

    def backup(self, n: int = 1) -> None:
        self.i -= n

    def peek(self) -> Token:
        return self.tokens[self.i] if self.i < len(self.tokens) else self.tokens[-1]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.typ is T.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup()
        return tok

    def expect(self, typ: T, context: str) -> Token:
        tok = self.next_non_space()
        if tok.typ is not typ:
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Token, context: str) -> None:
        if tok.typ is T.ERROR:
            raise self.error(str(tok))
        raise self.error(f"unexpected {tok} in {context}")

    # --- top level -----------------------------------------------------------------------------------------

    def parse(self) -> ListNode:
        root = ListNode(0)
        while self.peek().typ is not T.EOF:
            if self.peek().typ is T.LEFT_DELIM:
                self.next()
                tok = self.next_non_space()
                if tok.typ is T.KEYWORD and tok.val == "define":
                    self.parse_definition()
                    continue
                self.i -= 1
                while self.tokens[self.i].typ is not T.LEFT_DELIM:
                    self.i -= 1
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                raise self.error(f"unexpected {n}")
            if n is not None:
                root.nodes.append(n)
        return root

    def parse_definition(self) -> None:
        tok = self.next_non_space()
        name = self.template_name(tok, "define clause")
        self.expect(T.RIGHT_DELIM, "define clause")
        saved_vars = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved_vars
        if not isinstance(end, EndNode):
            raise self.error(f"unexpected {end} in define clause")
        self.add_template(name, body)

    def add_template(self, name: str, body: ListNode) -> None:
        # Go replaces an existing definition unless the new one is empty (whitespace/comments only).
        if name in self.templates and all(isinstance(n, TextNode) and not n.text.strip() for n in body.nodes):
            return
        self.templates[name] = body

    def template_name(self, tok: Token, context: str) -> str:
        if tok.typ in (T.STRING, T.RAW_STRING):
            try:
                return go_unquote(tok.val)
            except ValueError as e:
                raise self.error(str(e)) from None
        self.unexpected(tok, context)
        return ""

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ is not T.EOF:
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                return lst, n
            if n is not None:
                lst.nodes.append(n)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> Node | None:
        tok = self.next_non_space()
        if tok.typ is T.TEXT:
            return TextNode(tok.pos, tok.val)
        if tok.typ is T.LEFT_DELIM:
            return self.action()
        self.unexpected(tok, "input")
        return None

    # --- actions -------------------------------------------------------------------------------------------

    def action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ is T.KEYWORD:
            kw = tok.val
            if kw == "block":
                return self.block_control(tok)
            if kw in ("break", "continue"):
                if self.range_depth == 0:
                    raise self.error(f"{{{{{kw}}}}} outside {{{{range}}}}")
                self.expect(T.RIGHT_DELIM, "{{" + kw + "}}")
                return BreakNode(tok.pos) if kw == "break" else ContinueNode(tok.pos)
            if kw == "else":
                peek = self.peek_non_space()
                if not (peek.typ is T.KEYWORD and peek.val in ("if", "with")):
                    self.expect(T.RIGHT_DELIM, "else")
                return ElseNode(tok.pos)
            if kw == "end":
                self.expect(T.RIGHT_DELIM, "end")
                return EndNode(tok.pos)
            if kw in ("if", "range", "with"):
                return self.parse_control(kw, tok.pos)
            if kw == "template":
                return self.template_control(tok)
        self.backup()
        tok = self.peek()
        return ActionNode(tok.pos, self.pipeline("command", T.RIGHT_DELIM))

    def parse_control(self, context: str, pos: int) -> BranchNode:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, ElseNode):
                peek = self.peek_non_space()
                if context in ("if", "with") and peek.typ is T.KEYWORD and peek.val == context:
                    # "{{else if ...}}" is sugar for "{{else}}{{if ...}}...{{end}}" sharing one {{end}}.
                    kw_tok = self.next_non_space()
                    else_list = ListNode(nxt.pos, [self.parse_control(context, kw_tok.pos)])
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        raise self.error(f"expected end; found {nxt}")
            cls = {"if": IfNode, "range": RangeNode, "with": WithNode}[context]
            return cls(pos, pipe, body, else_list)
        finally:
            del self.vars[mark:]

    def template_control(self, tok: Token) -> TemplateNode:
        name = self.template_name(self.next_non_space(), "template clause")
        pipe: PipeNode | None = None
        if self.next_non_space().typ is not T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline("template clause", T.RIGHT_DELIM)
        return TemplateNode(tok.pos, name, pipe)

    def block_control(self, tok: Token) -> TemplateNode:
        name = self.template_name(self.next_non_space(), "block clause")
        pipe = self.pipeline("block clause", T.RIGHT_DELIM)
        saved_vars = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved_vars
        if not isinstance(end, EndNode):
            raise self.error(f"unexpected {end} in block clause")
        self.add_template(name, body)
        return TemplateNode(tok.pos, name, pipe)

    # --- pipelines -----------------------------------------------------------------------------------------

    def pipeline(self, context: str, end: T) -> PipeNode:
        pipe = PipeNode(self.peek_non_space().pos)
        while True:
            v = self.peek_non_space()
            if v.typ is not T.VARIABLE:
                break
            save = self.i
            self.next_non_space()
            after_var = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ is T.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, [v.val]))
                self.vars.append(v.val)
                break
            if nxt.typ is T.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, [v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            del after_var
            self.i = save
            break
        while True:
            tok = self.next_non_space()
            if tok.typ is end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (
                T.BOOL, T.CHAR_CONSTANT, T.DOT, T.FIELD, T.IDENTIFIER, T.NUMBER, T.NIL,
                T.RAW_STRING, T.STRING, T.VARIABLE, T.LEFT_PAREN,
            ):  # fmt: skip
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(tok, context)

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ is T.SPACE:
                continue
            if tok.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif tok.typ is not T.PIPE:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ is T.FIELD:
            fields: list[str] = []
            while self.peek().typ is T.FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(node.pos, node.ident + fields)
            if isinstance(node, VariableNode):
                return VariableNode(node.pos, node.ident + fields)
            if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                raise self.error(f"unexpected . after term {go_str(str(node))}")
            return ChainNode(node.pos, node, fields)
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ is T.IDENTIFIER:
            if tok.val not in self.funcs:
                raise self.error(f"function {go_str(tok.val)} not defined")
            return IdentifierNode(tok.pos, tok.val)
        if typ is T.DOT:
            return DotNode(tok.pos)
        if typ is T.NIL:
            return NilNode(tok.pos)
        if typ is T.VARIABLE:
            if tok.val not in self.vars:
                raise self.error(f"undefined variable {go_str(tok.val)}")
            return VariableNode(tok.pos, [tok.val])
        if typ is T.FIELD:
            return FieldNode(tok.pos, [tok.val[1:]])
        if typ is T.BOOL:
            return BoolNode(tok.pos, tok.val == "true")
        if typ in (T.CHAR_CONSTANT, T.NUMBER):
            try:
                return NumberNode(tok.pos, tok.val, parse_number(tok.val, typ))
            except ValueError:
                raise self.error(f"illegal number syntax: {go_str(tok.val)}") from None
        if typ is T.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        if typ in (T.STRING, T.RAW_STRING):
            try:
                return StringNode(tok.pos, tok.val, go_unquote(tok.val))
            except ValueError as e:
                raise self.error(str(e)) from None
        self.backup()
        return None


def go_str(s: str) -> str:
    """Go's %q for the ASCII-ish identifiers and literals that appear in parse errors."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_tree(text: str, funcs: Collection[str], name: str = "") -> tuple[ListNode, dict[str, ListNode]]:
    p = Parser(text, funcs, name)
    root = p.parse()
    return root, p.templates
