"""How Python values stand in for Go values inside templates: kinds, truthiness, fields, Stringers, JSON.

Mapping: None is Go's nil/invalid value; bool, int, float, str are themselves; list/tuple are slices (bytes is
a []byte); dict is a map (ranged and printed in sorted key order); a dataclass, or any object declaring
`__go_fields__` (Go field name -> attribute name), is a struct; callables are funcs. A type whose class
defines its own `__str__` is a Go fmt.Stringer and prints through it.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pollama import gojson

_PLAIN_TYPES = (str, int, float, bool, list, tuple, dict, bytes, type(None))


def is_struct(v: object) -> bool:
    return hasattr(type(v), "__go_fields__") or (dataclasses.is_dataclass(v) and not isinstance(v, type))


def struct_fields(v: object) -> list[tuple[str, object]]:
    """The struct's exported fields in declaration order, under their Go names."""
    mapping: dict[str, str] | None = getattr(type(v), "__go_fields__", None)
    if mapping is not None:
        return [(go, getattr(v, attr)) for go, attr in mapping.items()]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return [(f.name, getattr(v, f.name)) for f in dataclasses.fields(v) if not f.name.startswith("_")]
    return []


_MISSING = object()


def struct_field(v: object, name: str) -> object:
    """Field `name` of struct-like `v`, or _MISSING."""
    mapping: dict[str, str] | None = getattr(type(v), "__go_fields__", None)
    if mapping is not None:
        if name in mapping:
            return getattr(v, mapping[name])
    elif dataclasses.is_dataclass(v) and not isinstance(v, type) and name in {f.name for f in dataclasses.fields(v)}:
        return getattr(v, name)
    if name[:1].isupper():
        # Exported methods: Go lets `.Method` call a method of the value.
        meth = getattr(v, name, None)
        if meth is not None and callable(meth):
            return meth
    return _MISSING


def missing() -> object:
    return _MISSING


def has_stringer(v: object) -> bool:
    """True when the value's class defines its own __str__ (Go's fmt.Stringer)."""
    if v is None or type(v) in _PLAIN_TYPES:
        return False
    for klass in type(v).__mro__:
        if klass is object or klass in _PLAIN_TYPES:
            return False
        if "__str__" in klass.__dict__:
            return True
    return False


def go_type_name(v: object) -> str:
    """A Go-looking type name for error messages."""
    explicit = getattr(type(v), "__go_type__", None)
    if isinstance(explicit, str):
        return explicit
    if v is None:
        return "interface {}"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "[]uint8"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if callable(v):
        return "func"
    return type(v).__name__


def is_true(v: object) -> bool:
    """Go template truth: the zero value of the type (and nil/empty containers) is false; structs are true."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, bytes, list, tuple, dict)):
        return len(v) > 0
    if is_struct(v):
        return True
    length = getattr(v, "__len__", None)
    if length is not None:
        return bool(length())
    return True


def is_func(v: object) -> bool:
    return callable(v) and not is_struct(v) and not isinstance(v, type)


AnyFunc = Callable[..., Any]


def json_marshal(v: object) -> str:
    """Go's ``json.Marshal`` of a template value: maps in sorted key order, structs as objects in field order.

    Raises ``gojson.MarshalError`` where Go returns an error (NaN, a func).
    """
    return gojson.marshal(v, sort_maps=True, default=_struct_json)


def _struct_json(v: object) -> object:
    if is_struct(v):
        return OrderedDict(struct_fields(v))
    raise gojson.MarshalError(f"json: unsupported type: {go_type_name(v)}")
