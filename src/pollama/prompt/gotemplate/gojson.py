"""Go's `encoding/json.Marshal` output for template values (Ollama's `json` function and `.Tools` printing).

Differences from Python's json that matter for byte-exact prompts: compact separators; `<`, `>`, `&`,
U+2028 and U+2029 escaped as `\\u003c` etc.; maps (dict) sorted by key while ordered maps (OrderedDict)
and structs keep their order; floats in Go's shortest form (`1e+21` and up, `1e-07` and below, else plain);
`[]byte` as base64. A value may define `__go_json__()` returning the Python value to encode in its place
(Go's MarshalJSON / struct tags).
"""

from __future__ import annotations

import base64
import math
from collections import OrderedDict

from .gofmt import format_float, sort_keys
from .values import is_struct, struct_fields


class JSONError(ValueError):
    """json.Marshal failed (e.g. NaN); Ollama's `json` func then prints an empty string."""


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def encode_string(s: str) -> str:
    out = ['"']
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            # Invalid UTF-8 (lone surrogates in Python) is replaced, as Go does.
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _encode_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise JSONError(f"json: unsupported value: {format_float(f)}")
    s = format_float(f, "json")
    # Go's encoder shortens negative exponents: 1e-07 becomes 1e-7.
    return s.replace("e-0", "e-")


def marshal(v: object) -> str:
    """json.Marshal(v) as a string; raises JSONError where Go returns an error."""
    hook = getattr(v, "__go_json__", None)
    if hook is not None and callable(hook):
        return marshal(hook())
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _encode_float(v)
    if isinstance(v, str):
        return encode_string(v)
    if isinstance(v, (bytes, bytearray)):
        return '"' + base64.b64encode(bytes(v)).decode() + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(marshal(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = list(v.keys()) if isinstance(v, OrderedDict) else sort_keys(v)
        return "{" + ",".join(encode_string(str(k)) + ":" + marshal(v[k]) for k in keys) + "}"
    if is_struct(v):
        return "{" + ",".join(encode_string(k) + ":" + marshal(x) for k, x in struct_fields(v)) + "}"
    raise JSONError(f"json: unsupported type: {type(v).__name__}")
