"""Pure translation between Anthropic's Messages API and the native chat request and response.

``to_chat_request`` turns a ``MessagesRequest`` into a native ``ChatRequest`` (system first, each message's
blocks into native messages, tool results as ``tool`` messages, sampling fields into options);
``to_message`` turns a native (combined) ``ChatResponse`` into Anthropic's message object.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from pollama.anthropic.wire import Block, CountTokensRequest, MessageParam, MessagesRequest, ToolParam
from pollama.api.responses import ChatResponse
from pollama.api.types import ChatRequest, Message, ToolCall, ToolCallFunction
from pollama.errors import BadRequest

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "max", "xhigh": "high"}


def new_id(prefix: str) -> str:
    """Anthropic's ids: a prefix and 24 hex digits (``msg_…``, ``toolu_…``, ``req_…``)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def check(req: CountTokensRequest) -> None:
    """Ollama's checks, in its order, before anything is translated."""
    if not req.model:
        raise BadRequest("model is required")
    if isinstance(req, MessagesRequest) and (req.max_tokens is None or req.max_tokens <= 0):
        raise BadRequest("max_tokens is required and must be positive")
    if not req.messages:
        raise BadRequest("messages is required")


def to_chat_request(req: CountTokensRequest) -> ChatRequest:
    """The native chat request that answers ``req`` (a ``MessagesRequest``, or a count_tokens body)."""
    check(req)
    messages: list[Message] = []
    system = _system_text(req.system)
    if system:
        messages.append(Message(role="system", content=system))
    names: dict[str, str] = {}
    for param in req.messages or []:
        messages += _convert_message(param, names)
    options: dict[str, Any] = {}
    stream = False
    if isinstance(req, MessagesRequest):
        options["num_predict"] = req.max_tokens
        for key in ("temperature", "top_p", "top_k"):
            value = getattr(req, key)
            if value is not None:
                options[key] = value
        if req.stop_sequences:
            options["stop"] = req.stop_sequences
        stream = bool(req.stream)
    tools = [_convert_tool(t) for t in req.tools] if req.tools else None
    return ChatRequest(
        model=req.model,
        messages=messages,
        options=options,
        stream=stream,
        tools=tools,
        tool_choice=_tool_choice(req),
        think=_think(req),
    )


def _system_text(system: str | list[Block] | None) -> str:
    if isinstance(system, list):
        return "".join(b.text or "" for b in system if b.type == "text")
    return system or ""


def _convert_message(param: MessageParam, names: dict[str, str]) -> list[Message]:
    """One Anthropic message as native messages: tool results become ``tool`` messages (before the user's own
    text, which follows them in the turn), everything else one message of the same role."""
    if isinstance(param.content, str):
        return [Message(role=param.role, content=param.content)]
    text: list[str] = []
    images: list[str] = []
    calls: list[ToolCall] = []
    thinking = ""
    results: list[Message] = []
    for block in param.content:
        if block.type == "text":
            text.append(block.text or "")
        elif block.type == "image":
            images.append(_image(block))
        elif block.type == "tool_use":
            if not block.id:
                raise BadRequest("tool_use block missing required 'id' field")
            if not block.name:
                raise BadRequest("tool_use block missing required 'name' field")
            names[block.id] = block.name
            calls.append(ToolCall(id=block.id, function=ToolCallFunction(name=block.name, arguments=block.input or {})))
        elif block.type == "tool_result":
            results.append(_tool_result(block, names))
        elif block.type == "thinking":
            thinking = block.thinking or ""
        # redacted_thinking, documents and server tool blocks carry nothing a local model can use.
    out = list(results) if param.role == "user" else []
    if text or images or calls or thinking:
        out.append(
            Message(
                role=param.role,
                content="".join(text),
                images=images or None,
                tool_calls=calls or None,
                thinking=thinking or None,
            )
        )
    if param.role != "user":
        out += results
    return out


def _image(block: Block) -> str:
    source = block.source
    if source is None:
        raise BadRequest("invalid image source")
    if source.type != "base64":
        raise BadRequest(f"invalid image source type: {source.type}. Only base64 images are supported.")
    try:
        base64.b64decode(source.data or "", validate=True)
    except (binascii.Error, ValueError) as err:
        raise BadRequest(f"invalid base64 image data: {err}") from None
    return source.data or ""


def _tool_result(block: Block, names: dict[str, str]) -> Message:
    content = block.content
    images: list[str] = []
    if isinstance(content, list):
        text = "".join(b.text or "" for b in content if b.type == "text")
        images = [_image(b) for b in content if b.type == "image"]
    else:
        text = content or ""
    call_id = block.tool_use_id or ""
    return Message(
        role="tool",
        content=text,
        images=images or None,
        tool_call_id=call_id or None,
        tool_name=names.get(call_id),
    )


def _convert_tool(tool: ToolParam) -> dict[str, Any]:
    if tool.type not in (None, "custom"):
        raise BadRequest(f"tool type {tool.type!r} is not supported: only custom tools (name, input_schema) are")
    if not tool.name:
        raise BadRequest("tools: tool name is required")
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = tool.input_schema or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


def _tool_choice(req: CountTokensRequest) -> Any:
    """Anthropic's ``tool_choice`` in the OpenAI form the native request carries."""
    choice = req.tool_choice
    if choice is None:
        return None
    if choice.type == "any":
        return "required"
    if choice.type == "tool":
        if not choice.name:
            raise BadRequest("tool_choice.name: Field required")
        return {"type": "function", "function": {"name": choice.name}}
    return choice.type


def _think(req: CountTokensRequest) -> bool | str | None:
    # The thinking budget has no native counterpart: a thinking model thinks until it is done (or max_tokens).
    if req.thinking is not None:
        return req.thinking.type != "disabled"
    if req.output_config is not None and req.output_config.effort:
        return _EFFORTS.get(req.output_config.effort.strip().lower())
    return None


def stop_reason(done_reason: str, tool_use: bool, stop_sequence: str = "") -> str | None:
    if tool_use:
        return "tool_use"
    if not done_reason:
        return None
    if stop_sequence:
        return "stop_sequence"
    return _STOP_REASONS.get(done_reason, "stop_sequence")


def tool_use_id(native_id: str | None) -> str:
    """Native ids are OpenAI-style (``call_…``); Anthropic clients expect ``toolu_…``."""
    if native_id and native_id.startswith("toolu_"):
        return native_id
    return new_id("toolu")


def tool_use_block(call: ToolCall) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": tool_use_id(call.id),
        "name": call.function.name,
        "input": call.function.arguments,
    }


def usage(response: ChatResponse) -> dict[str, int]:
    metrics = response.metrics
    return {
        "input_tokens": metrics.prompt_eval_count if metrics else 0,
        "output_tokens": metrics.eval_count if metrics else 0,
    }


def to_message(msg_id: str, response: ChatResponse) -> dict[str, Any]:
    """Anthropic's message object for a finished (combined) native chat response."""
    content: list[dict[str, Any]] = []
    message = response.message
    if message.thinking:
        content.append({"type": "thinking", "thinking": message.thinking, "signature": ""})
    if message.content:
        content.append({"type": "text", "text": message.content})
    content += [tool_use_block(c) for c in message.tool_calls]
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": stop_reason(response.done_reason, bool(message.tool_calls), response.stop_sequence),
        "stop_sequence": response.stop_sequence or None,
        "usage": usage(response),
    }


def estimate_input_tokens(req: CountTokensRequest) -> int:
    """A rough count (4 characters a token) for ``message_start``, sent before the prompt is evaluated."""
    chars = len(_system_text(req.system))
    for param in req.messages or []:
        chars += len(param.content) if isinstance(param.content, str) else len(json.dumps(param.model_dump()))
    for tool in req.tools or []:
        chars += len(json.dumps(tool.model_dump()))
    return max(1, chars // 4)
