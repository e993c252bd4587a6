"""Options layering and validation, keep_alive values."""

from __future__ import annotations

import math

import pytest

from pollama.api.options import KINDS, Options, SamplingOptions, apply, parse_keep_alive
from pollama.errors import BadRequest, InvalidOption


def test_defaults_match_ollama() -> None:
    o = Options()
    s = o.sampling
    assert (o.num_keep, s.seed, o.num_predict, s.top_k, s.top_p, s.min_p, s.typical_p) == (4, -1, -1, 40, 0.9, 0.0, 1.0)
    assert (s.repeat_last_n, s.temperature, s.repeat_penalty, s.presence_penalty, s.frequency_penalty) == (
        64,
        0.8,
        1.0,
        0.0,
        0.0,
    )
    assert o.runner.num_batch == 512 and o.runner.num_ctx == 4096 and o.stop == ()


def test_layering_and_conversion() -> None:
    model = apply(Options(), {"temperature": 1, "top_k": 64, "stop": ["<end_of_turn>"], "num_ctx": 8192})
    req = apply(model, {"top_k": 10.9, "seed": 42, "unknown_key": 1, "mirostat": 2, "stop": None, "num_keep": 7})
    assert req.sampling.temperature == 1.0 and isinstance(req.sampling.temperature, float)
    assert req.sampling.top_k == 10  # Go truncates numbers into int fields
    assert req.sampling.seed == 42
    assert req.stop == ("<end_of_turn>",)
    assert req.runner.num_ctx == 8192 and req.num_keep == 7


def test_every_option_has_one_kind() -> None:
    assert KINDS["num_ctx"] == "int" and KINDS["temperature"] == "float"
    assert KINDS["use_mmap"] == "bool" and KINDS["stop"] == "list"
    assert set(SamplingOptions.__dataclass_fields__) < set(KINDS)
    assert len(KINDS) == 19


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"num_ctx": "8"}, 'option "num_ctx" must be of type integer'),
        ({"temperature": "hot"}, 'option "temperature" must be of type float32'),
        ({"use_mmap": 1}, 'option "use_mmap" must be of type boolean'),
        ({"stop": "x"}, 'option "stop" must be of type array'),
        ({"stop": ["x", 1]}, 'option "stop" must be of an array of strings'),
    ],
)
def test_type_errors_are_invalid_options(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOption) as info:
        apply(Options(), values)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, None), (0, 0.0), (30, 30.0), (1.5, 1.5), ("5m", 300.0), ("0", 0.0), ("1h", 3600.0)],
)
def test_keep_alive(raw: object, seconds: float | None) -> None:
    assert parse_keep_alive(raw) == seconds


@pytest.mark.parametrize("raw", [-1, -0.5, "-1s", "-5m"])
def test_negative_keep_alive_is_forever(raw: object) -> None:
    value = parse_keep_alive(raw)
    assert value is not None and math.isinf(value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("300", 'time: missing unit in duration "300"'),
        ("soon", 'time: invalid duration "soon"'),
        (True, "Unsupported type: 'bool'"),
    ],
)
def test_keep_alive_errors(raw: object, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_keep_alive(raw)
    assert info.value.message == message
