"""JSON Schema keywords as the compiler reads them: which it enforces, ignores or refuses, the error that names
a refused one by its JSON pointer, and the parsing of types, counts and numeric bounds."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# Keywords that constrain values and that this compiler does not enforce.
UNSUPPORTED = frozenset(
    [
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "uniqueItems",
        "multipleOf",
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "contains",
        "minContains",
        "maxContains",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$dynamicRef",
        "$recursiveRef",
    ]
)
OBJECT_KEYWORDS = ("properties", "required", "additionalProperties")
ARRAY_KEYWORDS = ("items", "prefixItems", "additionalItems", "minItems", "maxItems")
STRING_KEYWORDS = ("minLength", "maxLength", "pattern", "format")
NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")


class SchemaError(ValueError):
    """The schema (at JSON pointer ``pointer``) asks for something the grammar cannot enforce."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{message} (at {pointer or '#'})" if pointer else message)
        self.pointer = pointer or "#"
        self.reason = message


def pointer(base: str, *parts: str | int) -> str:
    out = base or "#"
    for p in parts:
        out += "/" + str(p).replace("~", "~0").replace("/", "~1")
    return out


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def fits(value: Any, types: set[str]) -> bool:
    t = type_of(value)
    return t in types or (t == "integer" and "number" in types)


def list_of_schemas(value: Any, ptr: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise SchemaError(ptr, "must be a non-empty array of schemas")
    return value


_ANNOTATIONS = frozenset(
    [
        "title",
        "description",
        "examples",
        "default",
        "$schema",
        "$id",
        "$comment",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "$defs",
        "definitions",
        "$vocabulary",
    ]
)
_KNOWN = frozenset(
    [
        "type",
        "enum",
        "const",
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        *OBJECT_KEYWORDS,
        *ARRAY_KEYWORDS,
        *STRING_KEYWORDS,
        *NUMBER_KEYWORDS,
        *UNSUPPORTED,
    ]
)


def constraining(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` has any keyword that constrains values (anything known that is not an annotation)."""
    return any(k in _KNOWN for k in schema)


def has_bounds(schema: Mapping[str, Any]) -> bool:
    return any(k in schema for k in NUMBER_KEYWORDS)


def types_of(schema: Mapping[str, Any], ptr: str) -> set[str]:
    t = schema.get("type")
    if t is None:
        inferred: set[str] = set()
        for kws, types in (
            (OBJECT_KEYWORDS, ("object",)),
            (ARRAY_KEYWORDS, ("array",)),
            (STRING_KEYWORDS, ("string",)),
            (NUMBER_KEYWORDS, ("number",)),
        ):
            if any(k in schema for k in kws):
                inferred.update(types)
        if "const" in schema or "enum" in schema:
            return set(TYPES)
        # a schema with type-specific keywords only: writing values of that type alone is valid and expected
        return inferred or set(TYPES)
    names = [t] if isinstance(t, str) else t
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n in TYPES for n in names):
        raise SchemaError(pointer(ptr, "type"), f'"type" must be one of {", ".join(TYPES)} or a list of them')
    return set(names)


def count(schema: Mapping[str, Any], kw: str, ptr: str) -> int | None:
    v = schema.get(kw)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (isinstance(v, float) and not v.is_integer()):
        raise SchemaError(pointer(ptr, kw), f'"{kw}" must be a non-negative integer')
    return int(v)


def _number(schema: Mapping[str, Any], kw: str, ptr: str) -> Decimal | None:
    v = schema.get(kw)
    if v is None or (isinstance(v, bool) and kw.startswith("exclusive")):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SchemaError(pointer(ptr, kw), f'"{kw}" must be a number')
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)


MAX_BOUND_DIGITS = 40


def bounds(schema: Mapping[str, Any], ptr: str) -> tuple[Decimal | None, bool, Decimal | None, bool]:
    """(lo, lo_strict, hi, hi_strict) from minimum/maximum and both forms of the exclusive bounds."""
    lo, hi = _number(schema, "minimum", ptr), _number(schema, "maximum", ptr)
    lo_strict = hi_strict = False
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if xlo is True:  # draft 4: a flag on minimum
        lo_strict = lo is not None
    elif (v := _number(schema, "exclusiveMinimum", ptr)) is not None and (lo is None or v >= lo):
        lo, lo_strict = v, True
    if xhi is True:
        hi_strict = hi is not None
    elif (v := _number(schema, "exclusiveMaximum", ptr)) is not None and (hi is None or v <= hi):
        hi, hi_strict = v, True
    for d, kw in ((lo, "minimum"), (hi, "maximum")):
        # digit-range rules grow with the digits of the bound: keep them to what a schema plausibly means
        if d is not None and (abs(d) >= Decimal(10) ** MAX_BOUND_DIGITS or -d.as_tuple().exponent > MAX_BOUND_DIGITS):  # type: ignore[operator]
            raise SchemaError(pointer(ptr, kw), f'"{kw}" with more than {MAX_BOUND_DIGITS} digits is not supported')
    return lo, lo_strict, hi, hi_strict
