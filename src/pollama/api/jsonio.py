"""Request bodies decoded as gin's ``ShouldBindJSON`` decodes them, with Go's error texts.

Ollama's bodies are decoded by Go, so pollama reproduces Go's messages for malformed JSON and wrong types.
Responses are encoded by ``pollama.gojson``.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
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
    raw = _loads(text, model, go_name)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequest(f"json: cannot unmarshal {_json_type(raw)} into Go value of type api.{go_name}")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise BadRequest(_go_type_error(err, raw, model, go_name, go_types or {})) from None


_MAX_DEPTH = 10_000
"""Go's ``encoding/json`` scanner refuses a value nested deeper than this."""

_INT64 = 2**63
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# Python's json reads these literals; Go's scanner stops at their first character.
_CONSTANTS = {
    "NaN": "invalid character 'N' looking for beginning of value",
    "Infinity": "invalid character 'I' looking for beginning of value",
    "-Infinity": "invalid character 'I' in numeric literal",
}


class _Number:
    """A number literal Python reads but a Go value may not hold: kept as written until its target is known."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _loads(text: str, model: type[BaseModel], go_name: str) -> Any:
    """``json.loads`` with Go's decoder's refusals: non-standard constants, numbers too big for their Go type,
    nesting past Go's depth; lone surrogates become U+FFFD as Go's decoder makes them."""
    found: list[_Number] = []

    def parse_float(literal: str) -> float | _Number:
        value = float(literal)
        if value in (float("inf"), float("-inf")):
            found.append(_Number(literal))
            return found[-1]
        return value

    def parse_int(literal: str) -> int | _Number:
        value = int(literal)
        if not -_INT64 <= value < _INT64:
            found.append(_Number(literal))
            return found[-1]
        return value

    def parse_constant(name: str) -> float:
        raise BadRequest(_CONSTANTS[name])

    try:
        raw = json.loads(text, parse_float=parse_float, parse_int=parse_int, parse_constant=parse_constant)
    except json.JSONDecodeError as err:
        raise BadRequest(_go_syntax_error(text, err)) from None
    except RecursionError:
        raise BadRequest(_too_deep(text)) from None
    except ValueError:
        # int() refuses a literal of more than 4,300 digits, which no Go number type holds either.
        raise BadRequest("json: number out of range") from None
    if found:
        _settle_numbers(raw, model, go_name)
    if _SURROGATE_ESCAPE.search(text):
        raw = _replace_surrogates(raw)
    return raw


def loads_standard(body: bytes) -> Any:
    """Standard JSON for the APIs Go does not decode (Anthropic, OpenAI Responses): ``NaN``/``Infinity``,
    numbers past float64 and nesting too deep to follow are ``BadRequest``; lone surrogates become U+FFFD.
    Malformed JSON or UTF-8 is left to the caller (``ValueError``), which words it its own way."""
    text = body.decode("utf-8")

    def parse_float(literal: str) -> float:
        value = float(literal)
        if value in (float("inf"), float("-inf")):
            raise BadRequest(f"number {literal} is out of range")
        return value

    def parse_constant(name: str) -> float:
        raise BadRequest(f"{name} is not valid JSON")

    try:
        raw = json.loads(text, parse_float=parse_float, parse_constant=parse_constant)
    except RecursionError:
        raise BadRequest("request body nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError:
        raise BadRequest("number out of range") from None
    if _SURROGATE_ESCAPE.search(text):
        raw = _replace_surrogates(raw)
    return raw


def load_object(body: bytes, *, empty: str) -> dict[str, Any]:
    """A standard-JSON request body that must be an object (``loads_standard``), or BadRequest: ``empty`` when
    there is no body, else what is wrong with it."""
    if not body.strip():
        raise BadRequest(empty)
    try:
        raw = loads_standard(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadRequest(f"invalid JSON in request body: {err}") from None
    if not isinstance(raw, dict):
        raise BadRequest("request body must be a JSON object")
    return raw


def _too_deep(text: str) -> str:
    depth = 0
    in_str = escaped = False
    for ch in text:
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
            depth += 1
            if depth > _MAX_DEPTH:
                return f"invalid character {_go_quote_char(ch)} exceeded max depth"
        elif ch in "}]":
            depth -= 1
    # Go would read this body; Python's parser stops sooner.
    return "request body nested too deeply"


def _walk(raw: Any) -> Iterator[tuple[tuple[int | str, ...], Any]]:
    """Every value of ``raw`` with its path, in document order, without recursion (bodies may nest deeply)."""
    stack: list[tuple[tuple[int | str, ...], Any]] = [((), raw)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))


def _settle_numbers(raw: Any, model: type[BaseModel], go_name: str) -> None:
    """Refuse the first number its Go target cannot hold, as Go does; put back the rest (a big integer is
    fine as ``float64`` in an ``interface{}`` or a map; an option checks its own range)."""
    for path, value in _walk(raw):
        if not isinstance(value, _Number):
            continue
        if not path:
            # A number where Go expects the request struct: Go names the kind only, not the literal.
            raise BadRequest(f"json: cannot unmarshal number into Go value of type api.{go_name}")
        target = _number_target(model, path)
        as_float = float(value.literal)
        if target == "int" or as_float in (float("inf"), float("-inf")):
            struct, field, _ = _go_field(model, go_name, path)
            raise BadRequest(
                f"json: cannot unmarshal number {value.literal} into Go struct field {struct}.{field} of type {target}"
            )
        parent: Any = raw
        for part in path[:-1]:
            parent = parent[part]
        # Kept exact as Python reads it: a ``json.RawMessage`` (``format``) keeps it verbatim in Go too.
        parent[path[-1]] = int(value.literal)


def _number_target(model: type[BaseModel], path: tuple[int | str, ...]) -> str:
    """``int`` when the value at ``path`` lands in a Go integer, else ``float64`` (a float or an ``interface{}``)."""
    annotation: Any = model
    for part in path:
        annotation = _strip(annotation)
        if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part) or next(
                (f for f in annotation.model_fields.values() if f.alias == part), None
            )
            if info is None:
                return "float64"
            annotation = info.annotation
        elif isinstance(part, int) and typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return "float64"
    return "int" if _strip(annotation) is int else "float64"


def _strip(annotation: Any) -> Any:
    """The type under ``Optional``/``Annotated`` (the first non-None member of a union)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation


def _replace_surrogates(raw: Any) -> Any:
    """Go's decoder turns an unpaired ``\\uD800``-``\\uDFFF`` escape into U+FFFD; Python keeps it, and it
    cannot then be encoded as UTF-8."""
    if isinstance(raw, str):
        return _LONE_SURROGATE.sub("\ufffd", raw)
    for _, value in _walk(raw):
        if isinstance(value, dict):
            fixed = {
                _LONE_SURROGATE.sub("\ufffd", k): _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v
                for k, v in value.items()
            }
            value.clear()
            value.update(fixed)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, str):
                    value[i] = _LONE_SURROGATE.sub("\ufffd", v)
    return raw


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
