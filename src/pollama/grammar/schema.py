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
from typing import Any
from urllib.parse import unquote

from pollama.grammar.formats import FORMATS, format_rule
from pollama.grammar.gbnf import JSON_CHAR, SPACE, Rules, generic_json, group, literal, repeat
from pollama.grammar.keywords import (
    ARRAY_KEYWORDS,
    NUMBER_KEYWORDS,
    OBJECT_KEYWORDS,
    STRING_KEYWORDS,
    TYPES,
    UNSUPPORTED,
    SchemaError,
    bounds,
    constraining,
    count,
    fits,
    has_bounds,
    list_of_schemas,
    pointer,
    type_of,
    types_of,
)
from pollama.grammar.numeric import integer_range, number_range
from pollama.grammar.objects import merge_all, object_rule
from pollama.grammar.oneof import check_exclusive
from pollama.grammar.regex import PatternError, pattern_to_gbnf

__all__ = ["SchemaCompiler", "SchemaError", "compile_schema", "generic_json"]


def _json_literal(value: Any) -> str:
    return literal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


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
            raise SchemaError(ptr, f"a schema must be an object or a boolean, not {type_of(schema)}")
        for kw in schema:
            if kw in UNSUPPORTED:
                raise SchemaError(pointer(ptr, kw), f'keyword "{kw}" is not supported in format schemas')
        if "$ref" in schema:
            siblings = {k: v for k, v in schema.items() if k not in ("$ref", "$defs", "definitions")}
            if not constraining(siblings):
                return self.ref(schema["$ref"], pointer(ptr, "$ref"))
            target, _ = self.resolve(schema["$ref"], pointer(ptr, "$ref"))
            return self.visit({"allOf": [target, siblings]}, ptr, hint)
        if "allOf" in schema:
            subs = list_of_schemas(schema["allOf"], pointer(ptr, "allOf"))
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            parts = [(rest, ptr)] + [(s, pointer(ptr, "allOf", i)) for i, s in enumerate(subs)]
            return self.visit(merge_all(parts, self.resolve), ptr, hint)
        if "anyOf" in schema or "oneOf" in schema:
            if "anyOf" in schema and "oneOf" in schema:
                raise SchemaError(pointer(ptr, "oneOf"), 'keywords "anyOf" and "oneOf" together are not supported')
            kw = "anyOf" if "anyOf" in schema else "oneOf"
            subs = list_of_schemas(schema[kw], pointer(ptr, kw))
            rest = {k: v for k, v in schema.items() if k != kw}
            branches = [
                merge_all([(rest, ptr), (sub, pointer(ptr, kw, i))], self.resolve) if constraining(rest) else sub
                for i, sub in enumerate(subs)
            ]
            if kw == "oneOf":
                check_exclusive(branches, self.resolve, ptr)
            alts = [self.visit(sub, pointer(ptr, kw, i), f"{hint}-{i}") for i, sub in enumerate(branches)]
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
        types = types_of(schema, ptr)
        if "const" in schema or "enum" in schema:
            # the listed values are written as they are: other value constraints beside them would go unchecked
            kw = "const" if "const" in schema else "enum"
            for other in (*OBJECT_KEYWORDS, *ARRAY_KEYWORDS, *STRING_KEYWORDS, *NUMBER_KEYWORDS):
                if other in schema:
                    raise SchemaError(pointer(ptr, other), f'"{other}" together with "{kw}" is not supported')
        if "const" in schema:
            if not fits(schema["const"], types):
                raise SchemaError(pointer(ptr, "const"), '"const" does not have the schema\'s type')
            return _json_literal(schema["const"])
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values:
                raise SchemaError(pointer(ptr, "enum"), '"enum" must be a non-empty array')
            alts = list(dict.fromkeys(_json_literal(v) for v in values if fits(v, types)))
            if not alts:
                raise SchemaError(pointer(ptr, "enum"), '"enum" has no value of the schema\'s type')
            return _alternatives(alts)
        alts = []
        for t in TYPES:
            if t not in types or (t == "integer" and "number" in types and not has_bounds(schema)):
                continue
            alts.append(getattr(self, "t_" + t)(schema, ptr, hint))
        return _alternatives(alts)

    def t_null(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        return '"null"'

    def t_boolean(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        return '("true" | "false")'

    def t_integer(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo, lo_strict, hi, hi_strict = bounds(schema, ptr)
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
        lo, lo_strict, hi, hi_strict = bounds(schema, ptr)
        if lo is None and hi is None:
            generic_json(self.rules)
            return "number"
        expr = number_range(lo, lo_strict, hi, hi_strict)
        if expr is None:
            raise SchemaError(ptr, "no number lies within the bounds")
        return self.rules.add(hint + "-number", expr)

    def t_string(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo = count(schema, "minLength", ptr) or 0
        hi = count(schema, "maxLength", ptr)
        if hi is not None and hi < lo:
            raise SchemaError(pointer(ptr, "maxLength"), '"maxLength" is less than "minLength"')
        fmt, pattern = schema.get("format"), schema.get("pattern")
        if (fmt is not None or pattern is not None) and ("minLength" in schema or "maxLength" in schema):
            kw = "minLength" if "minLength" in schema else "maxLength"
            other = "format" if fmt is not None else "pattern"
            raise SchemaError(pointer(ptr, kw), f'"{kw}" together with "{other}" is not supported')
        if fmt is not None and pattern is not None:
            raise SchemaError(pointer(ptr, "pattern"), '"pattern" together with "format" is not supported')
        if fmt is not None:
            if fmt not in FORMATS:
                supported = ", ".join(sorted(FORMATS))
                raise SchemaError(pointer(ptr, "format"), f'format "{fmt}" is not supported (supported: {supported})')
            return f'"\\"" {format_rule(self.rules, fmt)} "\\""'
        if pattern is not None:
            if not isinstance(pattern, str):
                raise SchemaError(pointer(ptr, "pattern"), '"pattern" must be a string')
            try:
                body = pattern_to_gbnf(pattern, self.rules, hint=hint + "-pattern")
            except PatternError as e:
                raise SchemaError(pointer(ptr, "pattern"), f'"pattern" is not supported: {e}') from None
            return self.rules.add(hint + "-string", f'"\\"" {group(body)} "\\""')
        char = self.rules.add("char", JSON_CHAR)
        if lo == 0 and hi is None:
            generic_json(self.rules)
            return "string"
        return self.rules.add(hint + "-string", f'"\\"" {repeat(self.rules, char, lo, hi, hint=hint)} "\\""')

    def t_array(self, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
        lo = count(schema, "minItems", ptr) or 0
        hi = count(schema, "maxItems", ptr)
        if hi is not None and hi < lo:
            raise SchemaError(pointer(ptr, "maxItems"), '"maxItems" is less than "minItems"')
        items = schema.get("items", True)
        if "prefixItems" in schema:
            prefix = list_of_schemas(schema["prefixItems"], pointer(ptr, "prefixItems"))
            prefix_kw, rest, rest_ptr = "prefixItems", items, pointer(ptr, "items")
        elif isinstance(items, list):  # draft 4-7 tuples
            prefix, prefix_kw = items, "items"
            rest, rest_ptr = schema.get("additionalItems", True), pointer(ptr, "additionalItems")
        else:
            prefix, prefix_kw, rest, rest_ptr = [], "", items, pointer(ptr, "items")
        k = len(prefix)
        elems = [self.visit(s, pointer(ptr, prefix_kw, i), f"{hint}-{i}") for i, s in enumerate(prefix)]
        rest_rule = None if rest is False else self.visit(rest, rest_ptr, hint + "-item")
        if rest_rule is None:
            hi = k if hi is None else min(hi, k)
            if lo > hi:
                raise SchemaError(pointer(ptr, "minItems"), '"minItems" is more than the items the array may hold')
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
        return object_rule(self, schema, ptr, hint)


def _alternatives(alts: list[str]) -> str:
    alts = list(dict.fromkeys(alts))
    return alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")"


def compile_schema(schema: Any) -> str:
    """The GBNF (root rule ``root``) of the JSON texts valid against ``schema``; raises ``SchemaError``."""
    rules = Rules()
    root = SchemaCompiler(schema, rules, prefix="root").compile()
    assert root == "root"
    return rules.render()
