"""``GET /openapi.json``: the OpenAPI 3.1 document of every route, generated from the wire models, and
``GET /docs``, the same document as a page (``server.openapi_docs``).

The operations and which model each uses are listed in ``server.openapi_ops``; the schemas come from the
pydantic models themselves (``models_json_schema``), so a field added to a model is in the document. Errors are
documented per API in the shape each API's edge writes them. The document is built once per process.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from pollama import __version__
from pollama.api import schema as native
from pollama.server.errors import RETRY_AFTER_SECONDS
from pollama.server.openapi_docs import CSP, render
from pollama.server.openapi_ops import (
    API,
    ERROR_MODELS,
    EXAMPLES,
    NDJSON,
    OPERATIONS,
    SSE,
    Empty,
    Files,
    Json,
    Op,
    Text,
)

NDJSON_TYPE = "application/x-ndjson"
SSE_TYPE = "text/event-stream"
JSON_TYPE = "application/json"
REF = "#/components/schemas/{model}"

_ERRORS: dict[int, str] = {
    400: "The body is not valid JSON, a field has the wrong type, or the request cannot be served as asked.",
    401: "API keys are on (OLLAMA_API_KEYS) and the request carries none of them (Authorization: Bearer, or "
    "x-api-key).",
    404: "The model (or blob) the request names does not exist.",
    413: "The body is larger than OLLAMA_MAX_BODY.",
    499: "The client went away before a non-streamed answer was ready; the generation is stopped. No client "
    "sees this status: it is what the server logs and counts.",
    500: "An option of the wrong type (Ollama answers these with 500 too), or the runner stopped or could not "
    "load the model, or a registry failed.",
    503: "The request queue is full (OLLAMA_MAX_QUEUE); Retry-After says when to try again.",
}


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [native.ErrorBody, *ERROR_MODELS.values()]
    for op in OPERATIONS:
        if op.request is not None:
            found.append(op.request)
        answer = op.answer
        if isinstance(answer, Json):
            found.append(answer.model)
        elif isinstance(answer, NDJSON):
            found.append(answer.line)
        elif isinstance(answer, SSE):
            found.append(answer.whole)
            if answer.event is not None:
                found.append(answer.event)
    return list(dict.fromkeys(found))


def _schemas() -> tuple[dict[type[BaseModel], dict[str, Any]], dict[str, Any]]:
    mode: JsonSchemaMode = "validation"
    keys, top = models_json_schema([(m, mode) for m in _models()], ref_template=REF)
    refs: dict[type[BaseModel], dict[str, Any]] = {}
    for (model, _), schema in keys.items():
        assert isinstance(model, type) and issubclass(model, BaseModel)
        refs[model] = dict(schema)
    return refs, dict(top.get("$defs", {}))


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON_TYPE: {"schema": schema}}


def _success(op: Op, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    answer = op.answer
    if isinstance(answer, Empty):
        return {str(status): {"description": text} for status, text in answer.statuses}
    if isinstance(answer, Files):
        text = {"type": "string"}
        return {
            "200": {"description": op.summary, "content": {media: {"schema": text} for media in answer.media_types}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "404": {"description": "No such file", "content": {"text/plain": {"schema": text}}},
        }
    if isinstance(answer, Text):
        schema: dict[str, Any] = {"type": "object"} if answer.json_object else {"type": "string"}
        if answer.example:
            schema["examples"] = [answer.example]
        return {"200": {"description": op.summary, "content": {answer.media_type: {"schema": schema}}}}
    if isinstance(answer, Json):
        return {"200": {"description": op.summary, "content": _json_content(refs[answer.model])}}
    if isinstance(answer, NDJSON):
        line = {"oneOf": [refs[answer.line], refs[native.ErrorBody]]}
        return {
            "200": {
                "description": "With stream true (the default): one JSON object per line, as the answer comes; a "
                'failure after the first line ends the stream with one {"error": ...} line. With stream false, '
                "or for an answer complete in itself: the one object.",
                "content": {NDJSON_TYPE: {"schema": line}, **_json_content(refs[answer.line])},
            }
        }
    # One event (OpenAPI 3.2's ``itemSchema`` convention for event streams): its name and its data, which is
    # JSON; where every event has one shape, the data's schema says it. A failure after the first event is an
    # event carrying the API's error body.
    data: dict[str, Any] = {"type": "string"}
    if answer.event is not None:
        one = {"oneOf": [refs[answer.event], refs[ERROR_MODELS[op.api]]]}
        data |= {"contentMediaType": JSON_TYPE, "contentSchema": one}
        if op.api is API.OPENAI:
            data = {"anyOf": [{"const": "[DONE]", "description": "the end of the stream"}, data]}
    event = {"type": "object", "properties": {"event": {"type": "string"}, "data": data}, "required": ["data"]}
    return {
        "200": {
            "description": "With stream true: server-sent events, each data line one JSON object (a failure after "
            "the first event is an error event). Otherwise the one object.",
            "content": {SSE_TYPE: {"schema": event}, **_json_content(refs[answer.whole])},
        }
    }


def _error(op: Op, status: int, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _ERRORS[status]}
    if op.method == "head" or status == 499:
        return response
    api = op.api
    response["content"] = _json_content(refs[ERROR_MODELS[api]])
    headers: dict[str, Any] = {}
    if status == 503:
        headers["Retry-After"] = {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "integer", "examples": [RETRY_AFTER_SECONDS]},
        }
    if status == 401:
        headers["WWW-Authenticate"] = {"schema": {"type": "string", "const": "Bearer"}}
    if api is API.ANTHROPIC:
        headers["request-id"] = {"description": "The body's request_id", "schema": {"type": "string"}}
    if headers:
        response["headers"] = headers
    return response


def _parameters(op: Op) -> list[dict[str, Any]]:
    if "{digest}" in op.path:
        schema = {"type": "string", "pattern": "^sha256[:-][0-9a-fA-F]{64}$"}
        return [{"name": "digest", "in": "path", "required": True, "schema": schema}]
    if "{path}" in op.path:
        return [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}]
    if "{model}" in op.path:
        return [{"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}]
    return []


def _operation(op: Op, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": _operation_id(op),
        "summary": op.summary,
        "tags": [op.api.value],
    }
    if op.description:
        out["description"] = op.description
    if params := _parameters(op):
        out["parameters"] = params
    if op.request is not None:
        content = _json_content(refs[op.request])
        if examples := EXAMPLES.get(op.path):
            content[JSON_TYPE]["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(examples, 1)}
        out["requestBody"] = {"required": True, "content": content}
    elif op.binary_body:
        binary = {"type": "string", "format": "binary"}
        out["requestBody"] = {"required": True, "content": {"application/octet-stream": {"schema": binary}}}
    responses = _success(op, refs)
    statuses = set(op.errors)
    if not op.public:
        statuses.add(401)
    if op.request is not None:
        statuses.add(413)
    for status in sorted(statuses):
        responses[str(status)] = _error(op, status, refs)
    out["responses"] = responses
    if op.public:
        out["security"] = []
    return out


def _operation_id(op: Op) -> str:
    words = [w for w in op.path.replace("{", "").replace("}", "").replace(".", "_").split("/") if w]
    if op.path.endswith("/") and words:
        words.append("index")
    return "_".join([op.method, *words]) if words else f"{op.method}_root"


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once; treat it as read-only)."""
    refs, schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pollama",
            "version": __version__,
            "description": "Ollama's HTTP API, with its OpenAI-compatible (/v1) and Anthropic-compatible "
            '(/v1/messages) layers. Native errors are {"error": message}; /v1 errors are OpenAI\'s '
            '{"error": {"message", "type", "param", "code"}}; /v1/messages errors are Anthropic\'s '
            '{"type": "error", "error": {...}}. Unknown paths and methods answer Go\'s plain-text '
            '"404 page not found" and "405 method not allowed".',
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": api.value} for api in API],
        "security": [{}, {"bearer": []}, {"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "One of OLLAMA_API_KEYS, when set"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "Anthropic's"},
            },
        },
    }


@functools.cache
def document_json() -> bytes:
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode()


async def openapi_json(request: Request) -> Response:
    return Response(document_json(), media_type="application/json; charset=utf-8")


async def docs(request: Request) -> Response:
    return HTMLResponse(
        render(document()), headers={"content-security-policy": CSP, "x-content-type-options": "nosniff"}
    )


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
]
