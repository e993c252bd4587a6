"""``GET /docs``: the OpenAPI document as one readable HTML page, rendered on the server.

No script and nothing from elsewhere: one inline style sheet allowed by its hash, under a Content-Security-
Policy that allows nothing else. Every text from the document is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from typing import Any

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "code,.method{font-family:ui-monospace,monospace}"
    ".op{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}"
    ".method{display:inline-block;min-width:4.5rem;font-weight:bold;text-transform:uppercase}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.2rem .5rem;"
    "text-align:left;vertical-align:top}nav a{margin-right:1rem}"
    "pre{background:#f6f6f6;padding:.5rem;border-radius:4px;overflow-x:auto}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Nothing loads or runs but the page's own style sheet."""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> str:
    """A short, linked, escaped description of a JSON Schema's type."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type(s) for s in schema[key])
    if "const" in schema:
        return f"<code>{escape(repr(schema['const']))}</code>"
    if "enum" in schema:
        return " | ".join(f"<code>{escape(repr(v))}</code>" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type(schema['additionalProperties'])}"
    if kind is None:
        return "any"
    return escape(str(kind))


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        f'<div class="op" id="{escape(op["operationId"])}">',
        f'<h3><span class="method">{escape(method)}</span> <code>{escape(path)}</code></h3>',
        f"<p>{escape(op['summary'])}</p>",
    ]
    if "description" in op:
        parts.append(f"<p>{escape(op['description'])}</p>")
    body = op.get("requestBody")
    if body is not None:
        kinds = ", ".join(f"<code>{escape(m)}</code> {_type(c['schema'])}" for m, c in body["content"].items())
        parts.append(f"<p>Body: {kinds}</p>")
        for content in body["content"].values():
            for example in content.get("examples", {}).values():
                parts.append(f"<pre>{escape(json.dumps(example['value'], indent=2, ensure_ascii=False))}</pre>")
    rows = []
    for status, response in op["responses"].items():
        content = response.get("content", {})
        kinds = "<br>".join(f"<code>{escape(m)}</code> {_type(c['schema'])}" for m, c in content.items())
        headers = ", ".join(f"<code>{escape(h)}</code>" for h in response.get("headers", {}))
        rows.append(
            f"<tr><td>{escape(status)}</td><td>{escape(response['description'])}</td><td>{kinds}</td>"
            f"<td>{headers}</td></tr>"
        )
    parts.append("<table><tr><th>Status</th><th>Meaning</th><th>Body</th><th>Headers</th></tr>")
    parts.extend(rows)
    parts.append("</table></div>")
    return "".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    parts = [f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>']
    if "description" in schema:
        parts.append(f"<p>{escape(schema['description'])}</p>")
    properties: dict[str, Any] = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        parts.append("<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Notes</th></tr>")
        for field, spec in properties.items():
            notes = escape(spec.get("description", ""))
            parts.append(
                f"<tr><td><code>{escape(field)}</code></td><td>{_type(spec)}</td>"
                f"<td>{'yes' if field in required else ''}</td><td>{notes}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(f"<p>{_type(schema)}</p>")
    return "".join(parts)


def render(doc: dict[str, Any]) -> str:
    """The page for an OpenAPI document."""
    info = doc["info"]
    by_tag: dict[str, list[str]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append(_operation(path, method, op))
    nav = "".join(f'<a href="#tag-{escape(t)}">{escape(t)}</a>' for t in by_tag)
    sections = "".join(
        f'<h2 id="tag-{escape(tag)}">{escape(tag)}</h2>{"".join(ops)}' for tag, ops in by_tag.items() if ops
    )
    schemas = "".join(_schema(n, s) for n, s in sorted(doc["components"]["schemas"].items()))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(info['title'])} API</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info['title'])} {escape(info['version'])}</h1><p>{escape(info['description'])}</p>"
        f'<nav>{nav}<a href="#schemas">Schemas</a><a href="/openapi.json">openapi.json</a></nav>'
        f'{sections}<h2 id="schemas">Schemas</h2>{schemas}</body></html>'
    )
