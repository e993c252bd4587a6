"""What a Hugging Face chat template sees: Ollama's messages and tools in the OpenAI-style dict shapes.

transformers passes `messages` and `tools` through as the caller built them, so templates are written against
the OpenAI chat shapes: `{"role", "content", "tool_calls": [{"type": "function", "function": {"name",
"arguments"}}], "tool_call_id", "name", "reasoning_content"}` and `{"type": "function", "function": {"name",
"description", "parameters"}}`. Keys a message does not have are left out, never set empty: templates test
`'tool_calls' in message` or `message.tool_call_id is defined`.
"""

from __future__ import annotations

import json
from typing import Any

from .types import Message, Tool, ToolProperty

__all__ = ["Arguments", "hf_messages", "hf_tools"]


class Arguments(dict[str, Any]):
    """Tool-call arguments: a dict (transformers' documented shape; `| tojson`, `| items`, `is mapping`) that
    also reads as its JSON text where a template treats it as a string (DeepSeek-R1 concatenates
    `'...' + tool['function']['arguments']`, others print `{{ arguments }}`)."""

    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False)

    def __add__(self, other: object) -> str:
        if isinstance(other, str):
            return str(self) + other
        return NotImplemented

    def __radd__(self, other: object) -> str:
        if isinstance(other, str):
            return other + str(self)
        return NotImplemented


def _message(m: Message) -> dict[str, Any]:
    d: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.thinking:
        # Qwen3, GLM and vLLM's convention is reasoning_content; gpt-oss reads thinking.
        d["reasoning_content"] = m.thinking
        d["thinking"] = m.thinking
    if m.tool_calls:
        calls = []
        for tc in m.tool_calls:
            call: dict[str, Any] = {
                "type": "function",
                "function": {"name": tc.function.name, "arguments": Arguments(tc.function.arguments)},
            }
            if tc.id:
                call["id"] = tc.id
            calls.append(call)
        d["tool_calls"] = calls
    if m.tool_name:
        d["name"] = m.tool_name
    if m.tool_call_id:
        d["tool_call_id"] = m.tool_call_id
    return d


def hf_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as transformers' `apply_chat_template` takes them (images stay `[img-N]` markers in content)."""
    return [_message(m) for m in messages]


def _property(p: ToolProperty) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if p.any_of:
        d["anyOf"] = [_property(x) for x in p.any_of]
    if p.type:
        d["type"] = p.type[0] if len(p.type) == 1 else list(p.type)
    if p.description:
        d["description"] = p.description
    if p.enum:
        d["enum"] = list(p.enum)
    if p.items is not None:
        d["items"] = p.items
    if p.properties is not None:
        d["properties"] = {k: _property(v) for k, v in p.properties.items()}
    if p.required:
        d["required"] = list(p.required)
    return d


def _tool(t: Tool) -> dict[str, Any]:
    fn = t.function
    params = fn.parameters
    p: dict[str, Any] = {"type": params.type or "object"}
    if params.defs is not None:
        p["$defs"] = params.defs
    if params.items is not None:
        p["items"] = params.items
    p["properties"] = {k: _property(v) for k, v in (params.properties or {}).items()}
    if params.required:
        p["required"] = list(params.required)
    f: dict[str, Any] = {"name": fn.name}
    if fn.description:
        f["description"] = fn.description
    f["parameters"] = p
    return {"type": t.type or "function", "function": f}


def hf_tools(tools: list[Tool] | None) -> list[dict[str, Any]] | None:
    """Tools as OpenAI-style JSON schema dicts in request order; None when the request has none.

    An empty list is None too: templates test `tools is not none` and would otherwise announce zero tools.
    """
    if not tools:
        return None
    return [_tool(t) for t in tools]
