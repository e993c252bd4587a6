"""Property-based fuzzing of the Go template interpreter: any source either parses or raises ``TemplateError``;
a parsed template executes on any data to a string or raises ``TemplateError``; and the printed tree
(Go's ``Tree.String``) parses back to the same tree. Bounded and derandomized."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollama.prompt.gotemplate import TemplateError, parse

FUZZ = settings(max_examples=250, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))

TOKENS = [
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    ".",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    ",",
    "range",
    "if",
    "else",
    "end",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "len",
    "index",
    "slice",
    "eq",
    "ne",
    "lt",
    "and",
    "or",
    "not",
    "print",
    "printf",
    "json",
    "html",
    "js",
    "call",
    "nil",
    "true",
    "false",
    '"a"',
    "`b`",
    "'c'",
    "1",
    "-2",
    "0x1f",
    "1.5e3",
    "1i",
    ".Messages",
    ".Prompt",
    ".Role",
    ".Content",
    ".Tools",
    ".System",
    "/*",
    "*/",
    "\n",
    "x",
    "%d",
    "%v",
    '"%s"',
    "\\",
]
sources = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=30).map("".join)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
messages = st.lists(
    st.fixed_dictionaries({"Role": st.sampled_from(["user", "assistant", "system", "tool"]), "Content": st.text()}),
    max_size=3,
)
data = st.fixed_dictionaries(
    {},
    optional={
        "Messages": messages,
        "Prompt": st.text(max_size=20),
        "System": st.text(max_size=20),
        "Tools": st.lists(json_values, max_size=2),
        "Response": st.text(max_size=5),
        "Think": st.booleans(),
    },
)


def _parse(source: str) -> Any:
    try:
        return parse(source)
    except TemplateError:
        return None


@FUZZ
@given(sources, data)
def test_template_like_source(source: str, dot: dict[str, Any]) -> None:
    template = _parse(source)
    if template is None:
        return
    with contextlib.suppress(TemplateError):
        assert isinstance(template.execute(dot), str)
    printed = str(template.root)
    again = _parse(printed)
    assert again is not None, (source, printed)
    assert str(again.root) == printed


@FUZZ
@given(st.text(max_size=120))
def test_any_source(source: str) -> None:
    template = _parse(source)
    if template is not None:
        with contextlib.suppress(TemplateError):
            template.execute({})


@FUZZ
@given(json_values)
def test_any_dot(dot: Any) -> None:
    template = parse(
        "{{ range $i, $m := . }}{{ $i }}={{ json $m }}{{ else }}{{ . }}{{ end }}{{ len . }}{{ index . 0 }}"
        '{{ printf "%v %d %s" . . . }}{{ slice . 1 }}{{ eq . 1 }}{{ lt . 2 }}{{ and . 1 }}'
    )
    with contextlib.suppress(TemplateError):
        assert isinstance(template.execute(dot), str)


def test_text_prints_as_written() -> None:
    # Found by the round trip above: text printed with Python's repr came back quoted.
    source = "'a'\n{{.Prompt}}\"b\""
    assert str(parse(source).root) == source
