"""OpenAI's request and response bodies under ``/v1`` as pydantic models: the shapes ``/openapi.json`` publishes.

Requests are decoded field by field (``openai.fields``), so that each wrong value gets OpenAI's wording and
every field keeps the several forms OpenAI accepts; these models list those fields and forms. Responses are
built as dicts by ``openai.chat``, ``openai.completions``, ``openai.embeddings``, ``openai.models`` and
``openai.responses_out``; the response models forbid unknown fields, so tests that validate real output against
them catch drift. The Responses API's request model is ``openai.responses.ResponsesRequest`` itself.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Request(BaseModel):
    # OpenAI adds fields often; unknown ones are accepted and ignored.
    model_config = ConfigDict(extra="allow")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAIErrorDetail(Body):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorBody(Body):
    """Every error under ``/v1/`` (except ``/v1/messages``), with the status the native API gives it."""

    error: OpenAIErrorDetail


class StreamOptions(Request):
    include_usage: bool | None = None


class JSONSchemaFormat(Request):
    name: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormat(Request):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None


class Reasoning(Request):
    effort: Literal["none", "minimal", "low", "medium", "high", "max", "xhigh", "ultra"] | None = None


class ImageURL(Request):
    url: str


class ContentPart(Request):
    """A ``text`` part (``text``) or an ``image_url`` part (a base64 ``data:`` URL; remote URLs are refused)."""

    type: Literal["text", "image_url"]
    text: str | None = None
    image_url: ImageURL | str | None = None


class FunctionCallParam(Request):
    name: str
    arguments: str | dict[str, Any] | None = None


class ToolCallParam(Request):
    id: str | None = None
    type: str | None = None
    function: FunctionCallParam


class ChatMessageParam(Request):
    role: str = Field(description="system, developer (read as system), user, assistant or tool")
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCallParam] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None


class FunctionTool(Request):
    type: Literal["function"] = "function"
    function: dict[str, Any]


class Sampling(Request):
    """Sampling fields shared by chat and completions."""

    model: str
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1, le=16)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    logit_bias: dict[str, float] | None = Field(
        default=None, description="the model's own token ids (as strings) to a bias; -100 or less bans the token"
    )


class ChatCompletionRequest(Sampling):
    messages: list[ChatMessageParam] = Field(min_length=1)
    max_completion_tokens: int | None = None
    response_format: ResponseFormat | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    reasoning: Reasoning | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "max", "xhigh", "ultra"] | None = None


class CompletionRequest(Sampling):
    prompt: str | list[str] = Field(description="a string, or an array of strings (one choice each)")
    suffix: str | None = None
    echo: bool | None = None
    logprobs: int | None = Field(default=None, ge=0, le=20)


class EmbeddingsRequest(Request):
    model: str
    input: str | list[str] | list[int] | list[list[int]] = Field(
        description="text, texts, or the model's own token ids (an array, or arrays of them)"
    )
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1)


class CompletionUsage(Body):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatTopLogprob(Body):
    token: str
    logprob: float
    bytes: list[int]


class ChatTokenLogprob(ChatTopLogprob):
    top_logprobs: list[ChatTopLogprob]


class ChoiceLogprobs(Body):
    content: list[ChatTokenLogprob]


class FunctionCall(Body):
    name: str
    arguments: str = Field(description="the arguments as a JSON object's text")


class ChatToolCall(Body):
    id: str | None
    index: int
    type: Literal["function"]
    function: FunctionCall


class AssistantMessage(Body):
    role: Literal["assistant"]
    content: str
    reasoning: str = ""
    tool_calls: list[ChatToolCall] = Field(default_factory=list)


FinishReason = Literal["stop", "length", "tool_calls"]


class ChatChoice(Body):
    index: int
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: ChoiceLogprobs | None = None


class ChatCompletion(Body):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChatChoice]
    usage: CompletionUsage


class ChunkDelta(Body):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ChatToolCall] = Field(default_factory=list)


class ChunkChoice(Body):
    index: int
    delta: ChunkDelta
    finish_reason: FinishReason | None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletionChunk(Body):
    """One ``data:`` event of a streamed chat completion (the stream ends with ``data: [DONE]``)."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None


class CompletionLogprobs(Body):
    tokens: list[str]
    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]


class CompletionChoice(Body):
    text: str
    index: int
    logprobs: CompletionLogprobs | None
    finish_reason: FinishReason | None


class Completion(Body):
    """A ``text_completion``: the whole answer, or one ``data:`` event of a stream."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    system_fingerprint: str
    choices: list[CompletionChoice]
    usage: CompletionUsage | None = None


class Embedding(Body):
    object: Literal["embedding"]
    embedding: list[float] | str = Field(description="floats, or base64 of little-endian float32")
    index: int


class EmbeddingUsage(Body):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Body):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ModelObject(Body):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelObjectList(Body):
    object: Literal["list"]
    data: list[ModelObject]


class ResponseObject(BaseModel):
    """The Responses API's ``response`` object (stateless: ``store`` is always false). Its items and echoed
    request fields follow OpenAI's definitions; the fields listed here are always present."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["response"]
    created_at: int
    completed_at: int | None
    status: Literal["in_progress", "completed", "incomplete", "failed"]
    model: str
    output: list[dict[str, Any]]
    error: dict[str, Any] | None
    usage: dict[str, Any] | None
    store: Literal[False]
