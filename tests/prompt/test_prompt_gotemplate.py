"""Unit tests of the Go text/template interpreter: each construct, trimming, scoping, errors, formatting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pollama.prompt.gotemplate import TemplateError, parse
from pollama.prompt.gotemplate.gofmt import format_float, sprintf
from pollama.prompt.gotemplate.values import json_marshal


def render(src: str, data: object = None) -> str:
    return parse(src).execute(data)


# --- text, actions, trimming, comments -------------------------------------------------------------------------


def test_text_and_fields() -> None:
    assert render("a {{ .X }} b", {"X": "x"}) == "a x b"
    assert render("{{ .A.B.C }}", {"A": {"B": {"C": 3}}}) == "3"
    assert render("{{ . }}", "dot") == "dot"


def test_trim_markers() -> None:
    assert render("a  \n {{- .X -}} \n  b", {"X": 1}) == "a1b"
    assert render("a {{- .X }} b", {"X": 1}) == "a1 b"
    assert render("a {{ .X -}} b", {"X": 1}) == "a 1b"
    # "-3" without a space is a number, not a trim marker.
    assert render("a {{-3}} b") == "a -3 b"


def test_comments() -> None:
    assert render("a{{/* hi */}}b") == "ab"
    assert render("a \n{{- /* hi */ -}}\n b") == "ab"
    with pytest.raises(TemplateError, match="unclosed comment"):
        parse("{{/* x")
    with pytest.raises(TemplateError, match="comment ends before closing delimiter"):
        parse("{{/* x */ .X }}")


def test_missing_key_prints_no_value() -> None:
    assert render("[{{ .Nope }}]", {}) == "[<no value>]"
    assert render("{{ if .Nope }}y{{ else }}n{{ end }}", {}) == "n"


def test_nil_interface_in_chain_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"executing \"\" at <\.A\.B>: nil pointer evaluating interface \{\}\.B"):
        render("{{ .A.B }}", {"A": None})


# --- literals ----------------------------------------------------------------------------------------------------


def test_literals() -> None:
    assert render(r'{{ "a\tb\u00e9\x41" }}') == "a\tbéA"
    assert render("{{ `raw\\n` }}") == "raw\\n"
    assert render("{{ 42 }} {{ -7 }} {{ 0x1F }} {{ 1_000 }} {{ 0o17 }}") == "42 -7 31 1000 15"
    assert render("{{ 1.5 }} {{ 1e6 }} {{ 1.0 }} {{ 0.00001 }} {{ 123456.0 }}") == "1.5 1e+06 1 1e-05 123456"
    assert render("{{ 'a' }} {{ true }} {{ false }}") == "97 true false"
    with pytest.raises(TemplateError, match="nil is not a command"):
        render("{{ nil }}")


# --- variables and scoping ----------------------------------------------------------------------------------------


def test_variables_and_assignment() -> None:
    assert render("{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}") == "12"
    assert render("{{ $ }}", "root") == "root"
    assert render("{{ range .L }}{{ $.N }}{{ end }}", {"L": [1, 2], "N": "n"}) == "nn"


def test_variable_scope_ends_at_end() -> None:
    with pytest.raises(TemplateError, match=r'undefined variable "\$y"'):
        parse("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}")
    # Assignment inside a block changes the outer variable (Go 1.11+).
    assert render("{{ $x := 0 }}{{ range .L }}{{ $x = . }}{{ end }}{{ $x }}", {"L": [1, 2, 3]}) == "3"


def test_template_call_sees_only_dollar() -> None:
    src = '{{ define "t" }}{{ . }}-{{ $ }}{{ end }}{{ $x := 1 }}{{ template "t" "arg" }}'
    assert render(src) == "arg-arg"
    with pytest.raises(TemplateError, match=r'undefined variable "\$x"'):
        parse('{{ $x := 1 }}{{ define "t" }}{{ $x }}{{ end }}')


# --- control structures ------------------------------------------------------------------------------------------


def test_if_else_if_else() -> None:
    src = '{{ if eq .R "a" }}A{{ else if eq .R "b" }}B{{ else }}C{{ end }}'
    assert [render(src, {"R": r}) for r in "abc"] == ["A", "B", "C"]


def test_truthiness() -> None:
    src = "{{ if . }}T{{ else }}F{{ end }}"
    falsy: list[object] = ["", 0, 0.0, False, None, [], {}]
    truthy: list[object] = ["x", 1, -1.5, True, [0], {"a": 0}]
    assert [render(src, v) for v in falsy] == ["F"] * len(falsy)
    assert [render(src, v) for v in truthy] == ["T"] * len(truthy)


def test_range_list_map_else_break_continue() -> None:
    assert render("{{ range $i, $v := . }}{{ $i }}={{ $v }};{{ end }}", ["a", "b"]) == "0=a;1=b;"
    assert render("{{ range $v := . }}{{ $v }}{{ end }}", ["a", "b"]) == "ab"
    assert render("{{ range $k, $v := . }}{{ $k }}:{{ $v }} {{ end }}", {"b": 2, "a": 1, "c": 3}) == "a:1 b:2 c:3 "
    assert render("{{ range . }}x{{ else }}empty{{ end }}", []) == "empty"
    assert render("{{ range . }}x{{ else }}empty{{ end }}", None) == "empty"
    src = "{{ range . }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}"
    assert render(src, [1, 2, 3, 4, 5]) == "13"
    assert render("{{ range 3 }}{{ . }}{{ end }}") == "012"
    with pytest.raises(TemplateError, match=r"\{\{break\}\} outside \{\{range\}\}"):
        parse("{{ break }}")


def test_with_else() -> None:
    assert render("{{ with .X }}[{{ . }}]{{ else }}none{{ end }}", {"X": "v"}) == "[v]"
    assert render("{{ with .X }}[{{ . }}]{{ else }}none{{ end }}", {"X": ""}) == "none"
    assert render("{{ with $y := .X }}{{ $y }}{{ end }}", {"X": 5}) == "5"
    assert render("{{ with .A }}a{{ else with .B }}{{ . }}{{ end }}", {"A": 0, "B": "b"}) == "b"


def test_define_template_block() -> None:
    assert render('{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" .V }}', {"V": 1}) == "<1>"
    assert render('{{ block "b" .V }}[{{ . }}]{{ end }}', {"V": 2}) == "[2]"
    assert render('{{ template "b" 3 }}{{ define "b" }}{{ . }}{{ end }}') == "3"
    with pytest.raises(TemplateError, match='template "nope" not defined'):
        render('{{ template "nope" }}')


def test_parenthesised_pipelines_and_pipes() -> None:
    assert render("{{ len (slice .L 1) }}", {"L": [1, 2, 3]}) == "2"
    assert render('{{ "x" | printf "%s-%s" "a" }}') == "a-x"
    assert render("{{ .S | len }}", {"S": "héllo"}) == "6"  # len counts bytes, like Go
    assert render("{{ (index .M 0).K }}", {"M": [{"K": "v"}]}) == "v"


# --- builtins -----------------------------------------------------------------------------------------------------


def test_comparisons() -> None:
    assert render("{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 2 3 }}") == (
        "true true true true true false false"
    )
    assert render('{{ eq "a" "a" }} {{ lt "a" "b" }}') == "true true"
    assert render('{{ eq .Missing "x" }}', {}) == "false"
    with pytest.raises(TemplateError, match="error calling eq: incompatible types for comparison"):
        render('{{ eq 1 "1" }}')
    with pytest.raises(TemplateError, match="error calling lt: invalid type for comparison"):
        render("{{ lt true false }}")


def test_and_or_not_short_circuit() -> None:
    assert render('{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" 3 }} {{ or 0 false }} {{ not 0 }}') == "0 2 3 false true"
    # The second operand would fail (index out of range) if evaluated.
    assert render("{{ or 1 (index .L 5) }}", {"L": []}) == "1"
    assert render("{{ and 0 (index .L 5) }}", {"L": []}) == "0"


def test_len_index_slice() -> None:
    assert render("{{ len . }}", {"a": 1, "b": 2}) == "2"
    assert render(
        '{{ index .L 1 }} {{ index .M "k" }} {{ index .N 0 1 }}', {"L": [1, 2], "M": {"k": "v"}, "N": [[1, 2]]}
    ) == ("2 v 2")
    assert render('{{ index "abc" 1 }}') == "98"
    assert render('{{ slice "abcdef" 1 3 }} {{ slice .L 1 }}', {"L": [1, 2, 3]}) == "bc [2 3]"
    with pytest.raises(TemplateError, match="error calling index: index out of range: 5"):
        render("{{ index .L 5 }}", {"L": [1]})
    with pytest.raises(TemplateError, match="error calling len: len of type int"):
        render("{{ len 3 }}")
    with pytest.raises(TemplateError, match="wrong number of args for len: want 1 got 2"):
        render("{{ len 1 2 }}")


def test_print_functions() -> None:
    assert render('{{ print "a" 1 2 "b" }}') == "a1 2b"
    assert render('{{ println "a" 1 }}') == "a 1\n"
    assert render("{{ print . }}", [1, "x", None]) == "[1 x <nil>]"
    assert render("{{ . }}", {"b": [1, 2], "a": True}) == "map[a:true b:[1 2]]"


def test_printf_formatting() -> None:
    assert (
        sprintf("%d|%5d|%-5d|%05d|%x|%X|%o|%b", 42, 42, 42, 42, 255, 255, 8, 5) == "42|   42|42   |00042|ff|FF|10|101"
    )
    assert (
        sprintf("%s|%q|%v|%10s|%-4s|%.2s", "hi", 'a"b', [1, 2], "r", "l", "abc")
        == 'hi|"a\\"b"|[1 2]|         r|l   |ab'
    )
    assert sprintf("%f|%.2f|%e|%g|%v", 3.14159, 3.14159, 1234.5, 0.5, 2.0) == "3.141590|3.14|1.234500e+03|0.5|2"
    assert sprintf("%t|%c|%%|%T", True, 65, "s") == "true|A|%|string"
    assert sprintf("%d", "x") == "%!d(string=x)"
    assert sprintf("%d %d", 1) == "1 %!d(MISSING)"
    assert sprintf("%d", 1, "x") == "1%!(EXTRA string=x)"
    assert render('{{ printf "%s and %s" .A .B }}', {"A": "x", "B": "y"}) == "x and y"
    assert render('{{ printf "%s\\n\\n%s" "a" "b" }}') == "a\n\nb"


def test_float_formatting_matches_go() -> None:
    assert [format_float(x) for x in (1.0, 0.1, 1e20, 1e21, 123456789.0, 1e-5, -2.5)] == [
        "1", "0.1", "1e+20", "1e+21", "1.23456789e+08", "1e-05", "-2.5",
    ]  # fmt: skip


def test_escapers() -> None:
    assert render('{{ html "<a href=\\"x\\">&\'" }}') == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
    assert render('{{ js "it\'s <b>" }}') == "it\\'s \\u003Cb\\u003E"
    assert render('{{ urlquery "a b&c" }}') == "a+b%26c"


def test_call() -> None:
    assert render("{{ call .F 2 3 }}", {"F": lambda a, b: a * b}) == "6"


# --- Ollama functions ----------------------------------------------------------------------------------------------


def test_json_matches_go_marshal() -> None:
    value = {"b": "<tag> & \u2028", "a": [1, 2.5, None, True, 1e21, 1e-7, 1e-5], "c": {"z": 1, "y": "\n\x01"}}
    assert json_marshal(value) == (
        '{"a":[1,2.5,null,true,1e+21,1e-7,0.00001],"b":"\\u003ctag\\u003e \\u0026 \\u2028",'
        '"c":{"y":"\\n\\u0001","z":1}}'
    )
    assert render("{{ json . }}", value) == json_marshal(value)
    assert render("{{ json .X }}", {"X": float("nan")}) == ""  # Ollama drops the marshal error
    assert render("{{ json .X }}", {"X": "é"}) == '"é"'


def test_dates() -> None:
    import datetime

    today = datetime.date.today()
    assert render('{{ currentDate }} {{ yesterdayDate "ignored" }}') == (
        f"{today:%Y-%m-%d} {today - datetime.timedelta(days=1):%Y-%m-%d}"
    )


# --- structs and Stringers -----------------------------------------------------------------------------------------


@dataclass
class Point:
    X: int
    Y: str


class Shown:
    def __str__(self) -> str:
        return "shown!"


def test_struct_fields_and_printing() -> None:
    assert render("{{ .P.X }} {{ .P }}", {"P": Point(1, "a")}) == "1 {1 a}"
    assert render("{{ . }}", [Shown(), Shown()]) == "[shown! shown!]"
    with pytest.raises(TemplateError, match="can't evaluate field Z in type Point"):
        render("{{ .P.Z }}", {"P": Point(1, "a")})
    # json.Marshal of a struct: fields in declaration order, while maps inside are sorted.
    assert render("{{ json . }}", {"P": Point(2, "<b>"), "A": {"z": 1, "b": 2}}) == (
        '{"A":{"b":2,"z":1},"P":{"X":2,"Y":"\\u003cb\\u003e"}}'
    )


# --- parse errors read like Go's -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "msg"),
    [
        ("{{ .Prompt }", 'template: :1: unexpected "}" in operand'),
        ("{{ .Prompt ", "template: :1: unclosed action"),
        ("a\n{{ end }}", "template: :2: unexpected {{end}}"),
        ("{{ if .X }}", "template: :1: unexpected EOF"),
        ("{{ if }}{{ end }}", "template: :1: missing value for if"),
        ("{{ nofunc }}", 'template: :1: function "nofunc" not defined'),
        ("{{ $x }}", 'template: :1: undefined variable "$x"'),
        ('{{ .X | "s" }}', "template: :1: non executable command in pipeline stage 2"),
        ("{{ (1 }}", "template: :1: unclosed left paren"),
        ("{{ else }}", "template: :1: unexpected {{else}}"),
        ("{{ range $a, $b, $c := . }}{{ end }}", "template: :1: too many declarations in range"),
        ("{{ 3.x }}", 'template: :1: bad number syntax: "3.x"'),
    ],
)
def test_parse_errors(src: str, msg: str) -> None:
    with pytest.raises(TemplateError) as e:
        parse(src)
    assert str(e.value) == msg


def test_exec_error_location() -> None:
    with pytest.raises(TemplateError) as e:
        render("line1\n  {{ index .L 3 }}", {"L": []})
    assert str(e.value) == 'template: :2:5: executing "" at <index .L 3>: error calling index: index out of range: 3'


def test_ast_is_exposed() -> None:
    from pollama.prompt.gotemplate import nodes

    t = parse("{{ range .Messages }}{{ .Content }}{{ end }}")
    rng = t.root.nodes[0]
    assert isinstance(rng, nodes.RangeNode)
    field = rng.pipe.cmds[0].args[0]
    assert isinstance(field, nodes.FieldNode) and field.ident == ["Messages"]
