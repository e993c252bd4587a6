"""Request bodies of ``/v1/messages`` and ``/v1/messages/count_tokens`` as Anthropic's API defines them, decoded
strictly (no type coercion), with validation errors in Anthropic's words (``path: message``)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from pollama.api.jsonio import load_object
from pollama.errors import BadRequest


class Wire(BaseModel):
    # Anthropic adds fields often (cache_control, citations, metadata...); unknown ones are ignored, not refused.
    model_config = ConfigDict(extra="ignore", strict=True)


class ImageSource(Wire):
    type: StrictStr
    media_type: StrictStr | None = None
    data: StrictStr | None = None
    url: StrictStr | None = None


class Block(Wire):
    """One content block; which fields matter depends on ``type``."""

    type: StrictStr
    text: StrictStr | None = None
    source: ImageSource | None = None
    id: StrictStr | None = None
    name: StrictStr | None = None
    input: dict[str, Any] | None = None
    tool_use_id: StrictStr | None = None
    content: StrictStr | list[Block] | None = None
    is_error: StrictBool | None = None
    thinking: StrictStr | None = None
    signature: StrictStr | None = None
    data: StrictStr | None = None


class MessageParam(Wire):
    role: Literal["user", "assistant"]
    content: StrictStr | list[Block]


class ToolParam(Wire):
    name: StrictStr
    description: StrictStr | None = None
    input_schema: dict[str, Any] | None = None
    type: StrictStr | None = None


class ToolChoice(Wire):
    type: Literal["auto", "any", "tool", "none"]
    name: StrictStr | None = None
    disable_parallel_tool_use: StrictBool | None = None


class ThinkingConfig(Wire):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: StrictInt | None = None


class OutputConfig(Wire):
    effort: StrictStr | None = None


class CountTokensRequest(Wire):
    """The body of ``/v1/messages/count_tokens``: a messages request without the sampling fields."""

    model: StrictStr | None = None
    messages: list[MessageParam] | None = None
    system: StrictStr | list[Block] | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None


class MessagesRequest(CountTokensRequest):
    """The body of ``/v1/messages``."""

    max_tokens: StrictInt | None = None
    stop_sequences: list[StrictStr] | None = None
    stream: StrictBool | None = None
    temperature: StrictFloat | None = None
    top_p: StrictFloat | None = None
    top_k: StrictInt | None = None
    metadata: dict[str, Any] | None = None
    service_tier: StrictStr | None = None


R = TypeVar("R", bound=CountTokensRequest)


def decode(body: bytes, model: type[R]) -> R:
    """Parse and validate a request body; anything malformed is a 400 saying where."""
    raw = load_object(body, empty="request body is empty")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        # Unions add the member's type to the location ("content.str"); Anthropic names only the field path.
        where = ".".join(str(p) for p in first["loc"] if not _is_type_tag(p))
        raise BadRequest(f"{where}: {first['msg']}" if where else str(first["msg"])) from None


def _is_type_tag(part: int | str) -> bool:
    return isinstance(part, str) and (part in ("str", "int", "float", "bool") or "[" in part or part[:1].isupper())


# Response bodies: built as dicts (``translate.to_message``, ``errors.error_body``); these models describe them
# for ``/openapi.json`` and forbid unknown fields, so tests validating real output against them catch drift.


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextBlock(Out):
    type: Literal["text"]
    text: str


class ThinkingBlock(Out):
    type: Literal["thinking"]
    thinking: str
    signature: str


class ToolUseBlock(Out):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class MessageUsage(Out):
    input_tokens: int
    output_tokens: int


class MessageBody(Out):
    """The answer of a non-streamed ``/v1/messages``."""

    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[ThinkingBlock | TextBlock | ToolUseBlock]
    stop_reason: Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"] | None
    stop_sequence: str | None
    usage: MessageUsage


class CountTokensBody(Out):
    input_tokens: int


class AnthropicErrorDetail(Out):
    type: str
    message: str


class AnthropicErrorBody(Out):
    """Every error under ``/v1/messages``; the same ``request_id`` is in the ``request-id`` header."""

    type: Literal["error"]
    error: AnthropicErrorDetail
    request_id: str
