"""The native API's response bodies as pydantic models: the shapes ``/openapi.json`` publishes.

The responses themselves are written by each type's ``to_wire`` (``api.responses``, ``api.listing``,
``api.embed``), in Go's field order with Go's ``omitempty`` rules; these models describe that output (a field
with a default is one ``omitempty`` may leave out). They forbid unknown fields, so a test that validates real
``to_wire`` output against them fails when the two drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pollama.api.types import ToolCall


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorBody(Body):
    """Every native error: the status says what kind, ``error`` says what happened, in Ollama's words."""

    error: str


class VersionBody(Body):
    version: str


class TokenLogprobBody(Body):
    token: str
    logprob: float
    bytes: list[int] = Field(default_factory=list)


class LogprobBody(TokenLogprobBody):
    top_logprobs: list[TokenLogprobBody] = Field(default_factory=list)


class DebugInfoBody(Body):
    rendered_template: str


class MetricsFields(Body):
    """Counts and nanosecond durations, on the last object of an answer."""

    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0


class GenerateBody(MetricsFields):
    """One object of ``/api/generate`` (a line of the stream, or the whole answer with ``stream: false``)."""

    model: str
    created_at: str
    response: str
    thinking: str = ""
    done: bool
    done_reason: str = ""
    context: list[int] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    debug_info: DebugInfoBody | None = Field(default=None, alias="_debug_info")
    logprobs: list[LogprobBody] = Field(default_factory=list)


class ChatMessageBody(Body):
    role: str
    content: str
    thinking: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)


class ChatBody(MetricsFields):
    """One object of ``/api/chat``."""

    model: str
    created_at: str
    message: ChatMessageBody
    done: bool
    done_reason: str = ""
    debug_info: DebugInfoBody | None = Field(default=None, alias="_debug_info")
    logprobs: list[LogprobBody] = Field(default_factory=list)


class ProgressBody(Body):
    """A status line of create, pull or push; the last is ``{"status": "success"}``."""

    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0


class ModelDetailsBody(Body):
    parent_model: str
    format: str
    family: str
    families: list[str] | None
    parameter_size: str
    quantization_level: str
    context_length: int = 0
    embedding_length: int = 0


class ListedModelBody(Body):
    name: str
    model: str
    modified_at: str
    size: int
    digest: str
    details: ModelDetailsBody
    capabilities: list[str] = Field(default_factory=list)


class TagsBody(Body):
    models: list[ListedModelBody]


class RunningModelBody(Body):
    name: str
    model: str
    size: int
    digest: str
    details: ModelDetailsBody
    expires_at: str
    size_vram: int
    context_length: int


class PsBody(Body):
    models: list[RunningModelBody]


class ShowMessageBody(Body):
    role: str
    content: str


class ShowBody(Body):
    license: str = ""
    modelfile: str
    parameters: str = ""
    template: str = ""
    system: str = ""
    details: ModelDetailsBody
    messages: list[ShowMessageBody] = Field(default_factory=list)
    model_info: dict[str, Any]
    tensors: list[dict[str, Any]] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    modified_at: str


class EmbedBody(Body):
    model: str
    embeddings: list[list[float]]
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0


class EmbeddingBody(Body):
    embedding: list[float]
