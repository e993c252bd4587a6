"""Go's fmt package, as far as templates need it: `%v` rendering of values, Sprint/Sprintln and Sprintf.

Why not Python formatting: Go prints floats as shortest `%g` with exponent at 1e+06 and up, slices as `[a b]`,
maps as `map[k:v]` with sorted keys, nil as `<nil>`, and reports bad verbs inline (`%!d(string=x)`).
Templates rely on these exact strings.
"""

from __future__ import annotations

from pollama.gojson import format_float

from .values import has_stringer, is_struct, struct_fields


def go_quote(s: str) -> str:
    """strconv.Quote: printable runes stay, others become \\n, \\x00, \\u2028 style escapes."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def format_v(v: object, top: bool = True) -> str:
    """Go's %v of one operand (Stringers honoured at every depth, as fmt does for exported fields)."""
    if v is None:
        return "<nil>"
    if has_stringer(v):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return "[" + " ".join(str(b) for b in v) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(format_v(x, False) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{format_v(k, False)}:{format_v(v[k], False)}" for k in sort_keys(v)) + "]"
    if is_struct(v):
        return "{" + " ".join(format_v(x, False) for _, x in struct_fields(v)) + "}"
    if callable(v):
        return f"{hex(id(v))}"
    return str(v)


def sort_keys(d: dict[object, object]) -> list[object]:
    """Go's fmtsort order: numbers numerically, strings bytewise, false before true."""
    keys = list(d.keys())
    try:
        return sorted(keys, key=lambda k: k.encode("utf-8", "surrogatepass") if isinstance(k, str) else k)  # type: ignore[arg-type,return-value]
    except TypeError:
        return sorted(keys, key=lambda k: (type(k).__name__, str(k)))


def _is_string(v: object) -> bool:
    return isinstance(v, str)


def sprint(*args: object) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i > 0 and not _is_string(a) and not _is_string(args[i - 1]):
            out.append(" ")
        out.append(format_v(a))
    return "".join(out)


def sprintln(*args: object) -> str:
    return " ".join(format_v(a) for a in args) + "\n"


def _type_name(v: object) -> str:
    from .values import go_type_name

    return go_type_name(v)


def _pad(s: str, width: int | None, minus: bool, zero: bool) -> str:
    if width is None or len(s) >= width:
        return s
    if minus:
        return s + " " * (width - len(s))
    if zero:
        sign = s[0] if s[:1] in "+-" else ""
        return sign + "0" * (width - len(s)) + s[len(sign) :]
    return " " * (width - len(s)) + s


def _bad(verb: str, v: object) -> str:
    if v is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({_type_name(v)}={format_v(v)})"


def _fmt_one(verb: str, v: object, flags: str, width: int | None, prec: int | None) -> str:
    plus = "+" in flags
    sharp = "#" in flags
    space = " " in flags
    if verb == "v":
        if isinstance(v, float) and prec is not None:
            return format_float(v, "g", prec)
        s = format_v(v)
        if plus and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
            s = "+" + s
        return s
    if verb == "T":
        return _type_name(v)
    if isinstance(v, bool):
        return ("true" if v else "false") if verb == "t" else _bad(verb, v)
    if isinstance(v, int):
        if verb == "d":
            s = str(v)
        elif verb in "xX":
            s = format(abs(v), "x" if verb == "x" else "X")
            s = ("-" if v < 0 else "") + ("0x" if sharp else "") + s
        elif verb == "o":
            s = format(v, "o")
        elif verb == "b":
            s = format(v, "b")
        elif verb == "c":
            return chr(v)
        elif verb == "q":
            return "'" + go_quote(chr(v))[1:-1].replace("'", "\\'").replace('\\"', '"') + "'"
        else:
            return _bad(verb, v)
        if plus and v >= 0:
            s = "+" + s
        elif space and v >= 0:
            s = " " + s
        return s
    if isinstance(v, float):
        if verb in "eE":
            s = format_float(v, "e", 6 if prec is None else prec)
        elif verb in "fF":
            s = format_float(v, "f", 6 if prec is None else prec)
        elif verb in "gG":
            s = format_float(v, "g", -1 if prec is None else prec)
        else:
            return _bad(verb, v)
        if verb.isupper():
            s = s.upper()
        if plus and not s.startswith("-"):
            s = "+" + s
        return s
    if isinstance(v, str) or has_stringer(v):
        s = v if isinstance(v, str) else str(v)
        if prec is not None:
            s = s[:prec]
        if verb == "s":
            return s
        if verb == "q":
            return "`" + s + "`" if sharp and "`" not in s else go_quote(s)
        if verb in "xX":
            h = s.encode().hex()
            return h.upper() if verb == "X" else h
        return _bad(verb, v)
    if isinstance(v, (list, tuple)) and verb in "sdq":
        return "[" + " ".join(_fmt_one(verb, x, flags, None, prec) for x in v) + "]"
    if v is None and verb == "s":
        return "%!s(<nil>)"
    if verb in ("s", "d") and (is_struct(v) or isinstance(v, dict)):
        return format_v(v)
    return _bad(verb, v)


def sprintf(fmt: str, *args: object) -> str:
    """fmt.Sprintf with flags, width, precision (including `*`), and Go's inline error reports."""
    out: list[str] = []
    i = 0
    argi = 0
    n = len(fmt)
    while i < n:
        ch = fmt[i]
        if ch != "%":
            j = fmt.find("%", i)
            j = n if j < 0 else j
            out.append(fmt[i:j])
            i = j
            continue
        i += 1
        flags = ""
        while i < n and fmt[i] in "+-# 0":
            flags += fmt[i]
            i += 1
        width: int | None = None
        if i < n and fmt[i] == "*":
            i += 1
            if argi < len(args) and isinstance(args[argi], int):
                width = int(args[argi])  # type: ignore[call-overload]
            argi += 1
        else:
            start = i
            while i < n and fmt[i].isdigit():
                i += 1
            width = int(fmt[start:i]) if i > start else None
        prec: int | None = None
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                i += 1
                if argi < len(args) and isinstance(args[argi], int):
                    prec = int(args[argi])  # type: ignore[call-overload]
                argi += 1
            else:
                start = i
                while i < n and fmt[i].isdigit():
                    i += 1
                prec = int(fmt[start:i]) if i > start else 0
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        s = _fmt_one(verb, arg, flags, width, prec)
        out.append(_pad(s, width, "-" in flags, "0" in flags and verb not in "sqvT"))
    if argi < len(args):
        extra = ", ".join("<nil>" if a is None else f"{_type_name(a)}={format_v(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
