"""``oneOf``: its branches become alternatives only when no text one branch's grammar writes can also match
another branch (otherwise the value would match two branches and fail ``oneOf``).

Proven exclusive when, for each pair, the branches' types do not meet, their ``const``/``enum`` values do not
meet, a property both require has disjoint ``const``/``enum`` values (a discriminator), or one branch requires a
property the other's grammar never writes (its objects list only their declared properties). Anything else is
refused with a hint to use ``anyOf``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pollama.grammar.keywords import SchemaError, pointer

__all__ = ["check_exclusive"]

_ALL = frozenset(["object", "array", "string", "number", "integer", "boolean", "null"])
_KIND = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}

Resolver = Callable[[Any, str], tuple[Any, str]]


def _deref(schema: Any, resolve: Resolver, ptr: str) -> Any:
    for _ in range(32):
        if not (isinstance(schema, Mapping) and "$ref" in schema and len(schema) == 1):
            return schema
        schema, ptr = resolve(schema["$ref"], ptr)
    return schema


def _values(schema: Mapping[str, Any]) -> set[str] | None:
    """The allowed values (canonical JSON) when the schema lists them."""
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    if isinstance(schema.get("enum"), list):
        return {json.dumps(v, sort_keys=True) for v in schema["enum"]}
    return None


def _types(schema: Mapping[str, Any]) -> set[str]:
    if (vals := _values(schema)) is not None:
        out = set()
        for v in vals:
            value = json.loads(v)
            out.add("null" if value is None else _KIND.get(type(value), "object"))
        return out | ({"number"} if "integer" in out else set())
    t = schema.get("type")
    if t is None:
        return set(_ALL)
    names = {t} if isinstance(t, str) else set(t) if isinstance(t, list) else set(_ALL)
    # an integer is a number and a number may be an integer
    if "number" in names or "integer" in names:
        names |= {"number", "integer"}
    return names


def _written_keys(schema: Mapping[str, Any]) -> set[str] | None:
    """The keys the grammar may write for this object schema, or None when extra keys are allowed."""
    props = schema.get("properties")
    addl = schema.get("additionalProperties", None)
    if not isinstance(props, Mapping) or not props or addl not in (None, False):
        return None
    required = schema.get("required", [])
    return set(props) | {r for r in required if isinstance(r, str)}


def _required(schema: Mapping[str, Any]) -> set[str]:
    req = schema.get("required", [])
    return {r for r in req if isinstance(r, str)} if isinstance(req, list) else set()


def _exclusive(a: Any, b: Any, resolve: Resolver, ptr: str) -> bool:
    a, b = _deref(a, resolve, ptr), _deref(b, resolve, ptr)
    if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
        return False
    if any(k in s for s in (a, b) for k in ("anyOf", "oneOf", "allOf", "$ref")):
        return False
    if not (_types(a) & _types(b)):
        return True
    va, vb = _values(a), _values(b)
    if va is not None and vb is not None and not (va & vb):
        return True
    if all(
        (keys := _written_keys(x)) is not None and _required(y) - keys for x, y in ((a, b), (b, a))
    ):  # each side requires a key the other side's objects never have
        return True
    pa, pb = a.get("properties"), b.get("properties")
    if isinstance(pa, Mapping) and isinstance(pb, Mapping):
        for name in _required(a) & _required(b):
            sa, sb = _deref(pa.get(name), resolve, ptr), _deref(pb.get(name), resolve, ptr)
            if isinstance(sa, Mapping) and isinstance(sb, Mapping):
                xa, xb = _values(sa), _values(sb)
                if xa is not None and xb is not None and not (xa & xb):
                    return True
    return False


def check_exclusive(branches: list[Any], resolve: Resolver, ptr: str) -> None:
    """Raise ``SchemaError`` unless every pair of ``oneOf`` branches is proven exclusive."""
    for i in range(len(branches)):
        for j in range(i + 1, len(branches)):
            if not _exclusive(branches[i], branches[j], resolve, ptr):
                raise SchemaError(
                    pointer(ptr, "oneOf", j),
                    f'"oneOf" branches {i} and {j} may both match the same value (use "anyOf", or tell them apart '
                    "by type, const/enum values, or a required property)",
                )
