"""Property-based fuzzing of the JSON path: request bodies decoded as Go decodes them (``api.jsonio``), the
options and ``keep_alive`` read from them (``api.options``), and Go's encoder (``gojson``). Any bytes give a
request or ``BadRequest`` (never another exception); a standard JSON object decodes to what pydantic makes of
it; what ``gojson`` writes reads back as the value it wrote. Bounded and derandomized."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pollama.api.embed import GO_TYPES_EMBED, EmbedRequest
from pollama.api.jsonio import decode, load_object, loads_standard
from pollama.api.lifecycle import GO_TYPES_CREATE, CreateRequest, RegistryRequest
from pollama.api.options import Options, apply, parse_keep_alive
from pollama.api.types import GO_TYPES_CHAT, GO_TYPES_GENERATE, ChatRequest, GenerateRequest, Think
from pollama.errors import BadRequest, InvalidOption
from pollama.gojson import marshal

FUZZ = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))

TARGETS: list[tuple[type[BaseModel], str, dict[str, str] | None]] = [
    (GenerateRequest, "GenerateRequest", GO_TYPES_GENERATE),
    (ChatRequest, "ChatRequest", GO_TYPES_CHAT),
    (CreateRequest, "CreateRequest", GO_TYPES_CREATE),
    (EmbedRequest, "EmbedRequest", GO_TYPES_EMBED),
    (RegistryRequest, "PullRequest", None),
]
targets = st.sampled_from(TARGETS)

FIELDS = [
    "model",
    "prompt",
    "messages",
    "options",
    "stream",
    "keep_alive",
    "think",
    "format",
    "context",
    "images",
    "role",
    "content",
    "tool_calls",
    "function",
    "arguments",
    "from",
    "files",
    "input",
    "num_predict",
    "num_ctx",
    "stop",
    "temperature",
    "_debug_render_only",
    "insecure",
]
# Literals Python's json reads differently from Go's: huge and tiny numbers, constants, surrogate escapes.
ODD = [
    "1e400",
    "-1e400",
    "1e-400",
    "9223372036854775808",
    "-9223372036854775809",
    "1" * 5000,
    "NaN",
    "-Infinity",
    "Infinity",
    '"\\ud800"',
    '"\\udc00\\ud800x"',
    '"\\u0000"',
    "0.1",
    "-0",
    "1E+2",
    "true",
    "null",
    '""',
    "[]",
    "{}",
    '"é\\u2028"',
]

int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
scalars = st.none() | st.booleans() | int64 | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=16,
)
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)


@st.composite
def json_like(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text, mostly well-formed, with Go-sensitive literals and the odd broken piece."""
    kind = draw(st.integers(0, 9 if depth < 4 else 5))
    if kind <= 3:
        return draw(st.sampled_from(ODD))
    if kind == 4:
        return json.dumps(draw(json_values))
    if kind == 5:
        return draw(st.sampled_from(["{", "[", '"', ",", ":", "}", "]", "tru", "01", "1.", "-", "'a'", "\\"]))
    if kind <= 7:
        items = draw(st.lists(json_like(depth + 1), max_size=3))
        return "[" + ",".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(FIELDS), max_size=4))
    values = [draw(json_like(depth + 1)) for _ in keys]
    return "{" + ",".join(f'"{k}":{v}' for k, v in zip(keys, values, strict=True)) + "}"


def _decode(body: bytes, target: tuple[type[BaseModel], str, dict[str, str] | None]) -> BaseModel | None:
    model, name, go_types = target
    try:
        return decode(body, model, name, go_types)
    except BadRequest as err:
        assert err.message and "Traceback" not in err.message
        return None


@FUZZ
@given(st.binary(max_size=300), targets)
def test_any_bytes(body: bytes, target: Any) -> None:
    _decode(body, target)


@FUZZ
@given(json_like(), targets)
def test_json_like_text(text: str, target: Any) -> None:
    _decode(text.encode("utf-8", "surrogatepass"), target)


@FUZZ
@given(st.integers(1, 20_000), st.sampled_from("[{"), targets)
def test_deep_nesting(depth: int, opener: str, target: Any) -> None:
    inner = "[" * depth + "]" * depth if opener == "[" else '{"a":' * depth + "1" + "}" * depth
    _decode(f'{{"options":{inner}}}'.encode(), target)


@FUZZ
@given(objects, targets)
def test_standard_objects_decode_as_pydantic_reads_them(obj: dict[str, Any], target: Any) -> None:
    """A body in plain JSON (int64 integers, finite floats, no lone surrogates) means what pydantic says it means:
    Go's rules only change what Python's JSON and Go's disagree on."""
    model = target[0]
    try:
        expected: BaseModel | None = model.model_validate(obj)
    except ValidationError:
        expected = None
    got = _decode(json.dumps(obj).encode(), target)
    if expected is None:
        assert got is None
    else:
        assert got is not None and got.model_dump() == expected.model_dump()


@FUZZ
@given(json_like())
def test_standard_json_for_v1_layers(text: str) -> None:
    with contextlib.suppress(BadRequest):
        load_object(text.encode("utf-8", "surrogatepass"), empty="missing request body")


@FUZZ
@given(json_values)
def test_standard_json_round_trip(value: Any) -> None:
    assert loads_standard(json.dumps(value).encode()) == value


@FUZZ
@given(json_values)
def test_go_encoder_round_trip(value: Any) -> None:
    text = marshal(value)
    back = json.loads(text)
    assert back == value or _same_numbers(back, value), (value, text)


def _same_numbers(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_numbers(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_numbers(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return a == b or (math.isclose(a, b) and float(a) == float(b))
    return bool(a == b)


@FUZZ
@given(st.dictionaries(st.sampled_from([*FIELDS[-6:], "seed", "top_k", "use_mmap", "x"]), json_values, max_size=4))
def test_options(values: dict[str, Any]) -> None:
    with contextlib.suppress(BadRequest, InvalidOption):
        apply(Options(), values)


@FUZZ
@given(json_values | st.sampled_from(["", "5m", "-1", "1h30m", "0", "1e400", "5", "10x", "999999999999h"]))
def test_keep_alive_and_think(value: Any) -> None:
    for read in (parse_keep_alive, Think.parse):
        with contextlib.suppress(BadRequest):
            read(value)


def test_a_number_too_big_as_the_whole_body() -> None:
    # Found by the fuzzer: a body that is one number past int64 or float64 raised IndexError (a 500).
    for body in (b"9223372036854775808", b"1e400", b"-1" + b"0" * 30):
        try:
            decode(body, GenerateRequest, "GenerateRequest", GO_TYPES_GENERATE)
        except BadRequest as err:
            assert err.message == "json: cannot unmarshal number into Go value of type api.GenerateRequest"
        else:
            raise AssertionError(body)
