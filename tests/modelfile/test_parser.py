"""Modelfile parser tests: the cases of Ollama's ``parser/parser_test.go``, plus error messages and line numbers."""

from __future__ import annotations

import codecs

import pytest

from pollama.modelfile.parser import (
    ERR_INVALID_COMMAND,
    ERR_INVALID_MESSAGE_ROLE,
    Command,
    ModelfileError,
    parse,
)

LLAMA3_TEMPLATE = (
    "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
    "{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}"
    "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
)


def cmds(text: str | bytes) -> list[tuple[str, str]]:
    return [(c.name, c.args) for c in parse(text).commands]


def test_parse_file() -> None:
    text = (
        "\nFROM model1\nADAPTER adapter1\nLICENSE MIT\nPARAMETER param1 value1\nPARAMETER param2 value2\n"
        f'TEMPLATE """{LLAMA3_TEMPLATE}"""    \n'
    )
    assert cmds(text) == [
        ("model", "model1"),
        ("adapter", "adapter1"),
        ("license", "MIT"),
        ("param1", "value1"),
        ("param2", "value2"),
        ("template", LLAMA3_TEMPLATE),
    ]


def test_draft() -> None:
    mf = parse("\nFROM base\nDRAFT ./assistant\n")
    assert [(c.name, c.args) for c in mf.commands] == [("model", "base"), ("draft", "./assistant")]
    assert "DRAFT ./assistant" in str(mf)


def test_trim_space() -> None:
    text = (
        '\nFROM "     model 1"\nADAPTER      adapter3\nLICENSE "MIT       "\nPARAMETER param1        value1\n'
        f'PARAMETER param2    value2\nTEMPLATE """   {LLAMA3_TEMPLATE}   """    \n'
    )
    assert cmds(text) == [
        ("model", "     model 1"),
        ("adapter", "adapter3"),
        ("license", "MIT       "),
        ("param1", "value1"),
        ("param2", "value2"),
        ("template", f"   {LLAMA3_TEMPLATE}   "),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('FROM "FOO  BAR  "', [("model", "FOO  BAR  ")]),
        ('FROM "FOO BAR"\nPARAMETER param1 value1', [("model", "FOO BAR"), ("param1", "value1")]),
        ("FROM     FOOO BAR    ", [("model", "FOOO BAR")]),
        ("FROM /what/is/the path ", [("model", "/what/is/the path")]),
        ("FROM foo", [("model", "foo")]),
        ("FROM /path/to/model", [("model", "/path/to/model")]),
        ("FROM /path/to/model/fp16.bin", [("model", "/path/to/model/fp16.bin")]),
        ("FROM llama3:latest", [("model", "llama3:latest")]),
        ("FROM llama3:7b-instruct-q4_K_M", [("model", "llama3:7b-instruct-q4_K_M")]),
        ("PARAMETER param1 value1\nFROM foo", [("param1", "value1"), ("model", "foo")]),
        ("PARAMETER what the \nFROM lemons make lemonade ", [("what", "the"), ("model", "lemons make lemonade")]),
        ("from foo\nsystem hi", [("model", "foo"), ("system", "hi")]),  # directives are case-insensitive
    ],
)
def test_from(text: str, expected: list[tuple[str, str]]) -> None:
    assert cmds(text) == expected


@pytest.mark.parametrize("text", ["", "PARAMETER param1 value1", "# only a comment\n"])
def test_missing_from(text: str) -> None:
    with pytest.raises(ModelfileError) as e:
        parse(text)
    assert str(e.value) == "no FROM line"


def test_parameter_missing_value() -> None:
    with pytest.raises(ModelfileError) as e:
        parse("\nFROM foo\nPARAMETER param1\n")
    assert str(e.value) == "unexpected EOF: param1"


def test_bad_command_has_line_number() -> None:
    with pytest.raises(ModelfileError) as e:
        parse("\nFROM foo\nBADCOMMAND param1 value1\n")
    assert e.value.line == 3
    assert str(e.value) == f"(line 3): {ERR_INVALID_COMMAND}"


def test_command_without_value() -> None:
    with pytest.raises(ModelfileError) as e:
        parse("FROM foo\nSYSTEM\n")
    assert str(e.value) == f"(line 3): {ERR_INVALID_COMMAND}"


def test_renderer_and_parser() -> None:
    assert cmds("\nFROM foo\nRENDERER renderer1\nPARSER parser1\n") == [
        ("model", "foo"),
        ("renderer", "renderer1"),
        ("parser", "parser1"),
    ]


def test_requires() -> None:
    assert cmds("FROM foo\nREQUIRES 0.14.0\n") == [("model", "foo"), ("requires", "0.14.0")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "\nFROM foo\nMESSAGE system You are a file parser. Always parse things.\n",
            [("model", "foo"), ("message", "system: You are a file parser. Always parse things.")],
        ),
        (
            "\nFROM foo\nMESSAGE system You are a file parser. Always parse things.",
            [("model", "foo"), ("message", "system: You are a file parser. Always parse things.")],
        ),
        (
            "\nFROM foo\nMESSAGE system You are a file parser. Always parse things.\nMESSAGE user Hey there!\n"
            "MESSAGE assistant Hello, I want to parse all the things!\n",
            [
                ("model", "foo"),
                ("message", "system: You are a file parser. Always parse things."),
                ("message", "user: Hey there!"),
                ("message", "assistant: Hello, I want to parse all the things!"),
            ],
        ),
        (
            '\nFROM foo\nMESSAGE system """\nYou are a multiline file parser. Always parse things.\n"""\n\t\t\t',
            [("model", "foo"), ("message", "system: \nYou are a multiline file parser. Always parse things.\n")],
        ),
    ],
)
def test_messages(text: str, expected: list[tuple[str, str]]) -> None:
    assert cmds(text) == expected


def test_message_bad_role() -> None:
    with pytest.raises(ModelfileError) as e:
        parse("\nFROM foo\nMESSAGE badguy I'm a bad guy!\n")
    assert str(e.value) == f"(line 3): {ERR_INVALID_MESSAGE_ROLE}"


def test_message_role_is_case_sensitive() -> None:
    with pytest.raises(ModelfileError, match="message role must be one of"):
        parse("FROM foo\nMESSAGE User hi\n")


@pytest.mark.parametrize("text", ["\nFROM foo\nMESSAGE system\n", "\nFROM foo\nMESSAGE system"])
def test_message_without_text(text: str) -> None:
    with pytest.raises(ModelfileError, match="unexpected EOF"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('\nFROM foo\nSYSTEM """\nThis is a\nmultiline system.\n"""\n\t\t\t', "\nThis is a\nmultiline system.\n"),
        ('\nFROM foo\nSYSTEM """\nThis is a\nmultiline system."""\n\t\t\t', "\nThis is a\nmultiline system."),
        ('\nFROM foo\nSYSTEM """This is a\nmultiline system."""\n\t\t\t', "This is a\nmultiline system."),
        ('\nFROM foo\nSYSTEM """This is a multiline system."""\n\t\t\t', "This is a multiline system."),
        (
            '\nFROM foo\nSYSTEM """\nThis is a multiline system with "quotes".\n"""\n',
            '\nThis is a multiline system with "quotes".\n',
        ),
        ('\nFROM foo\nSYSTEM """"""\n', ""),
        ('\nFROM foo\nSYSTEM ""\n', ""),
        ('\nFROM foo\nSYSTEM "\'"\n', "'"),
        ('\nFROM foo\nSYSTEM """\'\'"\'""\'""\'"\'\'\'\'\'""\'""\'"""\n', "''\"'\"\"'\"\"'\"'''''\"\"'\"\"'"),
    ],
)
def test_quoted(text: str, expected: str) -> None:
    assert cmds(text) == [("model", "foo"), ("system", expected)]


def test_quoted_template_at_eof() -> None:
    assert cmds('\nFROM foo\nTEMPLATE """\n{{ .Prompt }}\n"""') == [("model", "foo"), ("template", "\n{{ .Prompt }}\n")]


@pytest.mark.parametrize(
    "text", ['\nFROM foo\nSYSTEM """This is a multiline system.""\n\t\t\t', '\nFROM foo\nSYSTEM "\n\t\t\t']
)
def test_unterminated_quote(text: str) -> None:
    with pytest.raises(ModelfileError) as e:
        parse(text)
    assert str(e.value) == "unexpected EOF"


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        ("numa true", "numa", "true"),
        ("num_ctx 1", "num_ctx", "1"),
        ("num_batch 1", "num_batch", "1"),
        ("num_gqa 1", "num_gqa", "1"),
        ("num_gpu 1", "num_gpu", "1"),
        ("main_gpu 1", "main_gpu", "1"),
        ("use_mmap true", "use_mmap", "true"),
        ("num_thread 1", "num_thread", "1"),
        ("num_keep 1", "num_keep", "1"),
        ("seed 1", "seed", "1"),
        ("num_predict 1", "num_predict", "1"),
        ("top_k 1", "top_k", "1"),
        ("top_p 1.0", "top_p", "1.0"),
        ("min_p 0.05", "min_p", "0.05"),
        ("typical_p 1.0", "typical_p", "1.0"),
        ("repeat_last_n 1", "repeat_last_n", "1"),
        ("temperature 1.0", "temperature", "1.0"),
        ("repeat_penalty 1.0", "repeat_penalty", "1.0"),
        ("presence_penalty 1.0", "presence_penalty", "1.0"),
        ("frequency_penalty 1.0", "frequency_penalty", "1.0"),
        ("penalize_newline true", "penalize_newline", "true"),
        ("stop ### User:", "stop", "### User:"),
        ("stop ### User: ", "stop", "### User:"),
        ('stop "### User:"', "stop", "### User:"),
        ('stop "### User: "', "stop", "### User: "),
        ('stop """### User:"""', "stop", "### User:"),
        ('stop """### User:\n"""', "stop", "### User:\n"),
        ("stop <|endoftext|>", "stop", "<|endoftext|>"),
        ("stop <|eot_id|>", "stop", "<|eot_id|>"),
        ("stop </s>", "stop", "</s>"),
    ],
)
def test_parameters(line: str, name: str, value: str) -> None:
    assert cmds(f"FROM foo\nPARAMETER {line}\n") == [("model", "foo"), (name, value)]


def test_parameter_name_is_case_sensitive() -> None:
    assert cmds("FROM foo\nparameter Temperature 1\n") == [("model", "foo"), ("Temperature", "1")]


def test_comments() -> None:
    assert cmds("\n# comment\nFROM foo\n\t") == [("model", "foo")]
    assert cmds("FROM foo # not a comment\n") == [("model", "foo # not a comment")]


@pytest.mark.parametrize(
    "text",
    [
        "\nFROM foo\nADAPTER adapter1\nLICENSE MIT\nPARAMETER param1 value1\nPARAMETER param2 value2\n"
        "TEMPLATE template1\nMESSAGE system You are a file parser. Always parse things.\nMESSAGE user Hey there!\n"
        "MESSAGE assistant Hello, I want to parse all the things!\n",
        "\nFROM foo\nADAPTER adapter1\nLICENSE MIT\nPARAMETER param1 value1\nPARAMETER param2 value2\n"
        'TEMPLATE template1\nMESSAGE system """\nYou are a store greeter. Always respond with "Hello!".\n"""\n'
        "MESSAGE user Hey there!\nMESSAGE assistant Hello, I want to parse all the things!\n",
        '\nFROM foo\nADAPTER adapter1\nLICENSE """\nVery long and boring legal text.\nBlah blah blah.\n'
        '"Oh look, a quote!"\n"""\n\nPARAMETER param1 value1\nPARAMETER param2 value2\nTEMPLATE template1\n'
        'MESSAGE system """\nYou are a store greeter. Always respond with "Hello!".\n"""\n'
        "MESSAGE user Hey there!\nMESSAGE assistant Hello, I want to parse all the things!\n",
        '\nFROM foo\nSYSTEM ""\n',
    ],
)
def test_format_round_trip(text: str) -> None:
    first = parse(text)
    assert parse(str(first)).commands == first.commands


UTF16_DATA = "FROM bob\nPARAMETER param1 1\nPARAMETER param2 4096\nSYSTEM You are a utf16 file.\n"
UTF16_EXPECTED = [("model", "bob"), ("param1", "1"), ("param2", "4096"), ("system", "You are a utf16 file.")]


def test_utf16_le() -> None:
    assert cmds(codecs.BOM_UTF16_LE + UTF16_DATA.encode("utf-16-le")) == UTF16_EXPECTED


def test_utf16_be() -> None:
    assert cmds(codecs.BOM_UTF16_BE + UTF16_DATA.encode("utf-16-be")) == UTF16_EXPECTED


def test_utf8_bom() -> None:
    assert cmds(codecs.BOM_UTF8 + UTF16_DATA.encode()) == UTF16_EXPECTED


@pytest.mark.parametrize(
    "encoded",
    [
        "FROM test\n\tSYSTEM 你好👋".encode(),
        codecs.BOM_UTF16_LE + "FROM test\n\tSYSTEM 你好👋".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "FROM test\n\tSYSTEM 你好👋".encode("utf-16-be"),
    ],
)
def test_multibyte(encoded: bytes) -> None:
    assert cmds(encoded) == [("model", "test"), ("system", "你好👋")]


def test_non_printable_runes_dropped() -> None:
    assert cmds("FROM foo\nSYSTEM a\x00b\x07c\n") == [("model", "foo"), ("system", "abc")]


def test_crlf_line_endings() -> None:
    assert cmds("FROM foo\r\nSYSTEM hi\r\n") == [("model", "foo"), ("system", "hi")]


def test_command_str() -> None:
    assert str(Command("model", "foo")) == "FROM foo"
    assert str(Command("system", " lead")) == 'SYSTEM " lead"'
    assert str(Command("system", 'has "q"\n')) == 'SYSTEM """has "q"\n"""'
    assert str(Command("message", "user: hi there")) == "MESSAGE user hi there"
    assert str(Command("temperature", "0.5")) == "PARAMETER temperature 0.5"
