"""Exact GBNF for JSON numbers within bounds: integers by digit ranges, decimals by comparing the integer part
and then the fraction digits.

Unbounded magnitudes are capped at ``MAX_DIGITS`` digits (as llama.cpp caps ``integral-part``): every number
the grammar writes is valid, and a model cannot emit digits forever.
"""

from __future__ import annotations

from decimal import Decimal

from pollama.grammar.gbnf import MAX_DIGITS, group

__all__ = ["MAX_DIGITS", "MAX_FRACTION", "integer_range", "number_range"]

MAX_FRACTION = 15


def _alt(parts: list[str]) -> str:
    parts = [p for p in parts if p]
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _digits(lo: str, hi: str) -> str:
    return f"[{lo}]" if lo == hi else f"[{lo}-{hi}]"


def _any(n: int) -> str:
    if n == 0:
        return ""
    return "[0-9]" if n == 1 else f"[0-9]{{{n}}}"


def _same_length(a: str, b: str) -> str:
    """Digit strings of len(a) == len(b) between a and b inclusive (leading zeros as written)."""
    if not a:
        return ""
    if len(a) == 1:
        return _digits(a, b)
    if a[0] == b[0]:
        return " ".join(x for x in (f'"{a[0]}"', _same_length(a[1:], b[1:])) if x)
    n = len(a) - 1
    low_full = a[1:] == "0" * n
    high_full = b[1:] == "9" * n
    parts: list[str] = []
    first = int(a[0]) if low_full else int(a[0]) + 1
    last = int(b[0]) if high_full else int(b[0]) - 1
    if not low_full:
        parts.append(f'"{a[0]}" {_same_length(a[1:], "9" * n)}')
    if first <= last:
        parts.append(f"{_digits(str(first), str(last))} {_any(n)}")
    if not high_full:
        parts.append(f'"{b[0]}" {_same_length("0" * n, b[1:])}')
    return _alt(parts)


def _natural(lo: int, hi: int | None) -> str:
    """Canonical decimals (no leading zeros) of the integers in [lo, hi], lo >= 0; hi None caps the length."""
    top = hi if hi is not None else max(10**MAX_DIGITS - 1, lo)
    parts: list[str] = []
    for length in range(len(str(lo)), len(str(top)) + 1):
        first = 0 if length == 1 else 10 ** (length - 1)
        a, b = max(lo, first), min(top, 10**length - 1)
        if a > b:
            continue
        if hi is None and a == first and length > 1:
            # every longer length up to the cap is complete: one repetition instead of one branch per length
            parts.append(f"[1-9] [0-9]{{{length - 1},{len(str(top)) - 1}}}")
            break
        parts.append(_same_length(str(a), str(b)))
    return _alt(parts)


def integer_range(lo: int | None, hi: int | None) -> str:
    """JSON integers n with lo <= n <= hi (None: unbounded on that side)."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError("empty range")
    parts: list[str] = []
    if hi is None or hi >= 0:
        parts.append(_natural(max(lo or 0, 0) if lo is not None else 0, hi))
    if lo is None or lo < 0:
        mag_lo = 1 if hi is None or hi >= 0 else -hi
        mag_hi = None if lo is None else -lo
        parts.append(f'"-" {group(_natural(mag_lo, mag_hi))}')
    return _alt(parts)


# Fractions: the optional ".digits" after an integer part, compared as values in [0, 1). Bounds are digit
# strings read with implicit trailing zeros; ``hi`` None leaves the top open.


def _frac(lo: str, lo_strict: bool, hi: str | None, hi_strict: bool, n: int) -> tuple[str | None, bool]:
    """Digit strings s with 1 <= len(s) <= n and 0.lo <(=) 0.s <(=) 0.hi, as an expression (None when there are
    none), and whether the empty string (the value 0) is in the interval as well."""
    lo = lo.rstrip("0")
    hi = None if hi is None else hi.rstrip("0")
    empty_ok = (lo == "" and not lo_strict) and (hi is None or hi != "" or not hi_strict)
    if n == 0:
        return None, empty_ok
    if lo == "" and not lo_strict and hi is None:
        return f"[0-9]{{1,{n}}}", True
    if hi == "":
        # at most 0: only zeros, and only when 0 itself is allowed
        return (f'"0"{{1,{n}}}', True) if empty_ok else (None, False)
    lo0 = int(lo[0]) if lo else 0
    hi0 = 9 if hi is None else (int(hi[0]) if hi else 0)
    alts: list[str] = []
    if lo0 > hi0:
        return None, empty_ok
    if hi is not None and lo0 == hi0:
        alts.append(_then(lo0, _frac(lo[1:], lo_strict, hi[1:], hi_strict, n - 1)))
    else:
        # the first digit equals lo's: the rest must stay above lo's rest
        alts.append(_then(lo0, _frac(lo[1:], lo_strict, None, False, n - 1)))
        a, b = lo0 + 1, hi0 if hi is None else hi0 - 1
        if a <= b:
            alts.append(f"{_digits(str(a), str(b))} [0-9]{{0,{n - 1}}}" if n > 1 else _digits(str(a), str(b)))
        if hi is not None:
            alts.append(_then(hi0, _frac("", False, hi[1:], hi_strict, n - 1)))
    alts = [a for a in alts if a]
    return (_alt(alts) if alts else None), empty_ok


def _then(digit: int, rest: tuple[str | None, bool]) -> str:
    """``digit`` followed by the strings of ``rest`` (possibly only, or also, the empty one)."""
    expr, empty_ok = rest
    if expr is None:
        return f'"{digit}"' if empty_ok else ""
    return f'"{digit}" {group(expr)}' + ("?" if empty_ok else "")


def _with_fraction(whole: str, frac: tuple[str | None, bool]) -> str:
    expr, empty_ok = frac
    if expr is None:
        return whole if empty_ok else ""
    part = f'"." {group(expr)}'
    return f"{whole} ({part})?" if empty_ok else f"{whole} {part}"


def _split(x: Decimal) -> tuple[int, str]:
    """Integer part and fraction digits of a non-negative decimal."""
    whole, _, frac = format(x, "f").partition(".")
    return int(whole), frac


def _magnitude(lo: Decimal, lo_strict: bool, hi: Decimal | None, hi_strict: bool) -> str | None:
    """Non-negative decimals m (written I or I.F, no exponent) with lo <(=) m <(=) hi; None if there are none."""
    n = MAX_FRACTION
    lo_i, lo_f = _split(lo)
    if hi is not None:
        hi_i, hi_f = _split(hi)
        if hi_i < lo_i:
            return None
        if hi_i == lo_i:
            return _with_fraction(f'"{lo_i}"', _frac(lo_f, lo_strict, hi_f, hi_strict, n)) or None
    alts = [_with_fraction(f'"{lo_i}"', _frac(lo_f, lo_strict, None, False, n))]
    inner_hi = None if hi is None else hi_i - 1
    if inner_hi is None or lo_i + 1 <= inner_hi:
        alts.append(_with_fraction(group(_natural(lo_i + 1, inner_hi)), (f"[0-9]{{1,{n}}}", True)))
    if hi is not None:
        alts.append(_with_fraction(f'"{hi_i}"', _frac("", False, hi_f, hi_strict, n)))
    alts = [a for a in alts if a]
    return _alt(alts) if alts else None


def number_range(lo: Decimal | None, lo_strict: bool, hi: Decimal | None, hi_strict: bool) -> str | None:
    """JSON numbers x (no exponent) with lo <(=) x <(=) hi (None: open); None when no number is in between."""
    parts: list[str] = []
    if hi is None or hi > 0 or (hi == 0 and not hi_strict):
        if lo is None or lo < 0:
            pos = _magnitude(Decimal(0), False, hi, hi_strict)
        else:
            pos = _magnitude(lo, lo_strict, hi, hi_strict)
        if pos is not None:
            parts.append(pos)
    if lo is None or lo < 0:
        # x = -m: the bounds swap; "-0" is the value 0, in range unless the top is a strict 0
        if hi is not None and hi <= 0:
            m_lo, m_lo_strict = -hi, hi_strict
        else:
            m_lo, m_lo_strict = Decimal(0), False
        neg = _magnitude(m_lo, m_lo_strict, None if lo is None else -lo, lo_strict)
        if neg is not None:
            parts.append(f'"-" {group(neg)}')
    return _alt(parts) if parts else None
