"""Objects: the grammar of an object schema's properties, and ``allOf`` merged into one schema.

Properties are written in the schema's order, each optional one may be left out, and commas stay right for
every subset (one rule per position, so the grammar grows linearly). Keys beyond the declared ones are allowed
only when ``additionalProperties`` says so, and then never with a declared name (a duplicate key would be
checked against the wrong schema).

``allOf`` merges exactly: each subschema's ``additionalProperties`` applies to the keys that subschema does not
declare, so a property one subschema forbids is dropped (or, when required, the schema is refused).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pollama.grammar.gbnf import char_class, generic_json, group, literal
from pollama.grammar.keywords import SchemaError, pointer

if TYPE_CHECKING:
    from pollama.grammar.schema import SchemaCompiler

__all__ = ["merge_all", "object_rule"]

_MISSING: Any = object()
# A key an extra property may have: raw characters only (so that no escape can spell a declared name).
_KEY_CHAR_EXCLUDED: list[str | tuple[str, str]] = ['"', "\\", ("\x00", "\x1f"), "\x7f"]


def _err(ptr: str, message: str) -> SchemaError:
    return SchemaError(ptr, message)


def _kv(compiler: SchemaCompiler, name: str, value: str, hint: str) -> str:
    sp = compiler.space
    key = literal(json.dumps(name, ensure_ascii=False))
    return compiler.rules.add(hint + "-kv", f'{key} {sp} ":" {sp} {group(value)}')


def object_rule(compiler: SchemaCompiler, schema: Mapping[str, Any], ptr: str, hint: str) -> str:
    props = schema.get("properties", {})
    if not isinstance(props, Mapping):
        raise _err(pointer(ptr, "properties"), '"properties" must be an object')
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise _err(pointer(ptr, "required"), '"required" must be an array of strings')
    addl = schema.get("additionalProperties", _MISSING)
    if not props and addl is _MISSING:
        addl = True
    if not (addl is _MISSING or isinstance(addl, (bool, Mapping))):
        raise _err(pointer(ptr, "additionalProperties"), '"additionalProperties" must be a schema')
    declared: list[tuple[str, Any, str, bool]] = [
        (name, sub, pointer(ptr, "properties", name), name in required) for name, sub in props.items()
    ]
    for name in dict.fromkeys(required):
        if name not in props:
            if addl is False:
                raise _err(pointer(ptr, "required"), f'required property "{name}" is forbidden by additionalProperties')
            declared.append(
                (name, addl if isinstance(addl, Mapping) else True, pointer(ptr, "additionalProperties"), True)
            )
    if not declared and addl is True:
        generic_json(compiler.rules)
        return "object"
    sp = compiler.space
    rules = compiler.rules
    kvs = [
        _kv(compiler, name, compiler.visit(sub, sub_ptr, f"{hint}-{name}"), f"{hint}-{name}")
        for name, sub, sub_ptr, _ in declared
    ]
    extra = ""
    if addl is True or isinstance(addl, Mapping):
        value = compiler.visit(addl, pointer(ptr, "additionalProperties"), hint + "-additional")
        key = _key_not_in(compiler, [d[0] for d in declared], hint)
        extra = rules.add(hint + "-additional-kv", f'{key} {sp} ":" {sp} {group(value)}')
    n = len(declared)
    # tail i: properties i.. after something has been written, each preceded by a comma
    tail = f'({sp} "," {sp} {extra})*' if extra else ""
    tails = [tail]
    for i in range(n - 1, -1, -1):
        step = f'{sp} "," {sp} {kvs[i]}'
        seq = f"{step if declared[i][3] else f'({step})?'} {tails[0]}".strip()
        tails.insert(0, rules.add(f"{hint}-tail", seq) if tails[0] and " " in tails[0] else seq)
    # head i: nothing written yet, properties i.. to come
    head = f"({extra} {tail})?" if extra else ""
    for i in range(n - 1, -1, -1):
        first = f"{kvs[i]} {tails[i + 1]}".strip()
        if declared[i][3]:
            head = first
        elif head:
            head = rules.add(f"{hint}-head", f"{first} | {head}")
        else:
            head = f"({first})?"
    if not head:
        return rules.add(hint + "-object", f'"{{" {sp} "}}"')
    return rules.add(hint + "-object", f'"{{" {sp} {head} {sp} "}}"')


def _key_not_in(compiler: SchemaCompiler, names: list[str], hint: str) -> str:
    """A JSON string rule for keys that are none of ``names``."""
    rules = compiler.rules
    key_char = rules.add("key-char", char_class(_KEY_CHAR_EXCLUDED, negated=True))
    trie: dict[str, Any] = {}
    for name in names:
        if any(c in '"\\' or ord(c) < 0x20 or c == "\x7f" for c in name):
            continue  # an extra key (raw characters only) can never spell this name
        node = trie
        for c in name:
            node = node.setdefault(c, {})
        node[""] = {}

    def walk(node: dict[str, Any]) -> str:
        children = {c: n for c, n in node.items() if c}
        terminal = "" in node
        alts = [f"{literal(c)} {group(walk(child))}" for c, child in children.items()]
        others = char_class([*children, *_KEY_CHAR_EXCLUDED], negated=True)
        alts.append(f"{others} {key_char}*")
        body = " | ".join(alts)
        return f"({body})" if terminal else f"({body})?"

    return rules.add(hint + "-additional-key", f'"\\"" {walk(trie)} "\\""')


# -- allOf ----------------------------------------------------------------------------------------------------

_MIN_KEYWORDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_MAX_KEYWORDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_OBJECT_KEYWORDS = ("properties", "required", "additionalProperties")


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def merge_all(parts: list[tuple[Any, str]], resolve: Callable[[Any, str], tuple[Any, str]]) -> dict[str, Any]:
    """One schema equivalent to all of ``parts`` ((schema, pointer) pairs) holding at once."""
    flat: list[tuple[Mapping[str, Any], str]] = []

    def add(schema: Any, ptr: str, depth: int = 0) -> None:
        if depth > 32:
            raise _err(ptr, "allOf/$ref nesting too deep to merge")
        if schema is True:
            return
        if schema is False:
            raise _err(ptr, "the schema false accepts no value")
        if not isinstance(schema, Mapping):
            raise _err(ptr, "a schema must be an object or a boolean")
        rest = dict(schema)
        if "$ref" in rest:
            target, target_ptr = resolve(rest.pop("$ref"), ptr + "/$ref")
            add(target, target_ptr, depth + 1)
        if "allOf" in rest:
            subs = rest.pop("allOf")
            if not isinstance(subs, list):
                raise _err(ptr + "/allOf", "must be an array of schemas")
            for i, sub in enumerate(subs):
                add(sub, f"{ptr}/allOf/{i}", depth + 1)
        flat.append((rest, ptr))

    for schema, ptr in parts:
        add(schema, ptr)
    out: dict[str, Any] = {}
    for schema, ptr in flat:
        for kw, v in schema.items():
            if kw in _OBJECT_KEYWORDS or kw in ("$defs", "definitions"):
                continue
            if kw not in out:
                out[kw] = v
            elif kw == "type":
                a = {out[kw]} if isinstance(out[kw], str) else set(out[kw])
                b = {v} if isinstance(v, str) else set(v)
                # an integer is a number: widen both sides before intersecting
                both = (a | ({"integer"} if "number" in a else set())) & (b | ({"integer"} if "number" in b else set()))
                if not both:
                    raise _err(ptr + "/type", "allOf: the subschemas' types have nothing in common")
                out[kw] = sorted(both)
            elif kw in ("enum", "const"):
                mine = out[kw] if kw == "enum" else [out[kw]]
                theirs = {_canon(x) for x in (v if kw == "enum" else [v])}
                common = [x for x in mine if _canon(x) in theirs]
                if not common:
                    raise _err(f"{ptr}/{kw}", f'allOf: no value satisfies every "{kw}"')
                out.pop(kw)
                out["enum"] = common
            elif kw in _MIN_KEYWORDS and not isinstance(v, bool):
                out[kw] = max(out[kw], v)
            elif kw in _MAX_KEYWORDS and not isinstance(v, bool):
                out[kw] = min(out[kw], v)
            elif kw == "items" and isinstance(v, Mapping) and isinstance(out[kw], Mapping):
                out[kw] = {"allOf": [out[kw], v]}
            elif _canon(out[kw]) != _canon(v) and kw in _CONSTRAINING:
                raise _err(f"{ptr}/{kw}", f'allOf: two different "{kw}" cannot be merged')
    if "enum" in out and "const" in out:
        const = out.pop("const")
        out["enum"] = [x for x in out["enum"] if _canon(x) == _canon(const)]
        if not out["enum"]:
            raise _err(flat[-1][1], 'allOf: no value satisfies every "enum"')
    _merge_objects(out, flat)
    return out


_CONSTRAINING = frozenset(
    ["pattern", "format", "prefixItems", "additionalItems", "anyOf", "oneOf", "items", *_MIN_KEYWORDS, *_MAX_KEYWORDS]
)


def _merge_objects(out: dict[str, Any], flat: list[tuple[Mapping[str, Any], str]]) -> None:
    objects = [(s, p) for s, p in flat if any(k in s for k in _OBJECT_KEYWORDS)]
    if not objects:
        return
    names: dict[str, None] = {}
    required: dict[str, None] = {}
    for s, p in objects:
        props = s.get("properties", {})
        if not isinstance(props, Mapping):
            raise _err(p + "/properties", '"properties" must be an object')
        names.update(dict.fromkeys(props))
        req = s.get("required", [])
        if not isinstance(req, list):
            raise _err(p + "/required", '"required" must be an array of strings')
        required.update(dict.fromkeys(req))
    merged: dict[str, Any] = {}
    names.update(required)
    for name in names:
        constraints: list[Any] = []
        forbidden = None
        for s, p in objects:
            props = s.get("properties", {})
            addl = s.get("additionalProperties", _MISSING)
            if name in props:
                constraints.append(props[name])
            elif addl is False:
                forbidden = p
            elif isinstance(addl, Mapping):
                constraints.append(addl)
        if forbidden is not None:
            if name in required:
                raise _err(forbidden + "/additionalProperties", f'allOf: required property "{name}" is forbidden')
            continue
        merged[name] = True if not constraints else constraints[0] if len(constraints) == 1 else {"allOf": constraints}
    addls = [s.get("additionalProperties", _MISSING) for s, _ in objects]
    if any(a is False for a in addls):
        out["additionalProperties"] = False
    elif schemas := [a for a in addls if isinstance(a, Mapping)]:
        out["additionalProperties"] = schemas[0] if len(schemas) == 1 else {"allOf": schemas}
    elif any(a is True for a in addls):
        out["additionalProperties"] = True
    if merged or names:
        out["properties"] = merged
    if required:
        out["required"] = list(required)
