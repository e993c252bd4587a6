"""Go literal syntax inside actions: strconv.Unquote for strings, raw strings and chars, and number parsing.

Numbers follow Go's rules for template constants: anything with `.`, `e`/`E` (or `p` in hex) is a float64,
otherwise an int (hex, octal, binary and `_` separators allowed); a char constant is its code point.
"""

from __future__ import annotations

from .lexer import T

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def go_unquote(quoted: str) -> str:
    """Go's strconv.Unquote for "..." , `...` and '...' literals; raises ValueError on bad syntax."""
    if len(quoted) < 2 or quoted[0] != quoted[-1]:
        raise ValueError("invalid syntax")
    q = quoted[0]
    body = quoted[1:-1]
    if q == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    buf = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == q or (ch == "\n"):
            raise ValueError("invalid syntax")
        if ch != "\\":
            buf += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise ValueError("invalid syntax")
        e = body[i]
        i += 1
        if e in _SIMPLE_ESCAPES:
            buf += _SIMPLE_ESCAPES[e].encode()
        elif e in ("'", '"'):
            if e != q:
                raise ValueError("invalid syntax")
            buf += e.encode()
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or any(c not in "01234567" for c in digits) or int(digits, 8) > 255:
                raise ValueError("invalid syntax")
            buf.append(int(digits, 8))
            i += 2
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + n]
            if len(digits) != n or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError("invalid syntax")
            i += n
            v = int(digits, 16)
            if e == "x":
                buf.append(v)
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    raise ValueError("invalid syntax")
                buf += chr(v).encode("utf-8")
        else:
            raise ValueError("invalid syntax")
    out = buf.decode("utf-8", "replace")
    if q == "'" and len(out) != 1:
        raise ValueError("invalid syntax")
    return out


def parse_number(text: str, typ: T) -> int | float:
    if typ is T.CHAR_CONSTANT:
        return ord(go_unquote(text))
    if text.endswith("i"):
        raise ValueError(f"complex numbers are not supported: {text}")
    clean = text.replace("_", "")
    low = clean.lower().lstrip("+-")
    is_hex = low.startswith("0x")
    if ("." in low or "e" in low or "p" in low) and not (is_hex and "p" not in low):
        if is_hex:
            return float.fromhex(clean)
        return float(clean)
    sign = -1 if clean.startswith("-") else 1
    body = clean.lstrip("+-")
    base = 10
    if low.startswith(("0x", "0o", "0b")):
        base = {"x": 16, "o": 8, "b": 2}[low[1]]
        body = body[2:]
    elif len(body) > 1 and body.startswith("0"):
        base = 8
    return sign * int(body, base)
