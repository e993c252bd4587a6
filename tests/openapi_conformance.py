"""Whether an HTTP answer is what pollama's own ``/openapi.json`` says it is: a documented status and media type,
and a body valid against the documented schema, for JSON, every NDJSON line, and every SSE data line. Used by
the in-process document tests and by the schemathesis fuzz run against a live server."""

from __future__ import annotations

import json
from typing import Any

import jsonschema


def _problems(doc: dict[str, Any], schema: dict[str, Any], value: Any, what: str) -> list[str]:
    validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
    return [f"{what}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(value)][:3]


def sse_data(text: str) -> list[str]:
    """The data of every event of a ``text/event-stream`` body."""
    out = []
    for frame in text.split("\n\n"):
        lines = [ln for ln in frame.split("\n") if ln]
        if lines:
            out.append("\n".join(ln.removeprefix("data: ") for ln in lines if ln.startswith("data: ")))
    return out


def conformance(
    doc: dict[str, Any], path: str, method: str, status: int, content_type: str | None, body: bytes
) -> list[str]:
    """What is wrong with an answer to ``method path`` (a path template of the document); empty when nothing."""
    op = doc["paths"][path][method.lower()]
    spec = op["responses"].get(str(status))
    if spec is None:
        return [f"status {status} is not documented for {method} {path}: {body[:200]!r}"]
    content: dict[str, Any] = spec.get("content", {})
    if not content:
        return [] if not body else [f"status {status} documents no body, got {body[:200]!r}"]
    media = (content_type or "").split(";")[0].strip()
    if media not in content:
        return [f"media type {media!r} is not documented for {status} ({sorted(content)})"]
    schema = content[media]["schema"]
    text = body.decode("utf-8")
    if media == "application/x-ndjson":
        if not text.endswith("\n"):
            return ["an NDJSON body does not end with a newline"]
        problems = []
        for n, line in enumerate(text[:-1].split("\n")):
            try:
                value = json.loads(line)
            except ValueError:
                return [f"NDJSON line {n} is not JSON: {line[:200]!r}"]
            problems += _problems(doc, schema, value, f"NDJSON line {n}")
        return problems
    if media == "text/event-stream":
        problems = []
        for n, data in enumerate(sse_data(text)):
            if data == "[DONE]":
                continue
            try:
                value = json.loads(data)
            except ValueError:
                return [f"SSE event {n} is not JSON: {data[:200]!r}"]
            data_schema = schema["properties"]["data"]
            for branch in [data_schema, *data_schema.get("anyOf", [])]:
                if "contentSchema" in branch:
                    problems += _problems(doc, branch["contentSchema"], value, f"SSE event {n}")
        return problems
    if media.endswith("json"):
        try:
            value = json.loads(text)
        except ValueError:
            return [f"the body is not JSON: {text[:200]!r}"]
        return _problems(doc, schema, value, "body")
    return []
