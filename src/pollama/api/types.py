"""Native wire models: the request bodies of ``/api/*`` and the response objects, with Ollama's field names.

Requests are pydantic models in strict mode (Go's decoder does not coerce types) where ``null`` means "absent".
Responses are built as ordered dicts because Ollama's field order and ``omitempty`` rules are part of the wire
format; the builders below are the one place that knows them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ToolCallFunction(WireModel):
    index: StrictInt | None = None
    name: StrictStr = ""
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolCall(WireModel):
    id: StrictStr | None = None
    function: ToolCallFunction = Field(default_factory=ToolCallFunction)


class Message(WireModel):
    role: StrictStr = ""
    content: StrictStr | None = ""
    thinking: StrictStr | None = None
    images: list[StrictStr] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_name: StrictStr | None = None
    tool_call_id: StrictStr | None = None

    @field_validator("role")
    @classmethod
    def _lower_role(cls, value: str) -> str:
        return value.lower()


class _Inference(WireModel):
    model: StrictStr | None = None
    stream: StrictBool | None = None
    format: Any = None
    options: dict[str, Any] | None = None
    keep_alive: Any = None
    think: Any = None
    truncate: StrictBool | None = None
    shift: StrictBool | None = None
    logprobs: StrictBool | None = None
    top_logprobs: StrictInt | None = None
    debug_render_only: StrictBool | None = Field(default=None, alias="_debug_render_only")


class GenerateRequest(_Inference):
    prompt: StrictStr | None = None
    suffix: StrictStr | None = None
    system: StrictStr | None = None
    template: StrictStr | None = None
    context: list[StrictInt] | None = None
    raw: StrictBool | None = None
    images: list[StrictStr] | None = None


class ChatRequest(_Inference):
    messages: list[Message] | None = None
    tools: list[dict[str, Any]] | None = None


class ShowRequest(WireModel):
    model: StrictStr | None = None
    name: StrictStr | None = None
    system: StrictStr | None = None
    template: StrictStr | None = None
    verbose: StrictBool | None = None
    options: dict[str, Any] | None = None


GO_TYPES_GENERATE = {"context": "[]int", "images": "[]api.ImageData", "options": "map[string]interface {}"}
GO_TYPES_CHAT = {
    "messages": "[]api.Message",
    "tools": "api.Tools",
    "options": "map[string]interface {}",
    "messages.images": "[]api.ImageData",
    "messages.tool_calls": "[]api.ToolCall",
}


def created_at(now: datetime | None = None) -> str:
    """RFC 3339 with nanosecond precision and trailing zeros trimmed, as Go's ``time.Time`` marshals UTC."""
    t = (now or datetime.now(UTC)).astimezone(UTC)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        base += "." + f"{t.microsecond:06d}".rstrip("0")
    return base + "Z"


def format_time(t: datetime) -> str:
    """RFC 3339 with the local offset, as Go marshals a ``time.Time`` read from the file system."""
    local = t.astimezone()
    base = local.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{local.microsecond:06d}".rstrip("0")
    if frac:
        base += "." + frac
    offset = local.strftime("%z")
    if offset in ("+0000", "-0000"):
        return base + "Z"
    return base + offset[:3] + ":" + offset[3:]


def _metrics(out: dict[str, Any], m: Metrics | None) -> None:
    if m is None:
        return
    for key in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count"):
        value = getattr(m, key)
        if value:
            out[key] = value
    if m.eval_duration:
        out["eval_duration"] = m.eval_duration


class Metrics:
    __slots__ = (
        "eval_count",
        "eval_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "total_duration",
    )

    def __init__(
        self,
        total_duration: int = 0,
        load_duration: int = 0,
        prompt_eval_count: int = 0,
        prompt_eval_duration: int = 0,
        eval_count: int = 0,
        eval_duration: int = 0,
    ) -> None:
        self.total_duration = total_duration
        self.load_duration = load_duration
        self.prompt_eval_count = prompt_eval_count
        self.prompt_eval_duration = prompt_eval_duration
        self.eval_count = eval_count
        self.eval_duration = eval_duration


def generate_response(
    model: str,
    response: str,
    *,
    done: bool,
    thinking: str = "",
    done_reason: str = "",
    context: list[int] | None = None,
    metrics: Metrics | None = None,
    debug_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model, "created_at": created_at(), "response": response}
    if thinking:
        out["thinking"] = thinking
    out["done"] = done
    if done_reason:
        out["done_reason"] = done_reason
    if context:
        out["context"] = context
    _metrics(out, metrics)
    if debug_info is not None:
        out["_debug_info"] = debug_info
    return out


def chat_response(
    model: str,
    content: str,
    *,
    done: bool,
    role: str = "assistant",
    thinking: str = "",
    tool_calls: list[dict[str, Any]] | None = None,
    done_reason: str = "",
    metrics: Metrics | None = None,
    debug_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "content": content}
    if thinking:
        message["thinking"] = thinking
    if tool_calls:
        message["tool_calls"] = tool_calls
    out: dict[str, Any] = {"model": model, "created_at": created_at(), "message": message, "done": done}
    if done_reason:
        out["done_reason"] = done_reason
    if debug_info is not None:
        out["_debug_info"] = debug_info
    _metrics(out, metrics)
    return out
