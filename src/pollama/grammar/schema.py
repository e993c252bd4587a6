"""JSON Schema to GBNF: the grammar of the JSON texts a schema accepts, or a ``SchemaError`` naming the keyword
it cannot enforce.

The grammar is sound first: every text it allows validates against the schema. Where writing every valid text
would cost an unbounded or ambiguous grammar it allows a useful subset instead (objects list their known
properties in the schema's order and, unless ``additionalProperties`` allows more, nothing else; numbers with
bounds are written without an exponent; unbounded strings of digits are capped). A keyword that constrains
values and is not enforced is an error, never ignored; annotations and unknown keywords are ignored as JSON
Schema says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pollama.grammar.formats import FORMATS, format_rule
from pollama.grammar.gbnf import JSON_CHAR, SPACE, Rules, group, literal, repeat
from pollama.grammar.numeric import MAX_DIGITS, integer_range, number_range
from pollama.grammar.objects import merge_all
from pollama.grammar.regex import PatternError, pattern_to_gbnf

__all__ = ["SchemaCompiler", "SchemaError", "compile_schema", "generic_json"]

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
_OBJECT_KEYWORDS = ("properties", "required", "additionalProperties")
_ARRAY_KEYWORDS = ("items", "prefixItems", "additionalItems", "minItems", "maxItems")
_STRING_KEYWORDS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
# Bound the number of items of an array without maxItems: a model cannot list forever.
MAX_ITEMS_UNBOUNDED = None


class SchemaError(ValueError):
    """The schema (at JSON pointer ``pointer``) asks for something the grammar cannot enforce."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{message} (at {pointer or '#'})" if pointer else message)
        self.pointer = pointer or "#"
        self.reason = message


def _ptr(base: str, *parts: str | int) -> str:
    out = base or "#"
    for p in parts:
        out += "/" + str(p).replace("~", "~0").replace("/", "~1")
    return out


def _json_literal(value: Any) -> str:
    return literal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _type_of(value: Any) -> str:
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


def _fits(value: Any, types: set[str]) -> bool:
    t = _type_of(value)
    return t in types or (t == "integer" and "number" in types)


def generic_json(rules: Rules) -> str:
    """Rules for any JSON value (``value``) and object (``object``); returns ``value``."""
    if "value" not in rules:
        space = rules.add("space", SPACE)
        char = rules.add("char", JSON_CHAR)
        string = rules.add("string", f'"\\"" {char}* "\\""')
        number = rules.add(
            "number", f'"-"? ([0] | [1-9] [0-9]{{0,{MAX_DIGITS - 1}}}) ("." [0-9]{{1,16}})? ([eE] [-+]? [0-9]{{1,3}})?'
        )
        for name in ("value", "object", "array"):
            rules.fresh(name)
        rules.define("value", f'object | array | {string} | {number} | ("true" | "false" | "null")')
        rules.define(
            "object",
            f'"{{" {space} ({string} {space} ":" {space} value'
            f' ({space} "," {space} {string} {space} ":" {space} value)*)? {space} "}}"',
        )
        rules.define("array", f'"[" {space} (value ({space} "," {space} value)*)? {space} "]"')
    return "value"


class SchemaCompiler:
    """Compiles schemas of one root document into a shared ``Rules``; ``$ref`` targets become named rules."""

    def __init__(self, root: Any, rules: Rules, *, prefix: str = "root") -> None:
        self.root = root
        self.rules = rules
        self.prefix = prefix
        self.refs: dict[str, str] = {}
        self.space = rules.add("space", SPACE)

    def compile(self) -> str:
        """The name of the rule for the whole document."""
        name = self.rules.fresh(self.prefix)
        self.refs["#"] = name
        self.rules.define(name, self.visit(self.root, "#", self.prefix))
        return name

    # -- dispatch ------------------------------------------------------------------------------------------

    def visit(self, schema: Any, ptr: str, hint: str) -> str:
        if schema is True or schema == {}:
            return generic_json(self.rules)
        if schema is False:
            raise SchemaError(ptr, "the schema false accepts no value")
        if not isinstance(schema, Mapping):
            raise SchemaError(ptr, f"a schema must be an object or a boolean, not {_type_of(schema)}")
        for kw in schema:
            if kw in UNSUPPORTED:
                raise SchemaError(_ptr(ptr, kw), f'keyword "{kw}" is not supported in format schemas')
        if "$ref" in schema:
            siblings = {k: v for k, v in schema.items() if k not in ("$ref", "$defs", "definitions")}
            if not _constraining(siblings):
                return self.ref(schema["$ref"], _ptr(ptr, "$ref"))
            target, _ = self.resolve(schema["$ref"], _ptr(ptr, "$ref"))
            return self.visit({"allOf": [target, siblings]}, ptr, hint)
        if "allOf" in schema:
            subs = _list_of_schemas(schema["allOf"], _ptr(ptr, "allOf"))
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            parts = [(rest, ptr)] + [(s, _ptr(ptr, "allOf", i)) for i, s in enumerate(subs)]
            return self.visit(merge_all(parts, self.resolve), ptr, hint)
        if "anyOf" in schema or "oneOf" in schema:
            if "anyOf" in schema and "oneOf" in schema:
                raise SchemaError(_ptr(ptr, "oneOf"), 'keywords "anyOf" and "oneOf" together are not supported')
            kw = "anyOf" if "anyOf" in schema else "oneOf"
            subs = _list_of_schemas(schema[kw], _ptr(ptr, kw))
            rest = {k: v for k, v in schema.items() if k != kw}
            alts = []
            for i, sub in enumerate(subs):
                sub_ptr = _ptr(ptr, kw, i)
                if _constraining(rest):
                    sub = merge_all([(rest, ptr), (sub, sub_ptr)], self.resolve)
                alts.append(self.visit(sub, sub_ptr, f"{hint}-{i}"))
            return _alternatives(alts)
        return self.typed(schema, ptr, hint)

    def ref(self, ref: Any, ptr: str) -> str:
        target, target_ptr = self.resolve(ref, ptr)
        if target_ptr in self.refs:
            return self.refs[target_ptr]
        hint = self.prefix + "-" + target_ptr.rsplit("/", 1)[-1] if target_ptr != "#" else self.prefix
        name = self.rules.fresh(hint)
        self.refs[target_ptr] = name
        self.rules.define(name, self.visit(target, target_ptr, hint))
        return name

    def resolve(self, ref: Any, ptr: str) -> tuple[Any, str]:
        """The schema a local ``$ref`` points to, and its pointer."""
        if not isinstance(ref, str):
            raise SchemaError(ptr, '"$ref" must be a string')
        if not ref.startswith("#"):
            raise SchemaError(ptr, f'"$ref" {ref!r} is not a local reference (only "#/..." is supported)')
        node = self.root
        if ref in ("#", "#/"):
            return node, "#"
        if not ref.startswith("#/"):
            raise SchemaError(ptr, f'"$ref" {ref!r}: anchors are not supported, use a JSON pointer')
        from urllib.parse import unquote

        for raw in ref[2:].split("/"):
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(ptr, f'"$ref" {ref!r} points to nothing in the schema')
        return node, ref

    # -- types ---------------------------------------------------------------------------------------------

    def typed(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        types = _types(schema, ptr)
        if "const" in schema:
            if not _fits(schema["const"], types):
                raise SchemaError(_ptr(ptr, "const"), '"const" does not have the schema\'s type')
            return _json_literal(schema["const"])
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values:
                raise SchemaError(_ptr(ptr, "enum"), '"enum" must be a non-empty array')
            alts = list(dict.fromkeys(_json_literal(v) for v in values if _fits(v, types)))
            if not alts:
                raise SchemaError(_ptr(ptr, "enum"), '"enum" has no value of the schema\'s type')
            return _alternatives(alts)
        alts = []
        for t in _TYPES:
            if t not in types or (t == "integer" and "number" in types and not _has_bounds(schema)):
                continue
            alts.append(getattr(self, "t_" + t)(schema, ptr, hint))
        return _alternatives(alts)

    def t_null(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        return '"null"'

    def t_boolean(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        return '("true" | "false")'

    def t_integer(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo, lo_strict, hi, hi_strict = _bounds(schema, ptr)
        lo_i = hi_i = None
        if lo is not None:
            lo_i = (
                int(lo.to_integral_value("ROUND_FLOOR")) + 1
                if lo_strict
                else int(lo.to_integral_value("ROUND_CEILING"))
            )
        if hi is not None:
            hi_i = (
                int(hi.to_integral_value("ROUND_CEILING")) - 1
                if hi_strict
                else int(hi.to_integral_value("ROUND_FLOOR"))
            )
        if lo_i is not None and hi_i is not None and lo_i > hi_i:
            raise SchemaError(ptr, "no integer lies within the bounds")
        return integer_range(lo_i, hi_i)

    def t_number(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo, lo_strict, hi, hi_strict = _bounds(schema, ptr)
        if lo is None and hi is None:
            generic_json(self.rules)
            return "number"
        expr = number_range(lo, lo_strict, hi, hi_strict)
        if expr is None:
            raise SchemaError(ptr, "no number lies within the bounds")
        return self.rules.add(hint + "-number", expr)

    def t_string(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo = _count(schema, "minLength", ptr) or 0
        hi = _count(schema, "maxLength", ptr)
        if hi is not None and hi < lo:
            raise SchemaError(_ptr(ptr, "maxLength"), '"maxLength" is less than "minLength"')
        fmt, pattern = schema.get("format"), schema.get("pattern")
        if (fmt is not None or pattern is not None) and ("minLength" in schema or "maxLength" in schema):
            kw = "minLength" if "minLength" in schema else "maxLength"
            other = "format" if fmt is not None else "pattern"
            raise SchemaError(_ptr(ptr, kw), f'"{kw}" together with "{other}" is not supported')
        if fmt is not None and pattern is not None:
            raise SchemaError(_ptr(ptr, "pattern"), '"pattern" together with "format" is not supported')
        if fmt is not None:
            if fmt not in FORMATS:
                supported = ", ".join(sorted(FORMATS))
                raise SchemaError(_ptr(ptr, "format"), f'format "{fmt}" is not supported (supported: {supported})')
            return f'"\\"" {format_rule(self.rules, fmt)} "\\""'
        if pattern is not None:
            if not isinstance(pattern, str):
                raise SchemaError(_ptr(ptr, "pattern"), '"pattern" must be a string')
            try:
                body = pattern_to_gbnf(pattern, self.rules, hint=hint + "-pattern")
            except PatternError as e:
                raise SchemaError(_ptr(ptr, "pattern"), f'"pattern" is not supported: {e}') from None
            return self.rules.add(hint + "-string", f'"\\"" {group(body)} "\\""')
        char = self.rules.add("char", JSON_CHAR)
        if lo == 0 and hi is None:
            generic_json(self.rules)
            return "string"
        return self.rules.add(hint + "-string", f'"\\"" {repeat(self.rules, char, lo, hi, hint=hint)} "\\""')

    def t_array(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo = _count(schema, "minItems", ptr) or 0
        hi = _count(schema, "maxItems", ptr)
        if hi is not None and hi < lo:
            raise SchemaError(_ptr(ptr, "maxItems"), '"maxItems" is less than "minItems"')
        items = schema.get("items", True)
        if "prefixItems" in schema:
            prefix = _list_of_schemas(schema["prefixItems"], _ptr(ptr, "prefixItems"))
            prefix_kw, rest, rest_ptr = "prefixItems", items, _ptr(ptr, "items")
        elif isinstance(items, list):  # draft 4-7 tuples
            prefix, prefix_kw = items, "items"
            rest, rest_ptr = schema.get("additionalItems", True), _ptr(ptr, "additionalItems")
        else:
            prefix, prefix_kw, rest, rest_ptr = [], "", items, _ptr(ptr, "items")
        k = len(prefix)
        elems = [self.visit(s, _ptr(ptr, prefix_kw, i), f"{hint}-{i}") for i, s in enumerate(prefix)]
        rest_rule = None if rest is False else self.visit(rest, rest_ptr, hint + "-item")
        if rest_rule is None:
            hi = k if hi is None else min(hi, k)
            if lo > hi:
                raise SchemaError(_ptr(ptr, "minItems"), '"minItems" is more than the items the array may hold')
        sp = self.space

        def after(i: int) -> str:
            """What may follow once i >= 1 items are written."""
            if hi is not None and i >= hi:
                return ""
            if i >= k:
                if rest_rule is None:
                    return ""
                more = None if hi is None else hi - i
                return repeat(
                    self.rules, f'{sp} "," {sp} {group(rest_rule)}', max(lo - i, 0), more, hint=hint + "-items"
                )
            step = f'{sp} "," {sp} {group(elems[i])} {after(i + 1)}'.strip()
            return step if i < lo else f"({step})?"

        first = elems[0] if k else rest_rule
        body = ""
        if first is not None and hi != 0:
            body = f"{group(first)} {after(1)}".strip()
            if lo == 0:
                body = f"({body})?"
        return self.rules.add(hint + "-array", f'"[" {sp} {body} {sp} "]"' if body else f'"[" {sp} "]"')

    def t_object(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        from pollama.grammar.objects import object_rule

        return object_rule(self, schema, ptr, hint)


def _alternatives(alts: list[str]) -> str:
    alts = list(dict.fromkeys(alts))
    return alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")"


def _list_of_schemas(value: Any, ptr: str) -> list[Any]:
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
        *_OBJECT_KEYWORDS,
        *_ARRAY_KEYWORDS,
        *_STRING_KEYWORDS,
        *_NUMBER_KEYWORDS,
        *UNSUPPORTED,
    ]
)


def _constraining(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` has any keyword that constrains values (anything known that is not an annotation)."""
    return any(k in _KNOWN for k in schema)


def _has_bounds(schema: Mapping[str, Any]) -> bool:
    return any(k in schema for k in _NUMBER_KEYWORDS)


def _types(schema: Mapping[str, Any], ptr: str) -> set[str]:
    t = schema.get("type")
    if t is None:
        inferred: set[str] = set()
        for kws, types in (
            (_OBJECT_KEYWORDS, ("object",)),
            (_ARRAY_KEYWORDS, ("array",)),
            (_STRING_KEYWORDS, ("string",)),
            (_NUMBER_KEYWORDS, ("number",)),
        ):
            if any(k in schema for k in kws):
                inferred.update(types)
        if "const" in schema or "enum" in schema:
            return set(_TYPES)
        # a schema with type-specific keywords only: writing values of that type alone is valid and expected
        return inferred or set(_TYPES)
    names = [t] if isinstance(t, str) else t
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n in _TYPES for n in names):
        raise SchemaError(_ptr(ptr, "type"), f'"type" must be one of {", ".join(_TYPES)} or a list of them')
    return set(names)


def _count(schema: Mapping[str, Any], kw: str, ptr: str) -> int | None:
    v = schema.get(kw)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (isinstance(v, float) and not v.is_integer()):
        raise SchemaError(_ptr(ptr, kw), f'"{kw}" must be a non-negative integer')
    return int(v)


def _number(schema: Mapping[str, Any], kw: str, ptr: str) -> Decimal | None:
    v = schema.get(kw)
    if v is None or (isinstance(v, bool) and kw.startswith("exclusive")):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SchemaError(_ptr(ptr, kw), f'"{kw}" must be a number')
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)


def _bounds(schema: Mapping[str, Any], ptr: str) -> tuple[Decimal | None, bool, Decimal | None, bool]:
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
        if d is not None and abs(d) >= Decimal(10) ** MAX_DIGITS:
            raise SchemaError(_ptr(ptr, kw), f'"{kw}" beyond 1e{MAX_DIGITS} is not supported')
        if d is not None and d.as_tuple().exponent < -15:  # type: ignore[operator]
            raise SchemaError(_ptr(ptr, kw), f'"{kw}" with more than 15 decimals is not supported')
    return lo, lo_strict, hi, hi_strict


def compile_schema(schema: Any) -> str:
    """The GBNF (root rule ``root``) of the JSON texts valid against ``schema``; raises ``SchemaError``."""
    rules = Rules()
    root = SchemaCompiler(schema, rules, prefix="root").compile()
    assert root == "root"
    return rules.render()
