"""The operations ``/openapi.json`` describes: for each route, its request model, its answer and the error
statuses it can give. The models are the wire models of each API; ``server.openapi`` turns this table into the
document. A test checks that every route of the app has its operation here, so a new route cannot go
undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from pollama.anthropic import wire as anthropic
from pollama.api import schema as native
from pollama.api.embed import EmbeddingRequest, EmbedRequest
from pollama.api.lifecycle import CopyRequest, CreateRequest, DeleteRequest, RegistryRequest
from pollama.api.types import ChatRequest, GenerateRequest, ShowRequest
from pollama.openai import wire as openai
from pollama.openai.responses import ResponsesRequest
from pollama.ui.modelfile import ModelfileRequest


class API(Enum):
    """Which API a path belongs to: it decides the shape of its errors (``server.errors``)."""

    NATIVE = "Ollama"
    OPENAI = "OpenAI"
    ANTHROPIC = "Anthropic"


ERROR_MODELS: dict[API, type[BaseModel]] = {
    API.NATIVE: native.ErrorBody,
    API.OPENAI: openai.OpenAIErrorBody,
    API.ANTHROPIC: anthropic.AnthropicErrorBody,
}


@dataclass(frozen=True, slots=True)
class Json:
    """One JSON object."""

    model: type[BaseModel]


@dataclass(frozen=True, slots=True)
class NDJSON:
    """``application/x-ndjson`` (one ``line`` object per line, an error line ending a failed stream), or with
    ``stream: false`` the one object the lines combine into."""

    line: type[BaseModel]


@dataclass(frozen=True, slots=True)
class SSE:
    """``text/event-stream`` of ``event`` objects with ``stream: true``, else the one ``whole`` object."""

    whole: type[BaseModel]
    event: type[BaseModel] | None


@dataclass(frozen=True, slots=True)
class Text:
    """A body that is not one of the models: plain text, HTML, or this document itself."""

    media_type: str
    example: str = ""
    json_object: bool = False


@dataclass(frozen=True, slots=True)
class Empty:
    """No body; ``statuses`` are the success statuses with their meaning."""

    statuses: tuple[tuple[int, str], ...] = ((200, "Done"),)


@dataclass(frozen=True, slots=True)
class Files:
    """Static files of the web page: one of ``media_types``, 304 to a matching ``If-None-Match``, Go's plain-text
    404 for a name that is not one of them."""

    media_types: tuple[str, ...]


Answer = Json | NDJSON | SSE | Text | Empty | Files


@dataclass(frozen=True, slots=True)
class Op:
    method: str
    path: str
    summary: str
    api: API
    answer: Answer
    request: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    binary_body: bool = False
    public: bool = False
    """Answered without an API key even when keys are on."""


# The statuses of a route that runs a model: a bad body, an unknown model, options of the wrong type (Ollama's
# 500), a full queue, a client gone before a non-streamed answer.
_RUNS = (400, 404, 499, 500, 503)
_MODEL = "The model is loaded as needed; keep_alive says how long it stays loaded after the answer."

OPERATIONS: tuple[Op, ...] = (
    Op("get", "/", "Liveness", API.NATIVE, Text("text/plain", "Ollama is running"), public=True),
    Op("head", "/", "Liveness (headers only)", API.NATIVE, Empty(), public=True),
    Op("get", "/api/version", "Server version", API.NATIVE, Json(native.VersionBody)),
    Op("head", "/api/version", "Server version (headers only)", API.NATIVE, Empty()),
    Op("get", "/api/tags", "List local models", API.NATIVE, Json(native.TagsBody)),
    Op("head", "/api/tags", "List local models (headers only)", API.NATIVE, Empty()),
    Op("get", "/api/ps", "List loaded models", API.NATIVE, Json(native.PsBody)),
    Op("post", "/api/show", "Show a model", API.NATIVE, Json(native.ShowBody), ShowRequest, (400, 404)),
    Op(
        "post",
        "/api/generate",
        "Generate a completion",
        API.NATIVE,
        NDJSON(native.GenerateBody),
        GenerateRequest,
        _RUNS,
        _MODEL + " An empty prompt loads (or, with keep_alive 0, unloads) the model and answers one object.",
    ),
    Op("post", "/api/chat", "Chat", API.NATIVE, NDJSON(native.ChatBody), ChatRequest, _RUNS, _MODEL),
    Op("post", "/api/embed", "Embed texts", API.NATIVE, Json(native.EmbedBody), EmbedRequest, _RUNS),
    Op(
        "post",
        "/api/embeddings",
        "Embed one text (deprecated)",
        API.NATIVE,
        Json(native.EmbeddingBody),
        EmbeddingRequest,
        _RUNS,
    ),
    Op(
        "post",
        "/api/create",
        "Create a model",
        API.NATIVE,
        NDJSON(native.ProgressBody),
        CreateRequest,
        (400, 404, 500),
        "From an existing model (from) or uploaded blobs (files), with a template, system, parameters, "
        "messages, adapters, and quantization.",
    ),
    Op("post", "/api/copy", "Copy a model", API.NATIVE, Empty(), CopyRequest, (400, 404)),
    Op("delete", "/api/delete", "Delete a model", API.NATIVE, Empty(), DeleteRequest, (400, 404)),
    Op(
        "post",
        "/api/pull",
        "Pull a model from a registry",
        API.NATIVE,
        NDJSON(native.ProgressBody),
        RegistryRequest,
        (400, 404, 500),
    ),
    Op(
        "post",
        "/api/push",
        "Push a model to a registry",
        API.NATIVE,
        NDJSON(native.ProgressBody),
        RegistryRequest,
        (400, 404, 500),
    ),
    Op(
        "head",
        "/api/blobs/{digest}",
        "Whether a blob exists",
        API.NATIVE,
        Empty(),
        errors=(400, 404),
    ),
    Op(
        "post",
        "/api/blobs/{digest}",
        "Upload a blob",
        API.NATIVE,
        Empty(((200, "The blob was there already"), (201, "The blob was stored"))),
        errors=(400,),
        description="The body is the blob's bytes, streamed to disk; it is not subject to OLLAMA_MAX_BODY.",
        binary_body=True,
    ),
    Op(
        "post",
        "/v1/chat/completions",
        "Chat completion (OpenAI)",
        API.OPENAI,
        SSE(openai.ChatCompletion, openai.ChatCompletionChunk),
        openai.ChatCompletionRequest,
        _RUNS,
    ),
    Op(
        "post",
        "/v1/completions",
        "Text completion (OpenAI)",
        API.OPENAI,
        SSE(openai.Completion, openai.Completion),
        openai.CompletionRequest,
        _RUNS,
    ),
    Op(
        "post",
        "/v1/embeddings",
        "Embeddings (OpenAI)",
        API.OPENAI,
        Json(openai.EmbeddingList),
        openai.EmbeddingsRequest,
        _RUNS,
    ),
    Op("get", "/v1/models", "List models (OpenAI)", API.OPENAI, Json(openai.ModelObjectList)),
    Op("get", "/v1/models/{model}", "Describe a model (OpenAI)", API.OPENAI, Json(openai.ModelObject), errors=(404,)),
    Op(
        "post",
        "/v1/responses",
        "Create a response (OpenAI Responses, stateless)",
        API.OPENAI,
        SSE(openai.ResponseObject, None),
        ResponsesRequest,
        _RUNS,
        "Nothing is stored: previous_response_id, conversation and background are refused. Streamed "
        "events are OpenAI's response.* events, each with type and sequence_number.",
    ),
    Op(
        "post",
        "/v1/messages",
        "Create a message (Anthropic)",
        API.ANTHROPIC,
        SSE(anthropic.MessageBody, None),
        anthropic.MessagesRequest,
        _RUNS,
        "Streamed events are Anthropic's (message_start … message_stop); x-api-key is read as an API "
        "key and anthropic-version is ignored.",
    ),
    Op(
        "post",
        "/v1/messages/count_tokens",
        "Count a message's input tokens (Anthropic)",
        API.ANTHROPIC,
        Json(anthropic.CountTokensBody),
        anthropic.CountTokensRequest,
        (400, 404, 500, 503),
    ),
    Op(
        "get",
        "/metrics",
        "Prometheus metrics",
        API.NATIVE,
        Text("text/plain"),
        description="Requests by route and status, queue depth and waits, tokens, latencies, loaded models.",
    ),
    Op("get", "/ui", "The web page (redirects to /ui/)", API.NATIVE, Empty(((301, "To /ui/"),)), public=True),
    Op("get", "/ui/", "The web page", API.NATIVE, Files(("text/html",)), public=True),
    Op(
        "get",
        "/ui/{path}",
        "The web page's files",
        API.NATIVE,
        Files(("text/javascript", "text/css", "image/svg+xml", "image/png", "application/json", "text/plain")),
        public=True,
    ),
    Op(
        "post",
        "/ui/modelfile",
        "A Modelfile as an /api/create body (the web page's helper)",
        API.NATIVE,
        Json(CreateRequest),
        ModelfileRequest,
        (400,),
        "FROM must name a model; ADAPTER and DRAFT (files on the server) are refused.",
    ),
    Op("get", "/openapi.json", "This document", API.NATIVE, Text("application/json", json_object=True), public=True),
    Op("get", "/docs", "This document as a page", API.NATIVE, Text("text/html"), public=True),
)

_HELLO = [{"role": "user", "content": "Why is the sky blue?"}]
_SMALL = {"num_predict": 8}

EXAMPLES: dict[str, tuple[dict[str, Any], ...]] = {
    "/api/show": ({"model": "gemma3:270m"},),
    "/api/generate": (
        {"model": "gemma3:270m", "prompt": "Why is the sky blue?", "options": _SMALL},
        {"model": "gemma3:270m", "prompt": "Why is the sky blue?", "stream": False, "options": _SMALL},
        {"model": "gemma3:270m", "keep_alive": "10m"},
    ),
    "/api/chat": (
        {"model": "gemma3:270m", "messages": _HELLO, "options": _SMALL},
        {"model": "gemma3:270m", "messages": _HELLO, "stream": False, "options": _SMALL},
    ),
    "/api/embed": ({"model": "all-minilm", "input": ["Why is the sky blue?", "Hello"]},),
    "/api/embeddings": ({"model": "all-minilm", "prompt": "Why is the sky blue?"},),
    "/api/create": ({"model": "brief-gemma", "from": "gemma3:270m", "system": "Answer in one sentence."},),
    "/api/copy": ({"source": "brief-gemma", "destination": "brief-gemma-copy"},),
    "/api/delete": ({"model": "brief-gemma-copy"},),
    "/api/pull": ({"model": "gemma3:270m"},),
    "/api/push": ({"model": "me/brief-gemma"},),
    "/v1/chat/completions": (
        {"model": "gemma3:270m", "messages": _HELLO, "max_tokens": 8},
        {"model": "gemma3:270m", "messages": _HELLO, "max_tokens": 8, "stream": True},
    ),
    "/v1/completions": ({"model": "gemma3:270m", "prompt": "Once upon a time", "max_tokens": 8},),
    "/v1/embeddings": ({"model": "all-minilm", "input": "Why is the sky blue?"},),
    "/v1/responses": (
        {"model": "gemma3:270m", "input": "Why is the sky blue?", "max_output_tokens": 8},
        {"model": "gemma3:270m", "input": "Why is the sky blue?", "max_output_tokens": 8, "stream": True},
    ),
    "/v1/messages": (
        {"model": "gemma3:270m", "max_tokens": 8, "messages": _HELLO},
        {"model": "gemma3:270m", "max_tokens": 8, "messages": _HELLO, "stream": True},
    ),
    "/v1/messages/count_tokens": ({"model": "gemma3:270m", "messages": _HELLO},),
    "/ui/modelfile": ({"model": "brief-gemma", "modelfile": "FROM gemma3:270m\nSYSTEM Answer in one sentence.\n"},),
}
"""Request bodies shown in the document (and sent by the fuzz run's first phase), with the built-in models."""
