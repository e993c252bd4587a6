"""The functions callable from templates: Go's builtins and Ollama's additions (json, dates, toTypeScriptType).

`and`/`or` are listed for parse-time name checks but evaluated lazily by the executor (Go short-circuits them).
A function signals a Go `error` result by raising FuncError; the executor reports it as
`error calling NAME: MSG`, as Go does.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pollama.gojson import MarshalError

from .gofmt import format_v, sprint, sprintf, sprintln
from .values import go_type_name, is_func, is_struct, is_true, json_marshal


class FuncError(Exception):
    """A template function returned a non-nil error."""


@dataclass(frozen=True)
class Func:
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: variadic


def _kind(v: object) -> str:
    if v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _eq(a: object, *others: object) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    ka = _kind(a)
    for b in others:
        kb = _kind(b)
        if ka != kb:
            if a is not None and b is not None:
                raise FuncError("incompatible types for comparison")
            continue
        if ka == "other":
            if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
                raise FuncError(
                    f"non-comparable types {format_v(a)}: {go_type_name(a)}, {go_type_name(b)}: {format_v(b)}"
                )
            if a is b or a == b:
                return True
        elif ka == "invalid" or a == b:
            return True
    return False


def _ne(a: object, b: object) -> bool:
    return not _eq(a, b)


def _lt(a: object, b: object) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka in ("invalid", "bool", "other") or kb in ("invalid", "bool", "other"):
        raise FuncError("invalid type for comparison")
    if ka != kb:
        raise FuncError("incompatible types for comparison")
    return a < b  # type: ignore[operator,no-any-return]


def _le(a: object, b: object) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a: object, b: object) -> bool:
    return not _le(a, b)


def _ge(a: object, b: object) -> bool:
    return not _lt(a, b)


def _not(a: object) -> bool:
    return not is_true(a)


def _len(v: object) -> int:
    if v is None:
        raise FuncError("len of nil pointer")
    if isinstance(v, (str,)):
        return len(v.encode("utf-8", "surrogatepass"))  # Go counts bytes.
    if isinstance(v, (bytes, list, tuple, dict)):
        return len(v)
    length = getattr(v, "__len__", None)
    if length is not None and not is_struct(v):
        return int(length())
    raise FuncError(f"len of type {go_type_name(v)}")


def _to_index(i: object, cap: int) -> int:
    if isinstance(i, bool) or not isinstance(i, int):
        raise FuncError(f"cannot index slice/array with type {go_type_name(i)}")
    if i < 0 or i > cap:
        raise FuncError(f"index out of range: {i}")
    return i


def _index(item: object, *indexes: object) -> object:
    v = item
    for ix in indexes:
        if v is None:
            raise FuncError("index of untyped nil")
        if isinstance(v, str):
            b = v.encode("utf-8", "surrogatepass")
            i = _to_index(ix, len(b) - 1)
            v = b[i]
        elif isinstance(v, (list, tuple, bytes)):
            i = _to_index(ix, len(v) - 1)
            v = v[i]
        elif isinstance(v, dict):
            if ix is not None and len(v) and _kind(ix) != _kind(next(iter(v))):
                raise FuncError(f"value has type {go_type_name(ix)}; should be {go_type_name(next(iter(v)))}")
            v = v.get(ix)
        else:
            raise FuncError(f"can't index item of type {go_type_name(v)}")
    return v


def _slice(item: object, *indexes: object) -> object:
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        b = item.encode("utf-8", "surrogatepass")
        cap = len(b)
    elif isinstance(item, (list, tuple, bytes)):
        cap = len(item)
    else:
        raise FuncError(f"can't slice item of type {go_type_name(item)}")
    idx = [0, cap]
    if len(indexes) >= 1:
        idx[0] = _to_index(indexes[0], cap)
    if len(indexes) >= 2:
        idx[1] = _to_index(indexes[1], cap)
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > _to_index(indexes[2], cap):
        raise FuncError(f"invalid slice index: {idx[1]} > {indexes[2]}")
    if isinstance(item, str):
        return b[idx[0] : idx[1]].decode("utf-8", "replace")
    return item[idx[0] : idx[1]]


def _eval_args(args: tuple[object, ...]) -> str:
    # Go's evalArgs: a single string argument is used as is, anything else goes through fmt.Sprint.
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


def _html(*args: object) -> str:
    s = _eval_args(args)
    return (
        s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&#34;").replace("\x00", "\ufffd")
    )  # fmt: skip


def _js(*args: object) -> str:
    out = []
    for ch in _eval_args(args):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == '"':
            out.append('\\"')
        elif ch in "<>&=" or ord(ch) < 0x20 or (ord(ch) >= 0x80 and not ch.isprintable()):
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _urlquery(*args: object) -> str:
    return urllib.parse.quote_plus(_eval_args(args), safe="-_.~")


def _call(fn: object, *args: object) -> object:
    if fn is None:
        raise FuncError("call of nil")
    if not is_func(fn):
        raise FuncError(f"non-function of type {go_type_name(fn)}")
    assert callable(fn)
    try:
        return fn(*args)
    except FuncError:
        raise
    except Exception as e:  # a Go func's error return
        raise FuncError(str(e)) from e


def _json(v: object) -> str:
    # Ollama discards the marshal error and prints whatever bytes came back (nothing).
    try:
        return json_marshal(v)
    except MarshalError:
        return ""


def _current_date(*_: object) -> str:
    return _dt.date.today().strftime("%Y-%m-%d")


def _yesterday_date(*_: object) -> str:
    return (_dt.date.today() - _dt.timedelta(days=1)).strftime("%Y-%m-%d")


def _to_typescript_type(v: object) -> str:
    method = getattr(v, "to_typescript_type", None)
    if method is not None and callable(method):
        return str(method())
    return "any"


BUILTINS: dict[str, Func] = {
    "and": Func(lambda *a: a[-1], 1, None),
    "or": Func(lambda *a: a[-1], 1, None),
    "not": Func(_not, 1, 1),
    "eq": Func(_eq, 1, None),
    "ne": Func(_ne, 2, 2),
    "lt": Func(_lt, 2, 2),
    "le": Func(_le, 2, 2),
    "gt": Func(_gt, 2, 2),
    "ge": Func(_ge, 2, 2),
    "len": Func(_len, 1, 1),
    "index": Func(_index, 1, None),
    "slice": Func(_slice, 1, None),
    "print": Func(sprint, 0, None),
    "printf": Func(lambda f, *a: sprintf(f, *a), 1, None),
    "println": Func(sprintln, 0, None),
    "html": Func(_html, 0, None),
    "js": Func(_js, 0, None),
    "urlquery": Func(_urlquery, 0, None),
    "call": Func(_call, 1, None),
}

OLLAMA_FUNCS: dict[str, Func] = {
    "json": Func(_json, 1, 1),
    "currentDate": Func(_current_date, 0, None),
    "yesterdayDate": Func(_yesterday_date, 0, None),
    "toTypeScriptType": Func(_to_typescript_type, 1, 1),
}

DEFAULT_FUNCS: dict[str, Func] = {**BUILTINS, **OLLAMA_FUNCS}
