"""pollama.gojson against Go: json.Marshal bytes and strconv.FormatFloat text, case by case.

Where an expected string is quoted from Go's own tests it says so: encoding/json/encode_test.go
(encodeStringTests, TestHTMLEscape, TestEncodeRenamedByteSlice, TestEncodeBytekind, TestMarshalFloat's rules)
and strconv/ftoa_test.go (ftoatests, TestFtoaPowersOfTwo), Go 1.24. The rest are derived by hand from
encode.go's floatEncoder ('f' format with shortest digits unless abs < 1e-6 or abs >= 1e21, compared in the
float's own size; then 'e', with "e-07" trimmed to "e-7") and appendString, noted per case.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections import OrderedDict

import pytest

from pollama.gojson import Float32, MarshalError, encode, format_float, marshal

F32_MAX = 3.4028234663852886e38  # math.MaxFloat32
BELOW_1E23 = 99999999999999974834176.0  # ftoa_test.go below1e23 / above1e23
ABOVE_1E23 = 100000000000000008388608.0

# (value, json.Marshal output). A plain float is a Go float64, a Float32 a Go float32.
FLOATS = [
    # float64: plain digits from 1e-6 up to (not including) 1e21.
    (1e-05, "0.00001"),
    (1e-06, "0.000001"),
    (1.5e-05, "0.000015"),
    (0.1, "0.1"),
    (0.95, "0.95"),
    (1.0, "1"),
    (-0.5, "-0.5"),
    (100000000.0, "100000000"),
    (1e16, "10000000000000000"),
    (123456789012345678.0, "123456789012345680"),  # shortest digits 12345678901234568, then zeros
    (1e20, "100000000000000000000"),
    (0.0, "0"),
    (-0.0, "-0"),
    # float64: exponent form, "e-07" trimmed to "e-7", two-digit and positive exponents kept.
    (1e-07, "1e-7"),
    (-1.5e-07, "-1.5e-7"),
    (1e-10, "1e-10"),
    (1e21, "1e+21"),
    (1e23, "1e+23"),  # ftoatests {1e23, 'e', -1, "1e+23"}
    (BELOW_1E23, "9.999999999999997e+22"),  # ftoatests {below1e23, 'e', -1, ...}
    (ABOVE_1E23, "1.0000000000000001e+23"),  # ftoatests {above1e23, 'e', -1, ...}
    (5e-324, "5e-324"),  # ftoatests {fdiv(5e-304, 1e20), 'g', -1, "5e-324"}
    (2.2250738585072012e-308, "2.2250738585072014e-308"),  # ftoatests, exploringbinary case
    (1.7976931348623157e308, "1.7976931348623157e+308"),  # math.MaxFloat64
    # float64 of a float32 value prints all of float64's digits.
    (float(Float32(0.1)), "0.10000000149011612"),
    # float32: float32's shortest digits, thresholds compared as float32.
    (Float32(0.1), "0.1"),
    (Float32(1e-6), "0.000001"),  # float32(1e-6) is not < float32(1e-6): 'f' format
    (Float32(1e-7), "1e-7"),
    (Float32(123456789.0), "123456790"),  # the float32 is 123456792; shortest digits 12345679
    (Float32(16777217.0), "16777216"),  # rounds to even on construction
    (Float32(1e20), "100000000000000000000"),
    (Float32(1e21), "1e+21"),
    (Float32(F32_MAX), "3.4028235e+38"),  # math.MaxFloat32
    (Float32(5.960464477539063e-08), "5.9604645e-8"),  # ftoa_test.go: FormatFloat(.., 32) is "5.9604645e-08"
    (Float32(1.401298464324817e-45), "1e-45"),  # smallest float32 subnormal
    # 100000020 lies exactly halfway between the float32s 100000016 and 100000024; a halfway decimal reads as the
    # one with the even mantissa (100000016 = 8 * 12500002), so only that one may print as 1.0000002e+08.
    (Float32(100000016.0), "100000020"),
    (Float32(100000024.0), "100000024"),
    (Float32(0.0), "0"),
    (Float32(-0.0), "-0"),
]


@pytest.mark.parametrize(("value", "want"), FLOATS, ids=[f"{type(v).__name__}-{v!r}" for v, _ in FLOATS])
def test_floats(value: float, want: str) -> None:
    assert marshal(value) == want
    assert marshal([value, value]) == f"[{want},{want}]"  # the list fast path agrees


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, Float32(math.nan), Float32(1e39)])
def test_nan_and_inf_are_errors(value: float) -> None:
    # UnsupportedValueError: "json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, bits)
    want = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    with pytest.raises(MarshalError, match=re.escape(f"json: unsupported value: {want}")):
        marshal({"a": [value]})
    with pytest.raises(MarshalError):
        marshal([1.5, value])


# encode_test.go TestMarshalFloat: every output must read back as the same float and match none of these.
_BAD_FLOAT = [
    r"p",  # no binary exponential notation
    r"^\+",  # no leading + sign
    r"^-?0[^.]",  # no unnecessary leading zeros
    r"^-?\.",  # leading zero required before decimal point
    r"\.(e|$)",  # no trailing decimal
    r"\.[0-9]+0(e|$)",  # no trailing zero in fraction
    r"^-?(0|[0-9]{2,})\..*e",  # exponential notation must have normalized mantissa
    r"e[0-9]",  # positive exponent must be signed
    r"e[+-]0",  # exponent must not have leading zeros
    r"e-[1-6]$",  # not tiny enough for exponential notation
    r"e+(.|1.|20)$",  # not big enough for exponential notation
    r"^-?0\.0000000",  # too tiny, should use exponential notation
    r"^-?[0-9]{22}",  # too big, should use exponential notation
    r"[1-9][0-9]{16}[1-9]",  # too many significant digits in integer
    r"[1-9][0-9.]{17}[1-9]",  # too many significant digits in decimal
]
_BAD_FLOAT32 = [r"[1-9][0-9]{8}[1-9]", r"[1-9][0-9.]{9}[1-9]"]


def _next_toward(f: float, bits: int, up: bool) -> float:
    """math.Nextafter, or math.Nextafter32 for 32 bits."""
    if bits == 64:
        return math.nextafter(f, math.inf if up else -math.inf)
    if f == 0:
        return float(Float32(1e-45 if up else -1e-45))
    (u,) = struct.unpack("<I", struct.pack("<f", f))
    u += 1 if (f > 0) == up else -1
    (g,) = struct.unpack("<f", struct.pack("<I", u))
    return float(g)


@pytest.mark.parametrize("bits", [32, 64])
def test_marshal_float_like_go(bits: int) -> None:
    bad = [re.compile(r) for r in _BAD_FLOAT + (_BAD_FLOAT32 if bits == 32 else [])]
    digits = "1.2345678901234567890123"

    def check(f: float) -> None:
        value: float = Float32(f) if bits == 32 else f
        out = marshal(value)
        back = Float32(float(out)) if bits == 32 else float(out)
        assert back == value and math.copysign(1, back) == math.copysign(1, value), (value, out)
        assert not [r.pattern for r in bad if r.search(out)], (value, out)

    for i in range(len(digits), 1, -1):
        for exp in range(-30, 31):
            for sign in "+-":
                f = float(f"{sign}{digits[:i]}e{exp}")
                if bits == 32:
                    f = float(Float32(f))
                check(f)
                check(_next_toward(f, bits, up=True))
                check(_next_toward(f, bits, up=False))
    for z in (0.0, -0.0):
        check(z)


# --- strconv.FormatFloat: ftoa_test.go's ftoatests (formats e, f, g), checked in 64 bits and, where the value is
# exactly a float32 (Go's own filter), in 32 bits too.
FTOA = [
    (1, "e", 5, "1.00000e+00"), (1, "f", 5, "1.00000"), (1, "g", 5, "1"), (1, "g", -1, "1"),
    (20, "g", -1, "20"), (1234567.8, "g", -1, "1.2345678e+06"), (200000, "g", -1, "200000"),
    (2000000, "g", -1, "2e+06"), (1e10, "g", -1, "1e+10"),
    (400, "g", 2, "4e+02"), (40, "g", 2, "40"), (4, "g", 2, "4"), (0.4, "g", 2, "0.4"), (0.04, "g", 2, "0.04"),
    (0.004, "g", 2, "0.004"), (0.0004, "g", 2, "0.0004"), (0.00004, "g", 2, "4e-05"), (0.000004, "g", 2, "4e-06"),
    (0, "e", 5, "0.00000e+00"), (0, "f", 5, "0.00000"), (0, "g", 5, "0"), (0, "g", -1, "0"),
    (-1, "e", 5, "-1.00000e+00"), (-1, "f", 5, "-1.00000"), (-1, "g", 5, "-1"), (-1, "g", -1, "-1"),
    (12, "e", 5, "1.20000e+01"), (12, "f", 5, "12.00000"), (12, "g", 5, "12"), (12, "g", -1, "12"),
    (123456700, "e", 5, "1.23457e+08"), (123456700, "f", 5, "123456700.00000"), (123456700, "g", 5, "1.2346e+08"),
    (123456700, "g", -1, "1.234567e+08"),
    (1.2345e6, "e", 5, "1.23450e+06"), (1.2345e6, "f", 5, "1234500.00000"), (1.2345e6, "g", 5, "1.2345e+06"),
    (1.2345e6, "e", 3, "1.234e+06"), (1.2355e6, "e", 3, "1.236e+06"), (1.2345, "f", 3, "1.234"),
    (1.2355, "f", 3, "1.236"), (1234567890123456.5, "e", 15, "1.234567890123456e+15"),
    (1234567890123457.5, "e", 15, "1.234567890123458e+15"), (108678236358137.625, "g", -1, "1.0867823635813762e+14"),
    (1e23, "e", 17, "9.99999999999999916e+22"), (1e23, "f", 17, "99999999999999991611392.00000000000000000"),
    (1e23, "g", 17, "9.9999999999999992e+22"),
    (1e23, "e", -1, "1e+23"), (1e23, "f", -1, "100000000000000000000000"), (1e23, "g", -1, "1e+23"),
    (BELOW_1E23, "e", 17, "9.99999999999999748e+22"),
    (BELOW_1E23, "f", 17, "99999999999999974834176.00000000000000000"),
    (BELOW_1E23, "g", 17, "9.9999999999999975e+22"),
    (BELOW_1E23, "e", -1, "9.999999999999997e+22"), (BELOW_1E23, "f", -1, "99999999999999970000000"),
    (BELOW_1E23, "g", -1, "9.999999999999997e+22"),
    (ABOVE_1E23, "e", 17, "1.00000000000000008e+23"),
    (ABOVE_1E23, "f", 17, "100000000000000008388608.00000000000000000"),
    (ABOVE_1E23, "g", 17, "1.0000000000000001e+23"),
    (ABOVE_1E23, "e", -1, "1.0000000000000001e+23"), (ABOVE_1E23, "f", -1, "100000000000000010000000"),
    (ABOVE_1E23, "g", -1, "1.0000000000000001e+23"),
    (5e-324, "g", -1, "5e-324"), (-5e-324, "g", -1, "-5e-324"),
    (32, "g", -1, "32"), (32, "g", 0, "3e+01"),
    (math.nan, "g", -1, "NaN"), (-math.nan, "g", -1, "NaN"), (math.inf, "g", -1, "+Inf"),
    (-math.inf, "g", -1, "-Inf"),
    (0.9, "f", 1, "0.9"), (0.09, "f", 1, "0.1"), (0.0999, "f", 1, "0.1"), (0.05, "f", 1, "0.1"),
    (0.05, "f", 0, "0"), (0.5, "f", 1, "0.5"), (0.5, "f", 0, "0"), (1.5, "f", 0, "2"),
    (2.2250738585072012e-308, "g", -1, "2.2250738585072014e-308"),
    (2.2250738585072011e-308, "g", -1, "2.225073858507201e-308"),
    (383260575764816448, "f", 0, "383260575764816448"), (383260575764816448, "g", -1, "3.8326057576481645e+17"),
    (498484681984085570, "f", -1, "498484681984085570"), (-5.8339553793802237e23, "g", -1, "-5.8339553793802237e+23"),
    (1.801439850948199e16, "g", -1, "1.801439850948199e+16"), (5.960464477539063e-08, "g", -1, "5.960464477539063e-08"),
    (1.012e-320, "g", -1, "1.012e-320"),
    (8177880169308380.0 * 2, "e", 14, "1.63557603386168e+16"),
    (8393378656576888.0 * 2, "e", 15, "1.678675731315378e+16"),
    (8738676561280626.0 * 16, "e", 16, "1.3981882498049002e+17"), (8291032395191335.0 / 2**30, "e", 5, "7.72163e+06"),
    (2384185791015625.0 * 2**12, "e", 5, "9.76562e+18"), (2384185791015625.0 * 2**13, "e", 5, "1.95312e+19"),
]  # fmt: skip


@pytest.mark.parametrize(("f", "fmt", "prec", "want"), FTOA)
def test_format_float_ftoatests(f: float, fmt: str, prec: int, want: str) -> None:
    assert format_float(float(f), fmt, prec, 64) == want
    # ftoa_test.go skips 5.960464477539063e-08 in 32 bits: its float32 text is "5.9604645e-08".
    if math.isnan(f) or (float(Float32(f)) == f and f != 5.960464477539063e-08):
        assert format_float(float(f), fmt, prec, 32) == want


def test_format_float_32_bits() -> None:
    assert format_float(5.960464477539063e-08, "g", -1, 32) == "5.9604645e-08"  # ftoa_test.go's note
    assert format_float(Float32(0.1)) == "0.1"  # bit size taken from the type
    assert format_float(0.1, "g", -1, 32) == "0.1"
    assert format_float(Float32(0.1), "g", -1, 64) == "0.10000000149011612"
    assert format_float(1e6, "G", -1) == "1E+06"


def test_format_float_powers_of_two_round_trip() -> None:
    # ftoa_test.go TestFtoaPowersOfTwo: shortest 'e' of every power of two reads back as itself, in both sizes.
    for exp in range(-2048, 2049):
        f = math.ldexp(1, exp) if -1075 < exp < 1024 else (0.0 if exp < 0 else math.inf)
        if math.isfinite(f) and f:
            assert float(format_float(f, "e", -1, 64)) == f
        f32 = Float32(f)
        if math.isfinite(f32) and f32:
            assert Float32(float(format_float(f32, "e", -1, 32))) == f32


# --- strings: encode_test.go encodeStringTests (Go 1.22+: \b and \f have short forms), TestHTMLEscape.
STRINGS = [
    ("\x00", '"\\u0000"'), ("\x01", '"\\u0001"'), ("\x02", '"\\u0002"'), ("\x03", '"\\u0003"'),
    ("\x04", '"\\u0004"'), ("\x05", '"\\u0005"'), ("\x06", '"\\u0006"'), ("\x07", '"\\u0007"'),
    ("\x08", '"\\b"'), ("\x09", '"\\t"'), ("\x0a", '"\\n"'), ("\x0b", '"\\u000b"'),
    ("\x0c", '"\\f"'), ("\x0d", '"\\r"'), ("\x0e", '"\\u000e"'), ("\x0f", '"\\u000f"'),
    ("\x10", '"\\u0010"'), ("\x11", '"\\u0011"'), ("\x12", '"\\u0012"'), ("\x13", '"\\u0013"'),
    ("\x14", '"\\u0014"'), ("\x15", '"\\u0015"'), ("\x16", '"\\u0016"'), ("\x17", '"\\u0017"'),
    ("\x18", '"\\u0018"'), ("\x19", '"\\u0019"'), ("\x1a", '"\\u001a"'), ("\x1b", '"\\u001b"'),
    ("\x1c", '"\\u001c"'), ("\x1d", '"\\u001d"'), ("\x1e", '"\\u001e"'), ("\x1f", '"\\u001f"'),
    # appendString: quote and backslash escaped; DEL is in htmlSafeSet, so raw; other UTF-8 raw.
    ('"\\', '"\\"\\\\"'), ("\x7f", '"\x7f"'), ("日本 é ❤️", '"日本 é ❤️"'),
    # HTML escaping (escapeHTML is on for Marshal and Encoder.Encode) and U+2028/U+2029, always.
    ("<html>foo &\u2028 \u2029</html>", '"\\u003chtml\\u003efoo \\u0026\\u2028 \\u2029\\u003c/html\\u003e"'),
    # appendString writes the six characters \ufffd for each invalid UTF-8 byte; here a lone surrogate, as a
    # str decoded with surrogateescape carries each invalid byte. A real U+FFFD is valid and stays raw.
    (b"foo\xc2\x7fbar".decode("utf-8", "surrogateescape"), '"foo\\ufffd\x7fbar"'),
    (b"\xff\xfe".decode("utf-8", "surrogateescape"), '"\\ufffd\\ufffd"'),
    ("a\ud800b", '"a\\ufffdb"'),
    ("\ufffd", '"\ufffd"'),
    ("", '""'),
]  # fmt: skip


@pytest.mark.parametrize(("value", "want"), STRINGS)
def test_strings(value: str, want: str) -> None:
    assert marshal(value) == want
    assert marshal({value: value}) == "{" + want + ":" + want + "}"  # keys use the same escaping


class _Tag(str):
    pass


def test_string_subclass_and_encode_bytes() -> None:
    assert marshal(_Tag("<x>")) == '"\\u003cx\\u003e"'
    assert encode("é\ud800") == b'"\xc3\xa9\\ufffd"\n'  # always valid UTF-8 out


INTS = [
    (0, "0"), (-1, "-1"), (2**63 - 1, "9223372036854775807"), (-(2**63), "-9223372036854775808"),
    (2**64 - 1, "18446744073709551615"),  # math.MaxUint64
    (2**64, "18446744073709551616"),  # beyond Go's ints: exact digits, as a big.Int would print
    (True, "true"), (False, "false"), (None, "null"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "want"), INTS)
def test_ints_and_literals(value: object, want: str) -> None:
    assert marshal(value) == want


COMPOSITES = [
    ({}, "{}"), ([], "[]"), ((), "[]"),
    ({"a": [1, {"b": None}], "c": [], "d": (True, "x")}, '{"a":[1,{"b":null}],"c":[],"d":[true,"x"]}'),
    (b"abc", '"YWJj"'),  # TestEncodeRenamedByteSlice
    (b"\x00\x01", '"AAE="'),  # TestEncodeBytekind: []byte{0, 1}
    (b"", '""'),
    ([1.0, 2, "x", None], '[1,2,"x",null]'),
]  # fmt: skip


@pytest.mark.parametrize(("value", "want"), COMPOSITES)
def test_composites(value: object, want: str) -> None:
    assert marshal(value) == want


def test_map_order() -> None:
    struct = {"b": 1, "a": {"d": 2, "c": 3}}
    # Structs (and maps already in the order wanted) keep their order.
    assert marshal(struct) == '{"b":1,"a":{"d":2,"c":3}}'
    # Go maps are sorted by key, at every depth; an OrderedDict is an ordered struct-like value and keeps its order.
    assert marshal(struct, sort_maps=True) == '{"a":{"c":3,"d":2},"b":1}'
    assert marshal(OrderedDict(b=1, a=2), sort_maps=True) == '{"b":1,"a":2}'
    assert marshal({"x": OrderedDict(b=1, a=2), "w": 0}, sort_maps=True) == '{"w":0,"x":{"b":1,"a":2}}'
    # UTF-8 byte order (U+FF61 is EF BD A1, U+1F600 is F0 9F 98 80), not UTF-16 order.
    assert marshal({"\U0001f600": 1, "\uff61": 2, "a": 3, "Z": 4}, sort_maps=True) == (
        '{"Z":4,"a":3,"\uff61":2,"\U0001f600":1}'
    )
    # map[int]T: keys become strings and sort as strings (encode.go sorts by the resolved key text).
    assert marshal({10: "a", 9: "b", -1: "c"}, sort_maps=True) == '{"-1":"c","10":"a","9":"b"}'
    with pytest.raises(MarshalError):
        marshal({1.5: "x"})


class _Hooked:
    def __init__(self, v: object) -> None:
        self.v = v

    def __go_json__(self) -> object:
        return OrderedDict(Z=self.v, A=[self.v])


class _Opaque:
    pass


def test_hooks_default_and_unsupported_types() -> None:
    assert marshal({"h": _Hooked(0.00001)}, sort_maps=True) == '{"h":{"Z":0.00001,"A":[0.00001]}}'
    assert marshal([_Opaque()], default=lambda v: {"t": type(v).__name__}) == '[{"t":"_Opaque"}]'
    with pytest.raises(MarshalError, match="json: unsupported type: _Opaque"):
        marshal({"x": _Opaque()})


def test_encode_is_marshal_plus_newline() -> None:
    # Encoder.Encode: Ollama writes params layers, manifests and config blobs with it.
    got = encode({"stop": ["<end_of_turn>"], "temperature": 1.0, "top_k": 64, "top_p": 0.95, "a&b": "\u2028"})
    want = b'{"stop":["\\u003cend_of_turn\\u003e"],"temperature":1,"top_k":64,"top_p":0.95,'
    assert got == want + b'"a\\u0026b":"\\u2028"}\n'
    # The library gemma3 params blob digest proves the format end to end.
    lib = encode({"stop": ["<end_of_turn>"], "temperature": 1, "top_k": 64, "top_p": 0.95})
    assert hashlib.sha256(lib).hexdigest().startswith("3116c5225075")
    assert encode("é") == '"é"\n'.encode()


def test_chat_chunk() -> None:
    chunk = {
        "model": "gemma3:270m",
        "created_at": "2026-01-02T03:04:05.123456789Z",
        "message": {"role": "assistant", "content": " <b>"},
        "done": False,
    }
    assert encode(chunk) == (
        b'{"model":"gemma3:270m","created_at":"2026-01-02T03:04:05.123456789Z",'
        b'"message":{"role":"assistant","content":" \\u003cb\\u003e"},"done":false}\n'
    )


def test_float32_type() -> None:
    x = Float32(0.1)
    assert isinstance(x, float) and x == 0.10000000149011612
    assert repr(x) == "Float32(0.1)"
    assert Float32("1e39") == math.inf  # float32(x) overflows to an infinity, as a Go conversion does
    assert type(x + 1) is float
