"""Request bodies decoded as gin's ``ShouldBindJSON`` decodes them, with Go's error texts.

Ollama's bodies are decoded by Go, so pollama reproduces Go's messages for malformed JSON and wrong types.
Responses are encoded by ``pollama.gojson``.
"""

from __future__ import annotations

import json
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pollama.errors import BadRequest

T = TypeVar("T", bound=BaseModel)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _go_syntax_error(body: str, err: json.JSONDecodeError) -> str:
    stripped = body.strip()
    if not stripped:
        return "unexpected EOF"
    if err.pos >= len(body.rstrip()):
        return "unexpected EOF"
    ch = body[err.pos]
    where = "looking for beginning of value"
    if err.msg.startswith("Expecting property name"):
        where = "looking for beginning of object key string"
    elif err.msg.startswith("Expecting ':'"):
        where = "after object key"
    elif err.msg.startswith("Expecting ',' delimiter"):
        where = "after object key:value pair" if _inside_object(body, err.pos) else "after array element"
    elif err.msg.startswith("Extra data"):
        where = "after top-level value"
    return f"invalid character {_go_quote_char(ch)} {where}"


def _inside_object(body: str, pos: int) -> bool:
    depth: list[str] = []
    in_str = False
    escaped = False
    for ch in body[:pos]:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth.append(ch)
        elif ch in "}]" and depth:
            depth.pop()
    return bool(depth) and depth[-1] == "{"


def _go_quote_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return f"'{ch}'"


def decode(body: bytes, model: type[T], go_name: str, go_types: dict[str, str] | None = None) -> T:
    """Decode a request body the way gin's ``ShouldBindJSON`` does, raising Ollama's 400 errors."""
    if not body.strip():
        raise BadRequest("missing request body")
    text = body.decode("utf-8", errors="replace")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadRequest(_go_syntax_error(text, err)) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequest(f"json: cannot unmarshal {_json_type(raw)} into Go value of type api.{go_name}")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise BadRequest(_go_type_error(err, raw, model, go_name, go_types or {})) from None


def _go_type_error(
    err: ValidationError, raw: dict[str, Any], model: type[BaseModel], go_name: str, go_types: dict[str, str]
) -> str:
    first = err.errors()[0]
    if first["type"] == "value_error":
        return str(first.get("ctx", {}).get("error", first["msg"]))
    value: Any = raw
    for part in first["loc"]:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            value = first.get("input")
            break
    struct, field, element = _go_field(model, go_name, first["loc"])
    if element is None:
        want = go_types.get(field) or _GO_TYPES.get(first["type"], "string")
    else:
        want = element or _GO_TYPES.get(first["type"], "string")
    return f"json: cannot unmarshal {_json_type(value)} into Go struct field {struct}.{field} of type {want}"


def _go_field(model: type[BaseModel], go_name: str, loc: tuple[int | str, ...]) -> tuple[str, str, str | None]:
    """What Go's ``UnmarshalTypeError`` names: the innermost struct, the field path from the top (no indexes)
    and, for an element of a slice, the element's type (``api.Message``, or ``""`` for a plain value)."""
    struct, names = go_name, []
    current: type[BaseModel] | None = model
    nested: type[BaseModel] | None = None
    element: str | None = None
    for part in loc:
        if isinstance(part, int):
            element = f"api.{nested.__name__}" if nested is not None else ""
            current = nested
            continue
        if current is None:
            break
        if current is not model:
            struct = current.__name__
        names.append(part)
        info = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        nested = _model_of(info.annotation) if info is not None else None
        current, element = None, None
        if nested is not None and not _is_list(info.annotation if info is not None else None):
            current = nested
    return struct, ".".join(names), element


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


_GO_TYPES = {
    "string_type": "string",
    "bool_type": "bool",
    "int_type": "int",
    "int_from_float": "int",
    "float_type": "float64",
    "list_type": "[]interface {}",
    "dict_type": "map[string]interface {}",
    "model_type": "struct",
    "model_attributes_type": "struct",
}
