"""Property-based fuzzing of the Modelfile parser: any bytes or text either parse or raise ``ModelfileError``
(never another exception), and what parses prints back (``str(Modelfile)``) to text that parses to the same
commands. Bounded and derandomized, so it runs the same way in every test run."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollama.modelfile.parser import Command, ModelfileError, parse
from pollama.modelfile.request import CreateRequestError, format_param

FUZZ = settings(max_examples=250, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))

DIRECTIVES = [
    "FROM",
    "from",
    "PARAMETER",
    "TEMPLATE",
    "SYSTEM",
    "ADAPTER",
    "LICENSE",
    "MESSAGE",
    "DRAFT",
    "RENDERER",
    "PARSER",
    "REQUIRES",
    "BOGUS",
    "#",
]
PIECES = [
    '"',
    '"""',
    " ",
    "\t",
    "\n",
    "\r\n",
    "\\",
    "user",
    "assistant",
    "system",
    "stop",
    "temperature",
    "0.5",
    "x",
    "é",
    "\u2028",
    "\x00",
    "\ufeff",
    "{{ .Prompt }}",
]

words = st.one_of(st.sampled_from(PIECES), st.text(max_size=6))
args = st.lists(words, max_size=8).map("".join)
lines = st.tuples(st.sampled_from(DIRECTIVES), st.sampled_from([" ", "\t", ""]), args).map("".join)
modelfiles = st.lists(lines, min_size=1, max_size=8).map("\n".join)


def _representable(command: Command) -> bool:
    """Whether the Modelfile syntax can write this value back: it has no escapes, so a value holding ``\"\"\"``
    cannot be quoted, and FROM is printed unquoted (as Ollama prints it), so its value must be one plain word."""
    if '"""' in command.args:
        return False
    model = command.args
    return command.name != "model" or ('"' not in model and "\n" not in model and model == model.strip())


def _parse(data: bytes | str) -> None:
    try:
        parsed = parse(data)
    except ModelfileError:
        return
    if not all(_representable(c) for c in parsed.commands):
        return
    text = str(parsed)
    again = parse(text)
    assert again.commands == parsed.commands, (data, text)


@FUZZ
@given(modelfiles)
def test_modelfile_like_text(data: str) -> None:
    _parse(data)


@FUZZ
@given(st.text(max_size=200))
def test_any_text(data: str) -> None:
    _parse(data)


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes(data: bytes) -> None:
    _parse(data)


@FUZZ
@given(
    st.sampled_from(["temperature", "num_ctx", "stop", "use_mmap", "seed", "top_p", "nope"]), st.lists(args, min_size=1)
)
def test_parameter_values(key: str, values: list[str]) -> None:
    with contextlib.suppress(CreateRequestError):
        format_param(key, values)


def test_a_value_that_starts_with_a_quote_prints_back() -> None:
    # Found by a longer run of the fuzzer: such a value was printed bare and read back as a quoted one.
    for value in ('"', '""', '"quoted" and not', '"half'):
        text = f'SYSTEM """{value}"""\nFROM x\n'
        parsed = parse(text)
        assert parsed.commands[0].args == value
        assert parse(str(parsed)).commands == parsed.commands
