"""Tool calls in a model's streamed answer: Ollama's generic parser (tools/tools.go), plus the bare-object form.

A call is a JSON object in which a requested tool's name appears; its arguments come from `arguments` or
`parameters` (an object, or a string holding one), else a key named after the tool, else the first nested object
that has them, else the whole object. Calls are looked for after the template's tag (see ``tooltag``). With the
tags `{` and `[` only an answer that starts with the tag can hold calls; any other answer is content throughout.

Beyond Ollama:
- with a wrapper tag such as `<tool_call>`, an answer that starts with a bare JSON object whose `name` is a
  requested tool is a call too (small models drop the tag);
- `{"name": "tool"}` without arguments is a call with no arguments (Ollama's TODO);
- a leading `<|python_tag|>` (Llama 3.1's call marker) does not stop a `{` tag from matching;
- nothing is lost at the end: held text comes back as content when no call was made, and text after the last
  call comes back without the tags around it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pollama.api.types import ToolCall, ToolCallFunction
from pollama.output.base import Piece
from pollama.output.thinking import GO_SPACE

__all__ = ["ToolCallParser", "tool_names"]

PYTHON_TAG = "<|python_tag|>"
# Special tokens that close or separate calls: `<|eom_id|>`, `<｜tool▁call▁end｜>`, `[/TOOL_CALLS]`, code fences.
_CONTROL_TOKEN = re.compile(r"<[|｜][^<>]*?[|｜]>|\[/?[A-Z_]+\]|```(?:json)?")


def tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of the request's tools (raw `{"type": "function", "function": {"name": ...}}` dicts)."""
    names: list[str] = []
    for tool in tools:
        function = tool.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        # An empty name would match anywhere in the text.
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return names


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Go's decoder refuses NaN and Infinity


def _loads_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _args_map(obj: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return _loads_object(value)
    return None


def _find_args(obj: Mapping[str, Any], tool: str) -> tuple[dict[str, Any] | None, bool]:
    """findObject: (arguments, found). An object with a `name` ends the search, with or without arguments."""
    if "name" in obj:
        for key in ("arguments", "parameters"):
            if (args := _args_map(obj, key)) is not None:
                return args, True
        if "arguments" not in obj and "parameters" not in obj and obj["name"] == tool:
            return {}, True
        return None, True
    if (args := _args_map(obj, tool)) is not None:
        return args, True
    for value in obj.values():
        children = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
        for child in children:
            if isinstance(child, dict) and (found := _find_args(child, tool))[1]:
                return found
    return None, False


_STRUCTURAL = re.compile(r'[\\"{}\[\]]')


class _Scan:
    """The brackets outside JSON strings in a growing buffer, as Ollama's byte loops see them (a backslash escapes
    the next character, in a string or not). Resumes where it stopped, so streaming stays linear."""

    def __init__(self) -> None:
        self.pos = 0
        self.in_string = False
        self.escaped = False

    def brackets(self, buf: str) -> Iterator[tuple[int, str]]:
        i = self.pos
        if self.escaped and i < len(buf):
            i, self.escaped = i + 1, False
        while not self.escaped and (m := _STRUCTURAL.search(buf, i)) is not None:
            j = m.start()
            c = buf[j]
            i = j + 1
            if c == "\\":
                self.escaped = i >= len(buf)
                i += 1
            elif c == '"':
                self.in_string = not self.in_string
            elif not self.in_string:
                self.pos = i
                yield j, c
        self.pos = len(buf)


class _FirstObject:
    """findArguments' walk: the first complete top-level `{...}` of the buffer that parses as a JSON object."""

    def __init__(self) -> None:
        self._scan = _Scan()
        self._depth = 0
        self._start = -1
        self.first_end = -1  # where the first top-level object closed, JSON or not
        self.found: tuple[dict[str, Any], int] | None = None

    def advance(self, buf: str) -> tuple[dict[str, Any], int] | None:
        if self.found is not None:
            return self.found
        for i, c in self._scan.brackets(buf):
            if c == "{":
                if self._depth == 0:
                    self._start = i
                self._depth += 1
            elif c == "}":
                self._depth -= 1
                if self._depth == 0 and self._start != -1:
                    if self.first_end < 0:
                        self.first_end = i + 1
                    if (obj := _loads_object(buf[self._start : i + 1])) is not None:
                        self.found = (obj, i + 1)
                        return self.found
                    self._start = -1  # not JSON after all; keep looking
                self._depth = max(self._depth, 0)
        return None


class _Group:
    """done(): whether the `{`/`[` group opened first in the buffer has closed."""

    def __init__(self, open_: str) -> None:
        self._scan = _Scan()
        self._open, self._close = open_, {"{": "}", "[": "]"}[open_]
        self._count = 0
        self.closed = False

    def advance(self, buf: str) -> bool:
        if not self.closed:
            for _, c in self._scan.brackets(buf):
                if c == self._open:
                    self._count += 1
                elif c == self._close:
                    self._count -= 1
                    if self._count == 0:
                        self.closed = True
                        break
        return self.closed


def _closing_tag(tag: str) -> str:
    """`</tool_call>` for `<tool_call>`, `[/TOOL_CALLS]` for `[TOOL_CALLS]`; "" when the tag has no such pair."""
    for open_, close in (("<", ">"), ("[", "]")):
        if len(tag) > 2 and tag[0] == open_ and tag[-1] == close and tag[1] != "/":
            return f"{open_}/{tag[1:]}"
    return ""


class ToolCallParser:
    """Streams content through and turns tool calls into ``ToolCall`` objects (tools.Parser.Add)."""

    def __init__(self, tools: Sequence[Mapping[str, Any]], tag: str, *, bare: bool = True) -> None:
        self.tag = tag or "{"
        self.names = tool_names(tools)
        self._json_tag = self.tag in ("{", "[")
        self._state = "looking"  # looking -> calling -> done
        self._buf = ""
        self._count = 0
        self._object = _FirstObject()
        self._group = _Group("[" if self.tag == "[" else "{")
        # Whether the answer may still turn out to open with a bare call object (wrapper tags only).
        self._bare_possible = bare and not self._json_tag

    @property
    def calls_made(self) -> int:
        return self._count

    def feed(self, text: str) -> Piece:
        calls, content = self.add(text)
        return Piece(content=content, tool_calls=calls)

    def add(self, text: str) -> tuple[list[ToolCall], str]:
        """The calls completed and the content that can be sent now."""
        if self._state == "done":
            return [], text
        self._buf += text
        calls: list[ToolCall] = []
        content = ""
        if self._state == "looking":
            if self._bare_possible:
                decided, calls = self._try_bare()
                if not decided:
                    return [], ""
            if self._state == "looking":
                content = self._look_for_tag()
                if self._state != "calling":
                    return [], content
        calls += self._parse_calls()
        if self._json_tag and self._group.advance(self._buf):
            self._state = "done"
            content += self._buf
            self._set_buffer("")
        return calls, content

    def flush(self) -> Piece:
        held = self._buf
        self._set_buffer("")
        if self._count == 0 or self._state == "looking":
            return Piece(content=held)
        return Piece(content=self._residue(held))

    def _try_bare(self) -> tuple[bool, list[ToolCall]]:
        """Decide whether the answer opens with a bare call object; (False, []) while that is still open."""
        body = self._buf.lstrip(GO_SPACE)
        if not body:
            return False, []
        if body[0] != "{":
            self._bare_possible = False
            return True, []
        # The buffer only grows from here on, so the scan of `body` can resume where it stopped.
        found = self._object.advance(body)
        first_end = self._object.first_end
        if first_end < 0:
            return False, []
        self._bare_possible = False
        self._object = _FirstObject()
        if found is None or found[1] != first_end:
            return True, []  # the opening object is not JSON
        obj, end = found
        name = obj.get("name")
        if not isinstance(name, str) or name not in self.names:
            return True, []
        args, _ = _find_args(obj, name)
        if args is None:
            return True, []
        self._state = "calling"
        self._set_buffer(body[end:])
        return True, [self._make_call(name, args)]

    def _look_for_tag(self) -> str:
        """The content before the tag (or before a partial tag at the end); switches to calling at the tag."""
        buf = self._buf
        i = buf.find(self.tag)
        found = i >= 0
        if not found:
            i = len(buf) - _suffix_overlap(buf, self.tag)
        content = buf[:i]
        self._set_buffer(buf[i:])
        if self._json_tag:
            lead = content.strip(GO_SPACE)
            if lead == PYTHON_TAG and found:
                content = ""
            elif lead and not found and PYTHON_TAG.startswith(lead):
                self._set_buffer(buf)  # maybe Llama's call marker; wait for what follows it
                return ""
            elif lead:
                self._state = "done"
                self._set_buffer("")
                return buf
        if found:
            self._state = "calling"
        return content

    def _parse_calls(self) -> list[ToolCall]:
        calls: list[ToolCall] = []
        while (call := self._parse_call()) is not None:
            calls.append(call)
        return calls

    def _parse_call(self) -> ToolCall | None:
        name, end = self._find_tool()
        if name is None or (found := self._object.advance(self._buf)) is None:
            return None
        obj, obj_end = found
        args, is_call = _find_args(obj, name)
        if not is_call:
            args = obj  # Ollama's last resort: the whole object holds the arguments
        if args is None:
            return None  # Ollama is stuck here for good: the same object is found first every time
        self._set_buffer(self._buf[max(end, obj_end) :])
        return self._make_call(name, args)

    def _find_tool(self) -> tuple[str | None, int]:
        """findTool: the earliest (then longest) tool name in the buffer, and where it ends.

        None while a partial name at the end of the buffer could still become an earlier or longer match
        (`say_hello` may yet be `say_hello_world`). Ollama waits for any partial name at the end; one that starts
        after the match cannot change it, and waiting on it would let a finished call be taken for content.
        """
        buf = self._buf
        if not buf or not self.names:
            return None, 0
        best: str | None = None
        start = -1
        for n in self.names:
            pos = buf.find(n)
            if pos < 0 or (best is not None and (pos > start or (pos == start and len(n) <= len(best)))):
                continue
            best, start = n, pos
        if best is None:
            return None, 0
        longest = max(len(n) for n in self.names)
        for i in range(max(1, len(buf) - start), min(len(buf), longest) + 1):
            tail = buf[-i:]
            if any(len(tail) < len(n) and n.startswith(tail) for n in self.names):
                return None, 0
        return best, start + len(best)

    def _set_buffer(self, text: str) -> None:
        """Replace the buffer (not append to it): the resumable scans start over."""
        self._buf = text
        self._object = _FirstObject()
        self._group = _Group("[" if self.tag == "[" else "{")

    def _make_call(self, name: str, args: dict[str, Any]) -> ToolCall:
        call = ToolCall(function=ToolCallFunction(index=self._count, name=name, arguments=args))
        self._count += 1
        return call

    def _residue(self, text: str) -> str:
        """Text after the last call without the call markup around it; "" when only markup is left."""
        for marker in (self.tag, _closing_tag(self.tag)):
            if marker:
                text = text.replace(marker, "")
        text = _CONTROL_TOKEN.sub("", text)
        # What is left of a list of calls (`]`, `,`) goes too.
        return text.lstrip(GO_SPACE + "[]{},").rstrip(GO_SPACE)


def _suffix_overlap(s: str, tag: str) -> int:
    for i in range(min(len(s), len(tag)), 0, -1):
        if s.endswith(tag[:i]):
            return i
    return 0
