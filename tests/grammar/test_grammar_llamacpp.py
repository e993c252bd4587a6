"""The compiled grammars through llama.cpp's own grammar engine (loads llama.cpp and a vocabulary-only GGUF):
texts are fed token by token as the runner samples them, and what the engine accepts is checked against
``jsonschema``. Random texts written under each grammar prove soundness: every one must validate."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from llamacpp_grammar import GrammarEngine, RandomWriter

from pollama.grammar import JSON_GRAMMAR, compile_format


def _validator(schema: Any) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> Any:
    """Strict JSON (Python's json reads NaN and Infinity)."""
    return json.loads(text, parse_constant=_reject_constant)


def _grammar(schema: Any) -> str:
    gbnf = compile_format(schema)
    assert gbnf is not None
    return gbnf


@pytest.fixture(scope="module")
def writer(engine: GrammarEngine) -> RandomWriter:
    return RandomWriter(engine)


# -- integers and numbers at their edges ---------------------------------------------------------------------

INTEGER_RANGES: list[tuple[int | None, int | None]] = [
    (0, 100),
    (-5, 12),
    (1, 1),
    (7, None),
    (None, -3),
    (-100, -37),
    (99, 1001),
    (0, 255),
    (123, 4567),
    (None, 20),
    (-20, None),
]


@pytest.mark.parametrize(("lo", "hi"), INTEGER_RANGES)
def test_integer_minimum_and_maximum_accept_exactly_the_range(
    engine: GrammarEngine, lo: int | None, hi: int | None
) -> None:
    schema: dict[str, Any] = {"type": "integer"}
    if lo is not None:
        schema["minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    gbnf = _grammar(schema)
    centre = [x for x in (lo, hi) if x is not None]
    candidates = set()
    for c in centre:
        candidates.update(range(c - 25, c + 26))
    candidates.update([0, 1, -1, 10, 99, 100, 101, 999, 1000, 1001, 10**6, -(10**6), 10**15, -(10**15)])
    for n in sorted(candidates):
        inside = (lo is None or n >= lo) and (hi is None or n <= hi)
        assert engine.accepts(gbnf, str(n)) == inside, (schema, n)
    for text in ("01", "-0", "+1", "1.0", "1e2", " 1", "--1"):
        assert not engine.accepts(gbnf, text), (schema, text)


def test_exclusive_integer_bounds_both_drafts(engine: GrammarEngine) -> None:
    modern = _grammar({"type": "integer", "exclusiveMinimum": 2, "exclusiveMaximum": 6})
    draft4 = _grammar(
        {"type": "integer", "minimum": 2, "exclusiveMinimum": True, "maximum": 6, "exclusiveMaximum": True}
    )
    fractional = _grammar({"type": "integer", "minimum": 2.5, "maximum": 5.5})
    for n in range(-2, 10):
        assert engine.accepts(modern, str(n)) == (2 < n < 6)
        assert engine.accepts(draft4, str(n)) == (2 < n < 6)
        assert engine.accepts(fractional, str(n)) == (3 <= n <= 5)


NUMBER_BOUNDS = [
    ({"minimum": 0, "maximum": 1}, (Decimal(0), False, Decimal(1), False)),
    ({"minimum": -1.5, "exclusiveMaximum": 2.25}, (Decimal("-1.5"), False, Decimal("2.25"), True)),
    ({"exclusiveMinimum": 0}, (Decimal(0), True, None, False)),
    ({"exclusiveMinimum": -1, "exclusiveMaximum": 0}, (Decimal(-1), True, Decimal(0), True)),
    ({"minimum": 2.5, "maximum": 2.75}, (Decimal("2.5"), False, Decimal("2.75"), False)),
    ({"maximum": -0.25}, (None, False, Decimal("-0.25"), False)),
    ({"minimum": 10, "maximum": 100.5}, (Decimal(10), False, Decimal("100.5"), False)),
    ({"minimum": 0.7700000000000004}, (Decimal("0.7700000000000004"), False, None, False)),
    ({"exclusiveMaximum": 1e20}, (None, False, Decimal("1e20"), True)),
]
NUMBER_TEXTS = [
    "0", "-0", "0.0", "-0.0", "0.5", "1", "1.0", "1.00", "1.000001", "0.999999", "-1", "-1.5", "-1.50", "-1.5000001",
    "-1.4999", "2", "2.2", "2.25", "2.2499999", "2.250", "2.2500001", "2.5", "2.49", "2.75", "2.7500000001", "2.6",
    "3", "-0.25", "-0.2", "-0.26", "-0.250", "-100", "10", "9.99", "100.5", "100.50", "100.51", "55.5", "1000",
    "0.0000001", "-0.0000001", "-0.5", "-1.0000", "0.77", "0.770000000000001", "0.78", "0.7700000000000003",
    "0.770000000000000399999",
    "99999999999999999999", "100000000000000000000", "100000000000000000000.1", "99999999999999999999.99",
]  # fmt: skip


def test_large_number_bounds_are_exact(engine: GrammarEngine) -> None:
    gbnf = _grammar({"type": "number", "exclusiveMaximum": 1e20, "minimum": 99999999999999999998})
    assert engine.accepts(gbnf, "99999999999999999999.99")
    assert engine.accepts(gbnf, "99999999999999999998")
    assert not engine.accepts(gbnf, "99999999999999999997.9")
    assert not engine.accepts(gbnf, "100000000000000000000")


@pytest.mark.parametrize(("bounds", "interval"), NUMBER_BOUNDS)
def test_number_bounds_accept_exactly_the_interval(
    engine: GrammarEngine, bounds: dict[str, Any], interval: tuple[Decimal | None, bool, Decimal | None, bool]
) -> None:
    gbnf = _grammar({"type": "number", **bounds})
    lo, lo_strict, hi, hi_strict = interval
    for text in NUMBER_TEXTS:
        x = Decimal(text)
        inside = (lo is None or (x > lo if lo_strict else x >= lo)) and (
            hi is None or (x < hi if hi_strict else x <= hi)
        )
        accepted = engine.accepts(gbnf, text)
        whole, _, frac = text.lstrip("-").partition(".")
        if (x == 0 and text.startswith("-")) or len(frac) > 15 or (len(whole) > 16 and hi is None):
            # "-0" is written only where negative numbers are allowed at all, fractions have at most 15 digits
            # and integer parts without an upper bound at most 16: a subset, never outside
            assert inside or not accepted, (bounds, text)
            continue
        assert accepted == inside, (bounds, text)
        if inside and len(text.strip("-0.").replace(".", "")) <= 15:  # beyond that, float64 rounds
            _validator({"type": "number", **bounds}).validate(_loads(text))


# -- keyword by keyword, cross-checked with jsonschema -------------------------------------------------------

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 10},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "role": {"enum": ["admin", "user", "guest"]},
    },
    "required": ["name", "role"],
}
TEAM = {
    "type": "object",
    "properties": {"team": {"type": "string"}, "members": {"type": "array", "items": PERSON, "minItems": 1}},
    "required": ["team", "members"],
}
TREE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 3},
            },
            "required": ["value"],
        }
    },
    "$ref": "#/$defs/node",
}

# (schema, valid texts, invalid texts). Valid texts must validate; invalid ones may still be valid JSON Schema
# instances the grammar leaves out on purpose (listed in OUTSIDE_SUBSET), otherwise they must not validate.
CASES: list[tuple[str, Any, list[str], list[str]]] = [
    ("string", {"type": "string"}, ['""', '"a b"', '"\\"q\\" \\\\ \\n \\u00e9"', '"é"'], ['"a', "1", '"\\x"', '"\n"']),
    ("null-or-string", {"type": ["string", "null"]}, ["null", '"x"'], ["1", "true"]),
    ("boolean", {"type": "boolean"}, ["true", "false"], ["1", '"true"', "True"]),
    ("number", {"type": "number"}, ["0", "-1.5", "1e5", "2.5E-3", "10"], ["01", "1.", ".5", "- 1", "NaN"]),
    (
        "length",
        {"type": "string", "minLength": 2, "maxLength": 4},
        ['"ab"', '"abcd"', '"\\n\\t"', '"éé"'],
        ['"a"', '"abcde"', '"\\ud83d\\ude00"'],
    ),
    ("const", {"const": {"a": [1, "x"]}}, ['{"a":[1,"x"]}'], ['{"a":[1,"y"]}', '{"a": [1, "x"]}']),
    ("enum", {"enum": ["red", 1, None, [1]]}, ['"red"', "1", "null", "[1]"], ['"blue"', "2", '"1"']),
    ("typed-enum", {"type": "string", "enum": ["a", 1]}, ['"a"'], ["1"]),
    (
        "object",
        PERSON,
        [
            '{"name": "ann", "role": "admin"}',
            '{"name":"bo","age":150,"role":"guest"}',
            '{\n  "name": "cy",\n  "age": 0,\n  "role": "user"\n}',
        ],
        [
            '{"role": "admin"}',
            '{"name": "ann"}',
            '{"name": "", "role": "admin"}',
            '{"name": "ann", "role": "root"}',
            '{"name": "ann", "age": 151, "role": "user"}',
            '{"name": "ann", "age": -1, "role": "user"}',
            '{"name": "ann", "role": "user", "extra": 1}',
            '{"role": "user", "name": "ann"}',
        ],
    ),
    (
        "additional-schema",
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
        ['{"a": 1, "b": "x"}', '{"b": "x", "c": "y"}', "{}", '{"ab": "x"}', '{"": "x"}'],
        ['{"a": "x"}', '{"b": 1}', '{"a": 1, "a": "x"}'],
    ),
    (
        "additional-false",
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        ['{"a": 1}', "{}"],
        ['{"a": 1, "b": 2}', '{"b": 2}'],
    ),
    ("any-object", {"type": "object"}, ['{"x": [1, {"y": null}]}', "{}"], ["[]", '"x"']),
    (
        "array",
        {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
        ["[1]", "[1, 2, 3]", "[ 1 ,2]"],
        ["[]", "[1,2,3,4]", '["a"]', "[1,]"],
    ),
    (
        "tuple",
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
        ['["a", 1]', '["a"]', "[]"],
        ['["a", 1, 2]', '[1, "a"]'],
    ),
    (
        "tuple-then-items",
        {"type": "array", "prefixItems": [{"const": "x"}], "items": {"type": "boolean"}, "minItems": 2},
        ['["x", true]', '["x", true, false]'],
        ['["x"]', '["x", 1]', "[true, true]"],
    ),
    (
        "draft7-tuple",
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "array",
            "items": [{"type": "string"}],
            "additionalItems": {"type": "null"},
        },
        ['["a", null, null]', "[]"],
        ['["a", 1]'],
    ),
    (
        "anyOf",
        {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "string", "maxLength": 1}]},
        ["5", '"a"'],
        ["4", '"ab"'],
    ),
    (
        "oneOf-discriminated",
        {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}},
                    "required": ["kind"],
                },
                {
                    "type": "object",
                    "properties": {"kind": {"const": "b"}, "y": {"type": "string"}},
                    "required": ["kind"],
                },
            ]
        },
        ['{"kind": "a", "x": 1}', '{"kind": "b", "y": "s"}'],
        ['{"kind": "a", "y": "s"}', '{"kind": "c"}'],
    ),
    (
        "allOf",
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}, "required": ["a"]},
                {"properties": {"a": {"maximum": 9}, "b": {"type": "string"}}},
            ]
        },
        ['{"a": 0}', '{"a": 9, "b": "x"}'],
        ['{"a": 10}', '{"b": "x"}', '{"a": -1}'],
    ),
    (
        "nested",
        TEAM,
        ['{"team": "t", "members": [{"name": "a", "role": "user"}, {"name": "b", "role": "guest"}]}'],
        ['{"team": "t", "members": []}', '{"team": "t", "members": [{"name": "a"}]}'],
    ),
    (
        "recursive",
        TREE,
        ['{"value": 1}', '{"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}, {"value": 4}]}'],
        ['{"children": []}', '{"value": 1, "children": [{"value": "x"}]}', '{"value": 1, "children": [{}]}'],
    ),
    (
        "ref-with-siblings",
        {"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n", "minimum": 3},
        ["3", "40"],
        ["2", '"3"'],
    ),
    (
        "root-ref",
        {"type": "object", "properties": {"next": {"$ref": "#"}}},
        ['{"next": {"next": {}}}', "{}"],
        ['{"next": 1}'],
    ),
    (
        "definitions",
        {"definitions": {"d": {"enum": ["x"]}}, "type": "array", "items": {"$ref": "#/definitions/d"}},
        ['["x", "x"]'],
        ['["y"]'],
    ),
    (
        "date",
        {"type": "string", "format": "date"},
        ['"2024-02-29"', '"2000-02-29"', '"1999-12-31"', '"2023-04-30"', '"0001-01-01"'],
        ['"2023-02-29"', '"1900-02-29"', '"2023-04-31"', '"2023-13-01"', '"2023-00-10"', '"0000-01-01"', '"2023-1-1"'],
    ),
    (
        "time",
        {"type": "string", "format": "time"},
        ['"12:30:00Z"', '"23:59:59.123+02:00"', '"00:00:00-11:30"'],
        ['"24:00:00Z"', '"12:60:00Z"', '"12:30:00"', '"12:30Z"'],
    ),
    (
        "date-time",
        {"type": "string", "format": "date-time"},
        ['"2024-02-29T12:00:00Z"'],
        ['"2024-02-29 12:00:00Z"', '"2024-02-29"'],
    ),
    (
        "uuid",
        {"type": "string", "format": "uuid"},
        ['"123e4567-e89b-12d3-a456-426614174000"', '"123E4567-E89B-12D3-A456-426614174000"'],
        ['"123e4567e89b12d3a456426614174000"', '"123e4567-e89b-12d3-a456-42661417400"'],
    ),
    (
        "email",
        {"type": "string", "format": "email"},
        ['"a.b+c@example.com"'],
        ['"a@b"', '"@example.com"', '"a..b@example.com"'],
    ),
    (
        "ipv4",
        {"type": "string", "format": "ipv4"},
        ['"192.168.0.255"', '"0.0.0.0"'],
        ['"256.1.1.1"', '"01.1.1.1"', '"1.1.1"'],
    ),
    ("hostname", {"type": "string", "format": "hostname"}, ['"example.com"', '"a-b.c"'], ['"-a.com"', '"a_b.com"']),
    (
        "uri",
        {"type": "string", "format": "uri"},
        ['"https://example.com/a/b?q=1#f"', '"ftp://h:21"'],
        ['"example.com"', '"http://a b"', '"/relative"'],
    ),
    (
        "pattern-anchored",
        {"type": "string", "pattern": "^[A-Z]{3}-\\d{2,4}$"},
        ['"ABC-12"', '"XYZ-1234"'],
        ['"abc-12"', '"ABC-1"', '"ABC-12345"', '"xABC-12"'],
    ),
    (
        "pattern-unanchored",
        {"type": "string", "pattern": "b(an)+a"},
        ['"banana"', '"a banana!"', '"bana"'],
        ['"bnana"', '"ba"'],
    ),
    (
        "pattern-classes",
        {"type": "string", "pattern": '^(?:[^"\\s]+|\\w\\.\\w|x{2,})$'},
        ['"a-b"', '"a.b"', '"xx"', '"é"'],
        ['"a b"', '"a\\"b"', '""'],
    ),
    (
        "pattern-negated-shorthands",
        {"type": "string", "pattern": "^\\D\\W\\S$"},
        ['"a-b"', '"\\\\ \\""'],
        ['"1-b"', '"aab"', '"a- "', '"a-\u00a0"', '"\u0663-b"'],
    ),
    ("pattern-alternation", {"type": "string", "pattern": "^cat$|^dog"}, ['"cat"', '"dogs"'], ['"cats"', '"a dog"']),
    ("pattern-quote", {"type": "string", "pattern": '^say "\\\\"$'}, ['"say \\"\\\\\\""'], ['"say \\"\\""']),
    ("untyped-properties", {"properties": {"a": {"type": "integer"}}}, ['{"a": 1}'], ['"x"', '{"a": "x"}']),
    ("empty-schema", {}, ['{"a": 1}', "[1]", '"s"', "null", "-2.5e3"], ["x", "[1", "{} {}"]),
]

# Instances jsonschema accepts that the grammar leaves out by design: properties beyond the declared ones when
# additionalProperties is absent, another key order, other spellings of a const, duplicate keys, a type the
# schema's keywords do not suggest, and format values the installed checkers do not check (hostname and uri
# have no checker here, email only needs an "@") or accept loosely.
OUTSIDE_SUBSET = {
    ('{"name": "ann", "role": "user", "extra": 1}', "object"),
    ('{"role": "user", "name": "ann"}', "object"),
    ('{"a": [1, "x"]}', "const"),
    ('{"a": 1, "a": "x"}', "additional-schema"),
    ('{"kind": "a", "y": "s"}', "oneOf-discriminated"),
    ('"x"', "untyped-properties"),
    ('"a@b"', "email"),
    ('"@example.com"', "email"),
    ('"a..b@example.com"', "email"),
    ('"123e4567e89b12d3a456426614174000"', "uuid"),
    ('"-a.com"', "hostname"),
    ('"a_b.com"', "hostname"),
    ('"example.com"', "uri"),
    ('"http://a b"', "uri"),
    ('"/relative"', "uri"),
}
# A random walk almost never writes the pattern's word by chance, so no walk would finish.
NOT_FUZZED = {"pattern-unanchored"}


@pytest.mark.parametrize(("name", "schema", "valid", "invalid"), CASES, ids=[c[0] for c in CASES])
def test_grammar_accepts_valid_and_rejects_invalid(
    engine: GrammarEngine, name: str, schema: Any, valid: list[str], invalid: list[str]
) -> None:
    gbnf = _grammar(schema)
    validator = _validator(schema)
    for text in valid:
        assert validator.is_valid(_loads(text)), (name, text)
        assert engine.accepts(gbnf, text), (name, text)
    for text in invalid:
        try:
            instance = _loads(text)
        except ValueError:
            pass
        else:
            assert (text, name) in OUTSIDE_SUBSET or not validator.is_valid(instance), (name, text)
        assert not engine.accepts(gbnf, text), (name, text)


@pytest.mark.parametrize(("name", "schema"), [(c[0], c[1]) for c in CASES if c[0] not in NOT_FUZZED])
def test_every_text_the_grammar_lets_a_model_write_validates(
    engine: GrammarEngine, writer: RandomWriter, name: str, schema: Any
) -> None:
    gbnf = _grammar(schema)
    validator = _validator(schema)
    rng = random.Random(name)
    written = [t for t in (writer.write(gbnf, rng) for _ in range(150)) if t is not None]
    assert len(written) >= 40, f"{name}: only {len(written)} random walks finished"
    for text in written:
        instance = _loads(text)
        errors = [e.message for e in validator.iter_errors(instance)]
        assert not errors, (name, text, errors)
        assert engine.accepts(gbnf, text)


def test_format_json_is_any_object_with_bounded_whitespace(engine: GrammarEngine, writer: RandomWriter) -> None:
    for text in ('{"a": [1, 2.5, "x", true, null, {"b": {}}]}', "{}", '{\n  "k": "v"\n}'):
        assert engine.accepts(JSON_GRAMMAR, text)
    for text in ("[1]", '"s"', "1", "", '{"a": 1} x', "{" + " " * 30 + "}", '{"a":\n\n\n1}'):
        assert not engine.accepts(JSON_GRAMMAR, text), text
    rng = random.Random(7)
    for _ in range(100):
        text = writer.write(JSON_GRAMMAR, rng)
        if text is not None:
            assert isinstance(_loads(text), dict)


def test_long_strings_past_the_repetition_limit_are_exact(engine: GrammarEngine) -> None:
    gbnf = _grammar({"type": "string", "minLength": 2100, "maxLength": 2102})
    assert engine.compiles(gbnf)
    for n in (2099, 2100, 2101, 2102, 2103):
        assert engine.accepts(gbnf, json.dumps("x" * n)) == (2100 <= n <= 2102), n


def _random_schema(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A random schema from the supported keywords (bounds, lengths, formats, patterns, nesting, combinators)."""
    kinds = ["integer", "number", "string", "boolean", "null", "enum"] + (
        ["object", "array", "anyOf"] if depth < 3 else []
    )
    kind = rng.choice(kinds)
    if kind == "integer":
        s: dict[str, Any] = {"type": "integer"}
        lo = rng.randint(-1000, 1000)
        if rng.random() < 0.7:
            s[rng.choice(["minimum", "exclusiveMinimum"])] = lo
        if rng.random() < 0.7:
            s[rng.choice(["maximum", "exclusiveMaximum"])] = lo + rng.randint(2, 5000)
        return s
    if kind == "number":
        s = {"type": "number"}
        lo = rng.randint(-5000, 5000) / rng.choice([1, 10, 100, 1000])
        if rng.random() < 0.7:
            s[rng.choice(["minimum", "exclusiveMinimum"])] = lo
        if rng.random() < 0.7:
            s[rng.choice(["maximum", "exclusiveMaximum"])] = lo + rng.randint(1, 5000) / rng.choice([1, 10, 100])
        return s
    if kind == "string":
        choice = rng.random()
        if choice < 0.25:
            return {"type": "string", "format": rng.choice(["date", "time", "date-time", "uuid", "email", "ipv4"])}
        if choice < 0.5:
            pattern = rng.choice(
                ["^[a-z]{2,5}$", "^\\d{3}-\\d{4}$", "^(foo|bar)+$", "x", "^[^,]*$", "^\\w+@\\w+\\.com$"]
            )
            return {"type": "string", "pattern": pattern}
        lo = rng.randint(0, 5)
        return {"type": "string", "minLength": lo, "maxLength": lo + rng.randint(0, 8)}
    if kind == "enum":
        return {"enum": rng.sample(["a", "b c", 1, 2.5, None, True, [1], {"k": "v"}, '\u00e9"\\'], rng.randint(1, 4))}
    if kind == "object":
        names = rng.sample(["id", "name", "tags", "x y", "é", "value", "kind"], rng.randint(0, 4))
        props = {n: _random_schema(rng, depth + 1) for n in names}
        s = {"type": "object", "properties": props, "required": [n for n in names if rng.random() < 0.5]}
        if rng.random() < 0.3:
            s["additionalProperties"] = rng.choice([False, True, {"type": "integer"}])
        return s
    if kind == "array":
        s = {"type": "array", "items": _random_schema(rng, depth + 1)}
        lo = rng.randint(0, 3)
        s["minItems"] = lo
        if rng.random() < 0.6:
            s["maxItems"] = lo + rng.randint(0, 3)
        return s
    return {"anyOf": [_random_schema(rng, depth + 1) for _ in range(rng.randint(1, 3))]}


def test_random_schemas_compile_and_everything_written_validates(engine: GrammarEngine, writer: RandomWriter) -> None:
    rng = random.Random(2024)
    finished = 0
    for n in range(80):
        schema = _random_schema(rng)
        gbnf = _grammar(schema)
        assert engine.compiles(gbnf), schema
        validator = _validator(schema)
        for _ in range(25):
            text = writer.write(gbnf, rng)
            if text is None:
                continue
            finished += 1
            errors = [e.message for e in validator.iter_errors(_loads(text))]
            assert not errors, (n, schema, text, errors)
    assert finished >= 500
