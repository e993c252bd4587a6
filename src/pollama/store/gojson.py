"""JSON bytes exactly as Go's ``encoding/json`` ``Encoder.Encode`` writes them.

Ollama writes manifests, config blobs and params/messages layers with ``json.NewEncoder(w).Encode(v)``:
compact, ``<``/``>``/``&`` escaped as ``\\u003c``/``\\u003e``/``\\u0026``, U+2028/U+2029 escaped, floats in
Go's shortest form (``1`` not ``1.0``) and a trailing newline. Matching it byte for byte makes the blobs we
write share digests with the ones Ollama writes (e.g. gemma3's params layer ``sha256:3116c522…``).
Dict order is kept as given: pass Go maps already sorted (Go sorts map keys), structs in field order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_marshal(value: object) -> bytes:
    """``json.Marshal(value)`` (no trailing newline)."""
    return _encode(value).encode()


def go_encode(value: object) -> bytes:
    """``json.NewEncoder(w).Encode(value)``: the marshalled bytes plus ``\\n``."""
    return go_marshal(value) + b"\n"


def go_float(f: float) -> str:
    """Go's float64 formatting: shortest round-trip digits, exponent form only below 1e-6 or from 1e21."""
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {f!r}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    a = abs(f)
    if 1e-6 <= a < 1e21:
        # repr is the shortest round-trip string; expand any exponent into plain digits.
        text = repr(f)
        if "e" in text or "E" in text:
            # floats from 1e16 up are whole numbers, so int() loses nothing.
            text = str(int(f)) if a >= 1 else _plain_small(f)
        if text.endswith(".0"):
            text = text[:-2]
        return text
    mantissa, _, exp = repr(f).partition("e")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    sign = "-" if exp.startswith("-") else "+"
    digits = exp.lstrip("+-").lstrip("0") or "0"
    if sign == "+" and len(digits) < 2:
        # Go keeps "e+07" but shortens "e-07" to "e-7".
        digits = "0" + digits
    return f"{mantissa}e{sign}{digits}"


def _plain_small(f: float) -> str:
    # repr gave e.g. "1.5e-05"; write the same significant digits positionally.
    mantissa, _, exp = repr(f).partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("-")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).rstrip("0") or "0"
    shift = int(exp) + len(whole)
    if shift <= 0:
        return f"{sign}0.{'0' * -shift}{digits}"
    return f"{sign}{digits[:shift]}.{digits[shift:]}" if len(digits) > shift else f"{sign}{digits}"


def _encode_str(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    if any(c in s for c in _HTML_ESCAPES):
        for raw, esc in _HTML_ESCAPES.items():
            out = out.replace(raw, esc)
    return out


def _encode(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, Mapping):
        items = (f"{_encode_str(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")
