"""Command-line parsing: pflag's syntax and cobra's error wording, and the flag values ``run`` derives."""

from __future__ import annotations

import pytest

from pollama.cli.args import UsageError, command_help, parse
from pollama.cli.client import CLIError, host_url
from pollama.cli.main import COMMANDS, main
from pollama.cli.run import parse_keep_alive, parse_think, request_format

CMD = {c.name: c for c in COMMANDS}


def test_flags_and_arguments_interleave() -> None:
    p = parse(CMD["run"], ["gemma3", "--verbose", "hello", "--keepalive", "5m", "there", "--format=json"])
    assert p.args == ["gemma3", "hello", "there"]
    assert (p["verbose"], p["keepalive"], p["format"]) == (True, "5m", "json")
    assert p.changed == {"verbose", "keepalive", "format"}


def test_bare_think_does_not_take_the_prompt() -> None:
    p = parse(CMD["run"], ["m", "--think", "why?"])
    assert (p.args, p["think"]) == (["m", "why?"], "true")
    assert parse(CMD["run"], ["m", "--think=low"])["think"] == "low"


def test_short_flags_and_double_dash() -> None:
    p = parse(CMD["create"], ["new", "-fModelfile.x", "-q", "q4_K_M"])
    assert (p.args, p["file"], p["quantize"]) == (["new"], "Modelfile.x", "q4_K_M")
    assert parse(CMD["run"], ["m", "--", "--verbose"]).args == ["m", "--verbose"]
    assert parse(CMD["show"], ["m", "-v"])["verbose"] is True


@pytest.mark.parametrize(
    ("command", "argv", "message"),
    [
        ("run", ["m", "--bogus"], "unknown flag: --bogus"),
        ("run", ["m", "-x"], "unknown shorthand flag: 'x' in -x"),
        ("run", [], "requires at least 1 arg(s), only received 0"),
        ("show", [], "accepts 1 arg(s), received 0"),
        ("cp", ["a"], "accepts 2 arg(s), received 1"),
        ("serve", ["x"], "accepts 0 arg(s), received 1"),
        ("run", ["m", "--keepalive"], "flag needs an argument: --keepalive"),
        ("create", ["m", "-f"], "flag needs an argument: -f"),
        (
            "run",
            ["m", "--verbose=maybe"],
            'invalid argument "maybe" for "--verbose" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
        (
            "run",
            ["m", "--dimensions=x"],
            'invalid argument "x" for "--dimensions" flag: strconv.ParseInt: parsing "x": invalid syntax',
        ),
    ],
)
def test_usage_errors(command: str, argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(CMD[command], argv)
    assert str(err.value) == message


def test_errors_are_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 1
    assert main(["list", "--nope"]) == 1
    assert capsys.readouterr().err == (
        'Error: unknown command "frobnicate" for "pollama"\nError: unknown flag: --nope\n'
    )


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    root = capsys.readouterr().out
    assert root.startswith("Large language model runner\n\nUsage:\n  pollama [flags]\n  pollama [command]\n")
    for name in ("serve", "create", "show", "run", "stop", "pull", "push", "list", "ps", "cp", "rm"):
        assert f"\n  {name} " in root
    assert main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    assert text == command_help("pollama", CMD["run"])
    assert "Usage:\n  pollama run MODEL [PROMPT] [flags]\n" in text
    assert '      --think string[="true"]   Enable thinking mode' in text
    assert "  -h, --help  " in text and "OLLAMA_NOHISTORY" in text


@pytest.mark.parametrize(("value", "expected"), [("", True), ("true", True), ("false", False), ("high", "high")])
def test_think_values(value: str, expected: bool | str) -> None:
    assert parse_think(value) == expected


def test_think_rejects_other_values() -> None:
    with pytest.raises(CLIError, match=r'invalid value for --think: "loud" \(must be true, false, high'):
        parse_think("loud")


def test_keep_alive_and_format() -> None:
    assert parse_keep_alive("5m") == "5m0s"
    assert parse_keep_alive("1h30m") == "1h30m0s"
    assert parse_keep_alive("-1s") == "-1"
    with pytest.raises(CLIError, match='time: invalid duration "soon"'):
        parse_keep_alive("soon")
    assert request_format("json") == "json"
    assert request_format('{"type": "object"}') == {"type": "object"}
    assert request_format("") is None
    with pytest.raises(CLIError, match="json: error calling MarshalJSON"):
        request_format("{nope")


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        (":8080", "http://127.0.0.1:8080"),
        ("example.com", "http://example.com:11434"),
        ("https://example.com", "https://example.com:443"),
        ("http://example.com", "http://example.com:80"),
        ("http://[::1]:99/prefix/", "http://[::1]:99/prefix"),
        ('"127.0.0.1:5000"', "http://127.0.0.1:5000"),
    ],
)
def test_ollama_host(raw: str, url: str) -> None:
    assert host_url(raw) == url
