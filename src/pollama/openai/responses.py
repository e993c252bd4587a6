"""OpenAI's Responses API request (``POST /v1/responses``) and its translation to a native ``ChatRequest``.

Stateless, as in Ollama: the whole conversation comes in ``input`` (a string, or items: messages, function
calls, their outputs, reasoning); nothing is stored, so ``previous_response_id`` and ``conversation`` are
refused rather than silently ignored.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from pollama.api.jsonio import load_object
from pollama.api.types import ChatRequest, Message, ToolCall, ToolCallFunction
from pollama.errors import BadRequest


class ResponsesRequest(BaseModel):
    """The fields pollama reads; the rest of OpenAI's request is accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr | None = None
    input: StrictStr | list[dict[str, Any]] | None = None
    instructions: StrictStr | None = None
    max_output_tokens: StrictInt | None = None
    temperature: StrictFloat | StrictInt | None = None
    top_p: StrictFloat | StrictInt | None = None
    reasoning: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    parallel_tool_calls: StrictBool | None = None
    truncation: StrictStr | None = None
    stream: StrictBool | None = None
    background: StrictBool | None = None
    previous_response_id: StrictStr | None = None
    conversation: Any = None
    metadata: dict[str, Any] | None = None
    keep_alive: Any = None


def parse_request(body: bytes) -> ResponsesRequest:
    """The request body, or a ``BadRequest`` that says what is wrong with it."""
    raw = load_object(body, empty="missing request body")
    try:
        return ResponsesRequest.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not _is_union_tag(p))
        raise BadRequest(f"invalid value for '{where}': {first['msg']}") from None


def _is_union_tag(part: int | str) -> bool:
    # pydantic names the union member it tried ("str", "list[dict[str,any]]") in the location.
    return isinstance(part, str) and (part.startswith(("list[", "dict[")) or part in ("str", "float", "int", "bool"))


REASONING_EFFORTS: dict[str, bool | str] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "max",
    "xhigh": "max",
    "ultra": "max",
}


def to_chat_request(r: ResponsesRequest) -> ChatRequest:
    """The native request that answers ``r`` (Ollama's ``FromResponsesRequest``, plus ``tool_choice``)."""
    if r.previous_response_id:
        raise BadRequest("previous_response_id is not supported: responses are not stored, send the whole input")
    if r.conversation is not None:
        raise BadRequest("conversation is not supported: responses are not stored, send the whole input")
    if r.background:
        raise BadRequest("background responses are not supported")
    messages: list[Message] = []
    if r.instructions:
        messages.append(Message(role="system", content=r.instructions))
    if isinstance(r.input, str):
        if r.input:
            messages.append(Message(role="user", content=r.input))
    elif r.input is not None:
        messages += input_messages(r.input)
    options: dict[str, Any] = {"temperature": 1.0 if r.temperature is None else r.temperature}
    if r.top_p is not None:
        options["top_p"] = r.top_p
    if r.max_output_tokens is not None:
        options["num_predict"] = r.max_output_tokens
    tools = [native_tool(t, i) for i, t in enumerate(r.tools)] if r.tools else None
    return ChatRequest(
        model=r.model,
        messages=messages,
        options=options,
        tools=tools,
        format=text_format(r.text),
        think=think_of(r.reasoning),
        tool_choice=tool_choice_of(r.tool_choice),
        stream=bool(r.stream),
        keep_alive=r.keep_alive,
    )


def input_messages(items: list[dict[str, Any]]) -> list[Message]:
    """The native conversation of an ``input`` item list.

    Consecutive function calls join one assistant message (with the text and reasoning before them), a
    function's output becomes a ``tool`` message named after its call, and a reasoning item is the thinking of
    the assistant turn that follows it.
    """
    messages: list[Message] = []
    names: dict[str, str] = {}
    pending_thinking = ""
    for i, item in enumerate(items):
        kind = item.get("type") or ("message" if item.get("role") else "")
        if kind == "reasoning":
            pending_thinking = _reasoning_text(item, i)
        elif kind == "message":
            msg = _message(item, i)
            if msg.role == "assistant" and pending_thinking:
                msg.thinking, pending_thinking = pending_thinking, ""
            if _answers_last_call(msg, messages, items[i + 1 : i + 2]):
                # Replayed between a call and its output: kept in the call's turn, so the result follows its call.
                turn = messages[-1]
                turn.content = "\n".join(t for t in (turn.content, msg.content) if t)
                turn.thinking = msg.thinking or turn.thinking
                continue
            messages.append(msg)
        elif kind == "function_call":
            call = _function_call(item, i)
            names[call.id or ""] = call.function.name
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant":
                last.tool_calls = [*(last.tool_calls or []), call]
            else:
                last = Message(role="assistant", content="", tool_calls=[call])
                messages.append(last)
            if pending_thinking:
                last.thinking, pending_thinking = pending_thinking, ""
        elif kind == "function_call_output":
            call_id = _str(item, "call_id", i)
            content, images = _output_content(item.get("output"), i)
            tool = Message(role="tool", content=content, tool_call_id=call_id or None, tool_name=names.get(call_id))
            tool.images = images or None
            messages.append(tool)
        elif not kind:
            raise BadRequest(f"input[{i}]: input item missing required 'type' field")
        else:
            raise BadRequest(f'input[{i}]: unknown input item type: "{kind}"')
    if pending_thinking:
        messages.append(Message(role="assistant", content="", thinking=pending_thinking))
    return messages


def _answers_last_call(msg: Message, messages: list[Message], following: list[dict[str, Any]]) -> bool:
    """An assistant message followed by the output of a call the previous assistant turn made."""
    if msg.role != "assistant" or not messages or not following or following[0].get("type") != "function_call_output":
        return False
    last = messages[-1]
    return last.role == "assistant" and any(c.id == following[0].get("call_id") for c in last.tool_calls or [])


def _str(item: dict[str, Any], key: str, i: int) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"input[{i}]: '{key}' must be a string")
    return value


def _message(item: dict[str, Any], i: int) -> Message:
    role = _str(item, "role", i).lower()
    if role not in ("user", "assistant", "system", "developer"):
        raise BadRequest(f'input[{i}]: invalid role "{role}" (must be "user", "assistant", "system" or "developer")')
    content, images = _content(item.get("content"), f"input[{i}]")
    # Chat templates know "system"; OpenAI's "developer" is the same turn under a newer name.
    msg = Message(role="system" if role == "developer" else role, content=content)
    msg.images = images or None
    return msg


def _content(raw: Any, where: str) -> tuple[str, list[str]]:
    """Text and base64 images of a message's ``content``: a string or a list of content parts."""
    if raw is None:
        return "", []
    if isinstance(raw, str):
        return raw, []
    if not isinstance(raw, list):
        raise BadRequest(f"{where}: content must be a string or array")
    text, images = "", []
    for j, part in enumerate(raw):
        if not isinstance(part, dict):
            raise BadRequest(f"{where}: content[{j}] must be an object")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "refusal"):
            value = part.get("text", part.get("refusal", ""))
            if not isinstance(value, str):
                raise BadRequest(f"{where}: content[{j}].text must be a string")
            text += value
        elif kind == "input_image":
            url = part.get("image_url")
            if url:  # a file_id names an upload pollama does not have
                images.append(_image_data(url, f"{where}: content[{j}]"))
        elif kind == "input_file":
            raise BadRequest("file inputs are not currently supported")
        else:
            raise BadRequest(f"{where}: content[{j}]: unknown content type: {kind}")
    return text, images


def _image_data(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        raise BadRequest(f"{where}: image_url must be a base64 data URL (data:image/...;base64,...)")
    return url.split(";base64,", 1)[1]


def _output_content(raw: Any, i: int) -> tuple[str, list[str]]:
    if isinstance(raw, str) or raw is None:
        return raw or "", []
    if isinstance(raw, list):
        return _content(raw, f"input[{i}].output")
    # Clients often hand back the tool's JSON result unserialised; the model reads it as JSON text.
    return json.dumps(raw), []


def _function_call(item: dict[str, Any], i: int) -> ToolCall:
    name = _str(item, "name", i)
    arguments = item.get("arguments") or "{}"
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments)
        except json.JSONDecodeError as err:
            raise BadRequest(f"input[{i}]: failed to parse function call arguments: {err}") from None
    else:
        args = arguments
    if not isinstance(args, dict):
        raise BadRequest(f"input[{i}]: function call arguments must be a JSON object")
    call_id = _str(item, "call_id", i)
    return ToolCall(id=call_id or None, function=ToolCallFunction(name=name, arguments=args))


def _reasoning_text(item: dict[str, Any], i: int) -> str:
    """The thinking a reasoning item carries: Ollama puts it in ``encrypted_content``; otherwise the summary."""
    encrypted = item.get("encrypted_content")
    if isinstance(encrypted, str) and encrypted:
        return encrypted
    parts = item.get("summary") or item.get("content") or []
    if not isinstance(parts, list):
        raise BadRequest(f"input[{i}]: reasoning summary must be an array")
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def native_tool(tool: dict[str, Any], i: int) -> dict[str, Any]:
    """A Responses tool (flat: ``type``, ``name``, ``description``, ``parameters``) in the native, nested shape."""
    kind = tool.get("type")
    if kind != "function":
        raise BadRequest(f'tools[{i}]: unsupported tool type "{kind}" (only "function" tools are supported)')
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"tools[{i}]: a function tool needs a name")
    function: dict[str, Any] = {"name": name}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    params = tool.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise BadRequest(f"tools[{i}]: parameters must be a JSON schema object")
    function["parameters"] = params or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


def tool_choice_of(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """``tool_choice`` in the OpenAI chat form the native request carries."""
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise BadRequest(f'invalid tool_choice "{choice}" (must be "none", "auto", "required" or a function)')
        return choice
    if choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    if choice.get("type") == "allowed_tools" and choice.get("mode") in ("auto", "required"):
        mode: str = choice["mode"]
        return mode
    raise BadRequest('invalid tool_choice: expected {"type": "function", "name": ...}')


def text_format(text: dict[str, Any] | None) -> Any:
    """``text.format`` as the native ``format``: a json_schema's schema, ``"json"`` for json_object."""
    fmt = (text or {}).get("format")
    if not isinstance(fmt, dict):
        return None
    kind = fmt.get("type")
    if kind == "json_schema":
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise BadRequest("text.format: a json_schema format needs a schema object")
        return schema
    if kind == "json_object":
        return "json"
    if kind in (None, "text"):
        return None
    raise BadRequest(f'text.format: unknown type "{kind}" (must be "text", "json_schema" or "json_object")')


def think_of(reasoning: dict[str, Any] | None) -> bool | str | None:
    """``reasoning.effort`` as the native ``think`` (Ollama's ``thinkFromReasoningEffort``)."""
    effort = (reasoning or {}).get("effort")
    if effort is None or effort == "":
        return None
    if not isinstance(effort, str) or effort not in REASONING_EFFORTS:
        raise BadRequest(
            f'invalid reasoning value: "{effort}" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", '
            '"max", or "none")'
        )
    return REASONING_EFFORTS[effort]
