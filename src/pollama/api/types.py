"""Native request bodies of ``/api/generate``, ``/api/chat`` and ``/api/show``, with Ollama's field names, and
the request values they carry (messages, tool calls, ``think``).

Requests are pydantic models in strict mode (Go's decoder does not coerce types) where ``null`` means "absent".
Responses live in ``api.responses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from pollama.errors import BadRequest


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


class InferenceRequest(WireModel):
    """Fields that /api/generate and /api/chat share."""

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
    # Not in Ollama's native API (set by the /v1 layers, accepted natively too): the model's token ids, as
    # decimal strings, to a bias added to their logits; -100 or less bans the token, as OpenAI defines it.
    logit_bias: dict[str, Any] | None = None
    debug_render_only: StrictBool | None = Field(default=None, alias="_debug_render_only")


class GenerateRequest(InferenceRequest):
    prompt: StrictStr | None = None
    suffix: StrictStr | None = None
    system: StrictStr | None = None
    template: StrictStr | None = None
    context: list[StrictInt] | None = None
    raw: StrictBool | None = None
    images: list[StrictStr] | None = None


class ChatRequest(InferenceRequest):
    messages: list[Message] | None = None
    tools: list[dict[str, Any]] | None = None
    # Not in Ollama's native API: set by the /v1 layers, in OpenAI's form ("none", "auto", "required" or
    # {"type": "function", "function": {"name": ...}}), and accepted natively as well.
    tool_choice: Any = None
    # Likewise from the /v1 layers: false allows at most one tool call (the grammar stops after it); a forced
    # tool_choice allows several only when this is true.
    parallel_tool_calls: StrictBool | None = None


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


THINK_LEVELS = ("high", "medium", "low", "max")


@dataclass(frozen=True, slots=True)
class Think:
    """A request's ``think``: absent, a bool, or a level (Go's ``api.ThinkValue``)."""

    value: bool | str | None = None

    @classmethod
    def parse(cls, raw: Any) -> Think:
        if raw is None or isinstance(raw, bool):
            return cls(raw)
        if isinstance(raw, str):
            if raw in THINK_LEVELS:
                return cls(raw)
            raise BadRequest(f'invalid think value: "{raw}" (must be "high", "medium", "low", "max", true, or false)')
        raise BadRequest('think must be a boolean or string ("high", "medium", "low", "max", true, or false)')

    @property
    def enabled(self) -> bool:
        """``Bool()``: true for true and for every level."""
        return bool(self.value)

    @property
    def level(self) -> str:
        """``String()``: the level, ``medium`` for true, empty for false or absent."""
        if isinstance(self.value, str):
            return self.value
        return "medium" if self.value else ""

    @property
    def is_set(self) -> bool:
        return self.value is not None
