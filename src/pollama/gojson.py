"""Go's ``encoding/json`` output, and the ``strconv.FormatFloat`` it and ``fmt`` rest on: the one encoder for
every byte pollama writes where Ollama's Go code would write JSON (HTTP bodies, manifests and config blobs whose
digests must match Ollama's, the template ``json`` function).

Go rules reproduced here and not by Python's ``json``: compact; ``<`` ``>`` ``&`` U+2028 U+2029 escaped as
``\\u003c`` etc.; invalid UTF-8 (a lone surrogate in a Python ``str``) becomes ``\\ufffd``; floats in Go's
shortest form with an exponent only below 1e-6 or from 1e21 (``0.00001``, ``1e-7``, ``1e+21``, ``1`` not
``1.0``); ``Float32`` values printed with float32's shortest digits (``0.1``, not ``0.10000000149011612``);
NaN and Inf are errors; ``bytes`` as base64. Dicts keep insertion order (Go structs, or maps the caller sorted)
unless ``sort_maps`` asks for Go's map order; an ``OrderedDict`` always keeps its order. A value whose type
defines ``__go_json__()`` is encoded as what that returns (Go's ``MarshalJSON``).

This module is a leaf: it imports nothing from pollama, so every layer may use it.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from json.encoder import encode_basestring

__all__ = ["Float32", "MarshalError", "encode", "format_float", "marshal"]


class MarshalError(ValueError):
    """``json.Marshal`` returned an error (``json: unsupported value: NaN``, ``json: unsupported type: ...``)."""


_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_D = struct.Struct("<d")


def _round32(x: float) -> float:
    """``float32(x)``: nearest float32, ties to even; beyond float32's range it is an infinity, as in Go."""
    try:
        v: float = _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)
    return v


class Float32(float):
    """A Go ``float32``: the value is rounded to float32 on construction and formats with float32's digits.

    Arithmetic on it gives a plain ``float`` (float64), as converting to float64 would in Go.
    """

    __slots__ = ()

    def __new__(cls, value: float | str | int = 0.0) -> Float32:
        return super().__new__(cls, _round32(float(value)))

    def __repr__(self) -> str:
        return f"Float32({format_float(self)})"


# --- strconv.FormatFloat ------------------------------------------------------------------------------------------


def _digits64(a: float) -> tuple[str, int]:
    # repr is the shortest round-trip decimal, as Go's shortest formatting is; only its layout differs.
    mant, _, exp = float.__repr__(a).partition("e")
    whole, _, frac = mant.partition(".")
    digits = whole + frac
    stripped = digits.lstrip("0")
    dp = len(whole) + (int(exp) if exp else 0) - (len(digits) - len(stripped))
    return stripped.rstrip("0") or "0", dp


def _parse_e(s: str) -> tuple[str, int]:
    mant, _, exp = s.partition("e")
    return mant.replace(".", "").rstrip("0") or "0", int(exp) + 1


def _digits32(a: float) -> tuple[str, int]:
    """Shortest decimal digits of the positive float32 ``a`` that read back as ``a`` in 32 bits, closest first."""
    bits: int = _U32.unpack(_F32.pack(a))[0]
    if bits & 0x7FFFFF == 0 or bits < 0x00800000:
        # At a power of two the gap below is half the gap above, and the closest p-digit decimal can miss while
        # the other neighbour fits; subnormals have their own spacing. Both are rare: take the exact path.
        return _digits32_exact(a, bits)
    # Python's 'e' formatting rounds correctly, so it gives the closest p-digit decimal: in the interval if any
    # p-digit one is, and then every longer one is too. Most float32 data needs 8 or 9 digits, so try those first,
    # then binary search below 7.
    found, lo, hi = "", 1, 9
    for p in (8, 7):
        s = format(a, _E_SPECS[p])
        ok = _reads_back(s, a)
        if ok is None:
            return _digits32_exact(a, bits)
        if not ok:
            return _parse_e(found or format(a, _E_SPECS[9]))
        found, hi = s, p
    while lo < hi:
        mid = (lo + hi) // 2
        s = format(a, _E_SPECS[mid])
        ok = _reads_back(s, a)
        if ok is None:
            return _digits32_exact(a, bits)
        if ok:
            found, hi = s, mid
        else:
            lo = mid + 1
    return _parse_e(found)


_E_SPECS = ["", *(f".{p - 1}e" for p in range(1, 10))]  # p significant digits in 'e' format


def _reads_back(s: str, a: float) -> bool | None:
    """Whether the decimal ``s`` parses (in 32 bits) to ``a``; None when a float64 cannot decide it."""
    x = float(s)
    if _U64.unpack(_D.pack(x))[0] & 0x1FFFFFFF == 0x10000000:
        # x sits exactly between two float32s: decimal -> float64 -> float32 double rounding may pick the wrong
        # side of it.
        return None
    return _round32(x) == a


def _from_bits32(bits: int) -> float:
    v: float = _F32.unpack(_U32.pack(bits))[0]
    return v


def _digits32_exact(a: float, bits: int) -> tuple[str, int]:
    exact = Fraction(a)
    below = _from_bits32(bits - 1)
    above = _from_bits32(bits + 1) if bits + 1 < 0x7F800000 else a + (a - below)
    lo = (exact + Fraction(below)) / 2
    hi = (exact + Fraction(above)) / 2
    # Round-to-even reading: a decimal exactly halfway belongs to the float with the even mantissa.
    inclusive = bits % 2 == 0
    e10 = Decimal(a).adjusted()
    for p in range(1, 18):
        scale = e10 - p + 1
        unit = Fraction(10) ** scale
        q = math.floor(exact / unit)
        for n in sorted((q, q + 1), key=lambda n: (abs(n * unit - exact), n % 2)):
            c = n * unit
            if lo < c < hi or (inclusive and c in (lo, hi)):
                s = str(n)
                return s.rstrip("0") or "0", len(s) + scale
    raise AssertionError(f"no shortest decimal for float32 {a!r}")  # pragma: no cover


def _digits(a: float, bitsize: int) -> tuple[str, int]:
    """Go's shortest ``decimalSlice`` (digits, decimal point) of ``a`` >= 0 in ``bitsize`` bits."""
    if a == 0:
        return "0", 1
    return _digits32(a) if bitsize == 32 else _digits64(a)


def _fmt_e(digits: str, dp: int) -> str:
    exp = dp - 1 if digits != "0" else 0
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def format_float(f: float, fmt: str = "g", prec: int = -1, bitsize: int | None = None) -> str:
    """``strconv.FormatFloat(f, fmt, prec, bitsize)`` for fmt ``e E f g G`` (``prec`` -1 = shortest).

    ``bitsize`` defaults to 32 for a ``Float32`` and 64 otherwise; with 32, ``f`` is first rounded to float32.
    ``format_float(x)`` is also fmt's ``%v`` of a float.
    """
    bits = bitsize or (32 if isinstance(f, Float32) else 64)
    if bits == 32:
        f = _round32(f)
    if f != f:
        return "NaN"
    if f in (math.inf, -math.inf):
        return "+Inf" if f > 0 else "-Inf"
    verb = fmt.lower()
    a = abs(f)
    if prec >= 0:
        # Python rounds the exact binary value half to even, as Go does; a float32 is exact in a float64.
        body = f"{a:.{prec or 1}g}" if verb == "g" else f"{a:.{prec}{verb}}"
    else:
        digits, dp = _digits(a, bits)
        if verb == "g":
            # Go's shortest %g switches to an exponent at 1e+06 (eprec 6), or below 1e-4.
            verb = "e" if dp - 1 < -4 or dp - 1 >= 6 else "f"
        body = _fmt_e(digits, dp) if verb == "e" else _fmt_f(digits, dp)
    if fmt in "EG":
        body = body.upper()
    return ("-" if math.copysign(1.0, f) < 0 else "") + body


# --- encoding/json ------------------------------------------------------------------------------------------------

_F32_1E_6 = _round32(1e-6)
_F32_1E21 = _round32(1e21)


def _json_float(f: float, bits: int) -> str:
    """encode.go's floatEncoder: 'f' format unless tiny or huge (compared in the float's own size), then 'e'."""
    if f != f or f in (math.inf, -math.inf):
        raise MarshalError(f"json: unsupported value: {format_float(f, 'g', -1, bits)}")
    a = abs(f)
    if bits == 64:
        text = float.__repr__(f)
        if "e" not in text:
            # repr is positional from 1e-4 to 1e16, with Go's digits; only the trailing ".0" differs.
            return text[:-2] if text.endswith(".0") else text
        tiny, huge = a < 1e-6, a >= 1e21
    else:
        tiny, huge = a < _F32_1E_6, a >= _F32_1E21
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    digits, dp = _digits(a, bits)
    if a != 0 and (tiny or huge):
        text = _fmt_e(digits, dp)
        # Go trims e-07 to e-7 (but keeps e+21).
        if text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return sign + text
    return sign + _fmt_f(digits, dp)


_UNICODE_ESCAPES = {"\u2028": "\\u2028", "\u2029": "\\u2029"}
_UNICODE_RE = re.compile("[\u2028\u2029\ud800-\udfff]")


def _unicode_escape(m: re.Match[str]) -> str:
    # Go replaces each invalid UTF-8 byte (here: each lone surrogate) with the escape, not the raw U+FFFD.
    return _UNICODE_ESCAPES.get(m.group(), "\\ufffd")


def _string(s: str) -> str:
    # The C encoder does quotes, backslashes and control characters exactly as Go 1.22+ does (\b \f \n \r \t
    # short, the rest \u00xx lowercase); the HTML and JavaScript-unsafe characters are Go's additions.
    out: str = encode_basestring(s)
    if "<" in out or ">" in out or "&" in out:
        out = out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if not s.isascii():
        out = _UNICODE_RE.sub(_unicode_escape, out)
    return out


_KEYS: dict[str, str] = {}
_KEY_CACHE_MAX = 2048


def _key(k: object) -> str:
    if type(k) is str:
        cached = _KEYS.get(k)
        if cached is None:
            cached = _string(k) + ":"
            if len(_KEYS) < _KEY_CACHE_MAX and len(k) <= 64:
                _KEYS[k] = cached
        return cached
    if isinstance(k, str):
        return _string(k) + ":"
    if isinstance(k, int) and not isinstance(k, bool):
        return '"' + int.__repr__(k) + '":'
    raise MarshalError(f"json: unsupported type: map[{type(k).__name__}]")


def _sort_key(k: object) -> str:
    # Go sorts a map by its keys' JSON text; for str keys code point order is UTF-8 byte order.
    if isinstance(k, str):
        return k
    if isinstance(k, int) and not isinstance(k, bool):
        return int.__repr__(k)
    raise MarshalError(f"json: unsupported type: map[{type(k).__name__}]")


Default = Callable[[object], object]
_FLOAT_ONLY = {float}


def _make_encoder(sort_maps: bool, default: Default | None) -> Callable[[object], str]:
    def enc(v: object) -> str:
        t = type(v)
        if t is str:
            return _string(v)  # type: ignore[arg-type]
        if t is int:
            return int.__repr__(v)
        if t is bool:
            return "true" if v else "false"
        if v is None:
            return "null"
        if t is float:
            text = float.__repr__(v)
            if "e" not in text and "n" not in text:
                # repr is positional from 1e-4 to 1e16, with Go's digits; only the trailing ".0" differs.
                return text[:-2] if text.endswith(".0") else text
            return _json_float(v, 64)  # type: ignore[arg-type]
        if t is dict:
            if not v:
                return "{}"
            d: dict[object, object] = v  # type: ignore[assignment]
            if sort_maps:
                return "{" + ",".join([_key(k) + enc(d[k]) for k in sorted(d, key=_sort_key)]) + "}"
            return "{" + ",".join([_key(k) + enc(x) for k, x in d.items()]) + "}"
        if t is list or t is tuple:
            seq: Sequence[object] = v  # type: ignore[assignment]
            if seq and type(seq[0]) is float and set(map(type, seq)) == _FLOAT_ONLY:
                # Embeddings: reprs at C speed; they are Go's text but for a trailing ".0" and exponent forms.
                texts = list(map(float.__repr__, seq))
                joined = ",".join(texts)
                if "e" in joined or "n" in joined:
                    fixed = [x if "e" not in x and "n" not in x else _json_float(float(x), 64) for x in texts]
                    joined = ",".join(fixed)
                joined = joined.replace(".0,", ",")
                return "[" + (joined[:-2] if joined.endswith(".0") else joined) + "]"
            return "[" + ",".join([enc(x) for x in seq]) + "]"
        if t is Float32:
            return _json_float(v, 32)  # type: ignore[arg-type]
        return other(v)

    def other(v: object) -> str:
        hook = getattr(type(v), "__go_json__", None)
        if hook is not None:
            return enc(hook(v))
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, Float32):
            return _json_float(v, 32)
        if isinstance(v, float):
            return _json_float(v, 64)
        if isinstance(v, int):
            return int.__repr__(v)
        if isinstance(v, str):
            return _string(v)
        if isinstance(v, bytes | bytearray | memoryview):
            return '"' + base64.b64encode(bytes(v)).decode("ascii") + '"'
        if isinstance(v, Mapping):
            items: Iterable[tuple[object, object]] = v.items()
            if sort_maps and not isinstance(v, OrderedDict):
                items = sorted(items, key=lambda kv: _sort_key(kv[0]))
            return "{" + ",".join([_key(k) + enc(x) for k, x in items]) + "}"
        if isinstance(v, Sequence):
            return "[" + ",".join([enc(x) for x in v]) + "]"
        if default is not None:
            return enc(default(v))
        raise MarshalError(f"json: unsupported type: {type(v).__name__}")

    return enc


_ENCODERS: dict[tuple[bool, Default | None], Callable[[object], str]] = {
    (False, None): _make_encoder(False, None),
    (True, None): _make_encoder(True, None),
}


def _encoder(sort_maps: bool, default: Default | None) -> Callable[[object], str]:
    enc = _ENCODERS.get((sort_maps, default))
    if enc is None:
        enc = _make_encoder(sort_maps, default)
        if len(_ENCODERS) < 64:  # a fresh lambda per call must not grow this without bound
            _ENCODERS[(sort_maps, default)] = enc
    return enc


def marshal(value: object, *, sort_maps: bool = False, default: Default | None = None) -> str:
    """``json.Marshal(value)`` as text. ``default`` maps a value of an unknown type to one that can be encoded
    (Go's struct fields); without it such a value raises ``MarshalError``, as NaN and infinities do."""
    return _encoder(sort_maps, default)(value)


def encode(value: object, *, sort_maps: bool = False, default: Default | None = None) -> bytes:
    """``json.NewEncoder(w).Encode(value)``: the marshalled UTF-8 bytes and a newline."""
    return (_encoder(sort_maps, default)(value) + "\n").encode()
