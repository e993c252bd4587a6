"""Execution of a parsed Go template over Python data, following Go's text/template/exec.go.

It owns the variable stack (Go scoping: a declaration lives until the `end` of the enclosing control
structure; `{{template}}` calls see only `$`), field chains, pipelines, function calls (lazy `and`/`or`),
range/with/if, break/continue, and printing with Go's rules (`<no value>` for a missing value).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .errors import TemplateError
from .funcs import Func, FuncError
from .gofmt import format_v, sort_keys
from .nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
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
from .values import go_type_name, is_func, is_struct, is_true, missing, struct_field

_NO_FINAL = object()  # Go's missingVal: "no value from a previous pipeline stage"
_MAX_DEPTH = 200


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Executor:
    def __init__(
        self,
        text: str,
        templates: Mapping[str, ListNode],
        funcs: Mapping[str, Func],
        name: str = "",
    ) -> None:
        self.text = text
        self.templates = templates
        self.funcs = funcs
        self.name = name
        self.out: list[str] = []
        self.vars: list[list[Any]] = []
        self.depth = 0

    # --- errors --------------------------------------------------------------------------------------------

    def error(self, node: Node | None, msg: str) -> TemplateError:
        if node is None:
            return TemplateError(f"template: {self.name}: {msg}")
        before = self.text[: node.pos]
        line = before.count("\n") + 1
        nl = before.rfind("\n")
        col = node.pos if nl < 0 else node.pos - nl - 1
        return TemplateError(f'template: {self.name}:{line}:{col}: executing "{self.name}" at <{node}>: {msg}')

    # --- variables -----------------------------------------------------------------------------------------

    def set_var(self, node: Node, name: str, value: object) -> None:
        for slot in reversed(self.vars):
            if slot[0] == name:
                slot[1] = value
                return
        raise self.error(node, f"undefined variable: {name}")

    def var_value(self, node: Node, name: str) -> object:
        for slot in reversed(self.vars):
            if slot[0] == name:
                return slot[1]
        raise self.error(node, f"undefined variable: {name}")

    # --- walking -------------------------------------------------------------------------------------------

    def run(self, root: ListNode, data: object) -> str:
        self.vars = [["$", data]]
        try:
            self.walk(data, root)
        except RecursionError:
            raise self.error(None, f"exceeded maximum template depth ({_MAX_DEPTH})") from None
        return "".join(self.out)

    def walk(self, dot: object, node: Node) -> None:
        if isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val)
        elif isinstance(node, (IfNode, WithNode)):
            mark = len(self.vars)
            val = self.eval_pipeline(dot, node.pipe)
            if is_true(val):
                self.walk(val if isinstance(node, WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
            del self.vars[mark:]
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        elif isinstance(node, CommentNode):
            pass
        else:
            raise self.error(node, f"unknown node: {node}")

    def walk_range(self, dot: object, node: RangeNode) -> None:
        mark0 = len(self.vars)
        val = self.eval_pipeline(dot, node.pipe)
        mark = len(self.vars)
        ndecl = len(node.pipe.decl)
        items: list[tuple[object, object]]
        if val is None:
            items = []
        elif isinstance(val, dict):
            items = [(k, val[k]) for k in sort_keys(val)]
        elif isinstance(val, (list, tuple, bytes)):
            items = list(enumerate(val))
        elif isinstance(val, int) and not isinstance(val, bool):
            # Go 1.22: range over an integer yields 0..n-1 and allows only one variable.
            if ndecl > 1:
                raise self.error(node, f"can't use {val} to iterate over more than one variable")
            items = [(i, i) for i in range(val)]
        elif isinstance(val, str) or is_struct(val) or not hasattr(val, "__iter__"):
            raise self.error(node, f"range can't iterate over {format_v(val)}")
        else:
            items = list(enumerate(val))
        for index, elem in items:
            if ndecl > 0:
                self.vars[-1][1] = elem
            if ndecl > 1:
                self.vars[-2][1] = index
            try:
                self.walk(elem, node.list)
            except _Continue:
                pass
            except _Break:
                del self.vars[mark:]
                break
            del self.vars[mark:]
        if not items and node.else_list is not None:
            self.walk(dot, node.else_list)
        del self.vars[mark0:]

    def walk_template(self, dot: object, node: TemplateNode) -> None:
        tmpl = self.templates.get(node.name)
        if tmpl is None:
            raise self.error(node, f'template "{node.name}" not defined')
        if self.depth >= _MAX_DEPTH:
            raise self.error(node, f"exceeded maximum template depth ({_MAX_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        saved_vars, saved_name = self.vars, self.name
        self.vars = [["$", new_dot]]
        self.depth += 1
        self.name = node.name
        try:
            self.walk(new_dot, tmpl)
        finally:
            self.vars, self.name = saved_vars, saved_name
            self.depth -= 1

    def print_value(self, node: Node, val: object) -> None:
        if val is None:
            self.out.append("<no value>")
        elif is_func(val):
            raise self.error(node, f"can't print {node} of type {go_type_name(val)}")
        else:
            self.out.append(format_v(val))

    # --- evaluation ----------------------------------------------------------------------------------------

    def eval_pipeline(self, dot: object, pipe: PipeNode) -> object:
        value: object = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var, var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def not_a_function(self, args: list[Node], final: object) -> None:
        if len(args) > 1 or final is not _NO_FINAL:
            raise self.error(args[0], f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: object, cmd: CommandNode, final: object) -> object:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, ChainNode):
            recv = self.eval_arg(dot, first.node)
            return self.eval_field_chain(dot, recv, first, first.fields, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd.args, final, cmd)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            value = self.var_value(first, first.ident[0])
            if len(first.ident) == 1:
                self.not_a_function(cmd.args, final)
                return value
            return self.eval_field_chain(dot, value, first, first.ident[1:], cmd.args, final)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.error(first, "nil is not a command")
        if isinstance(first, NumberNode):
            return first.value
        if isinstance(first, StringNode):
            return first.text
        raise self.error(first, f"can't evaluate command {first}")

    def eval_arg(self, dot: object, node: Node) -> object:
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NilNode):
            return None
        if isinstance(node, FieldNode):
            return self.eval_field_chain(dot, dot, node, node.ident, [node], _NO_FINAL)
        if isinstance(node, VariableNode):
            value = self.var_value(node, node.ident[0])
            if len(node.ident) == 1:
                return value
            return self.eval_field_chain(dot, value, node, node.ident[1:], [node], _NO_FINAL)
        if isinstance(node, PipeNode):
            return self.eval_pipeline(dot, node)
        if isinstance(node, IdentifierNode):
            return self.eval_function(dot, node, [node], _NO_FINAL, node)
        if isinstance(node, ChainNode):
            recv = self.eval_arg(dot, node.node)
            return self.eval_field_chain(dot, recv, node, node.fields, [node], _NO_FINAL)
        if isinstance(node, BoolNode):
            return node.value
        if isinstance(node, NumberNode):
            return node.value
        if isinstance(node, StringNode):
            return node.text
        raise self.error(node, f"can't handle {node} for arg")

    def eval_field_chain(
        self, dot: object, receiver: object, node: Node, ident: list[str], args: list[Node], final: object
    ) -> object:
        for i, name in enumerate(ident[:-1]):
            receiver = self.eval_field(dot, name, node, [], _NO_FINAL, receiver, i > 0 or receiver is not None)
        return self.eval_field(dot, ident[-1], node, args, final, receiver, len(ident) > 1)

    def eval_field(
        self, dot: object, name: str, node: Node, args: list[Node], final: object, receiver: object, strict: bool
    ) -> object:
        has_args = len(args) > 1 or final is not _NO_FINAL
        if receiver is None:
            # An invalid value yields the zero value; a nil interface reached through a chain is an error.
            if strict:
                raise self.error(node, f"nil pointer evaluating interface {{}}.{name}")
            return None
        if isinstance(receiver, dict):
            if has_args:
                raise self.error(node, f"{name} is not a method but has arguments")
            return receiver.get(name)
        if not isinstance(receiver, (str, int, float, list, tuple, bytes)):
            value = struct_field(receiver, name)
            if value is not missing():
                if _is_method(receiver, name):
                    return self.call(dot, value, node, name, args[1:] if args else [], final)
                if has_args:
                    raise self.error(node, f"{name} has arguments but cannot be invoked as function")
                return value
        raise self.error(node, f"can't evaluate field {name} in type {go_type_name(receiver)}")

    def eval_function(self, dot: object, node: IdentifierNode, args: list[Node], final: object, cmd: Node) -> object:
        fn = self.funcs.get(node.name)
        if fn is None:
            raise self.error(node, f'"{node.name}" is not a defined function')
        rest = args[1:]
        if node.name in ("and", "or"):
            # Short-circuit like Go 1.18+: stop at the first falsy (and) / truthy (or) argument.
            n = len(rest) + (0 if final is _NO_FINAL else 1)
            if n < 1:
                raise self.error(node, f"wrong number of args for {node.name}: want at least 1 got 0")
            want = node.name == "or"
            v: object = None
            for a in rest:
                v = self.eval_arg(dot, a)
                if is_true(v) == want:
                    return v
            return final if final is not _NO_FINAL else v
        return self.call_func(dot, fn, cmd, node.name, rest, final)

    def call_func(self, dot: object, fn: Func, node: Node, name: str, args: list[Node], final: object) -> object:
        n = len(args) + (0 if final is _NO_FINAL else 1)
        if fn.max_args is None:
            if n < fn.min_args:
                raise self.error(node, f"wrong number of args for {name}: want at least {fn.min_args} got {n}")
        elif not fn.min_args <= n <= fn.max_args:
            raise self.error(node, f"wrong number of args for {name}: want {fn.max_args} got {n}")
        argv = [self.eval_arg(dot, a) for a in args]
        if final is not _NO_FINAL:
            argv.append(final)
        if name == "printf" and not isinstance(argv[0], str):
            raise self.error(node, f"wrong type for value; expected string; got {go_type_name(argv[0])}")
        try:
            return fn.fn(*argv)
        except FuncError as e:
            raise self.error(node, f"error calling {name}: {e}") from None

    def call(self, dot: object, value: object, node: Node, name: str, args: list[Node], final: object) -> object:
        argv = [self.eval_arg(dot, a) for a in args]
        if final is not _NO_FINAL:
            argv.append(final)
        assert callable(value)
        try:
            return value(*argv)
        except TypeError as e:
            raise self.error(node, f"wrong number of args for {name}: {e}") from None
        except Exception as e:
            raise self.error(node, f"error calling {name}: {e}") from None


def _is_method(receiver: object, name: str) -> bool:
    """A Go method (called, receiving arguments) rather than a struct field holding a value."""
    mapping: dict[str, str] | None = getattr(type(receiver), "__go_fields__", None)
    if mapping is not None and name in mapping:
        return False
    if dataclasses.is_dataclass(receiver) and name in {f.name for f in dataclasses.fields(receiver)}:
        return False
    return callable(getattr(receiver, name, None))
