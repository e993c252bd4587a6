"""Tool-call tag inference (Ollama's tools/template.go parseTag) on Ollama's own cases and on real templates.

tests/output/templates/ holds templates as Ollama's library ships them (`ollama show --template`): qwen2.5-coder
(the built-in model), llama3.1, llama3.2, qwen3, mistral v0.3 and deepseek-r1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pollama.output.tooltag import infer_tool_tag
from pollama.prompt.named import named_template
from pollama.prompt.template import Template

TEMPLATES = Path(__file__).parent / "templates"

OLLAMA_CASES = {
    "empty": ("", "{"),
    "no tag": ("{{if .ToolCalls}}{{end}}", "{"),
    "no tag with range": ("{{if .ToolCalls}}{{range .ToolCalls}}{{ . }}{{end}}{{end}}", "{"),
    "tool call with json format": ("{{if .ToolCalls}}```json\n{{end}}", "```json"),
    "square brackets": ("{{if .ToolCalls}}[{{range .ToolCalls}}{{ . }}{{end}}]{{end}}", "["),
    "square brackets with whitespace": ("{{if .ToolCalls}}\n [ {{range .ToolCalls}}{{ . }}{{end}}]{{end}}", "["),
    "tailing ]": ("{{if .ToolCalls}}{{range .ToolCalls}}{{ . }}{{end}}]{{end}}", "{"),
    "whitespace only": ("{{if .ToolCalls}} {{range .ToolCalls}}{{ . }}{{end}}{{end}}", "{"),
    "whitespace only in range": ("{{if .ToolCalls}}{{range .ToolCalls}}\n{{ . }}\n{{end}}{{end}}", "{"),
    "json objects": (
        '{{if .ToolCalls}}{{range .ToolCalls}}{"name": "{{ .Function.Name }}", '
        '"arguments": {{ .Function.Arguments }}}{{end}}{{end}}',
        "{",
    ),
    "json objects with CRLF": (
        '{{if .ToolCalls}}{{range .ToolCalls}}\r\n{"name": "{{ .Function.Name }}", '
        '"arguments": {{ .Function.Arguments }}}{{end}}{{end}}',
        "{",
    ),
    "json objects with whitespace before and after range": (
        '{{if .ToolCalls}}\n{{range .ToolCalls}}\n{"name": "{{ .Function.Name }}", '
        '"arguments": {{ .Function.Arguments }}}\r\n{{end}}\r\n{{end}}',
        "{",
    ),
    "before and after range": (
        "{{if .ToolCalls}}<|tool▁calls▁begin|>{{range .ToolCalls}}<|tool▁call▁begin|>functionget_current_weather\n"
        '```json\n{"location": "Tokyo"}\n```<|tool▁call▁end|>\n{{end}}<|tool▁calls▁end|>{{end}}',
        "<|tool▁calls▁begin|>",
    ),
    "after range": (
        '{{if .ToolCalls}}{{range .ToolCalls}}<tool_call>{"name": "{{ .Function.Name }}", '
        '"arguments": {{ .Function.Arguments }}}</tool_call>{{end}}{{end}}',
        "<tool_call>",
    ),
    "after range with leading whitespace before range": (
        '{{if .ToolCalls}}\n{{range .ToolCalls}}<tool_call>{"name": "{{ .Function.Name }}", '
        '"arguments": {{ .Function.Arguments }}}</tool_call>{{end}}{{end}}',
        "<tool_call>",
    ),
    "tool call with multiple text nodes": (
        "{{if .ToolCalls}}First text{{if .Something}}inner{{end}}Second text{{end}}",
        "First text",
    ),
    "action tag": ("{{if .ToolCalls}}Action: ```json{{end}}", "Action: ```json"),
    "incomplete functools bracket": ("{{if .ToolCalls}}functools[{{end}}", "functools["),
    "uppercase tool call with incomplete bracket": ("{{if .ToolCalls}}[TOOL_CALL] [{{end}}", "[TOOL_CALL] ["),
    "uppercase tool call with adjacent bracket": ("{{if .ToolCalls}}[TOOL_CALL][{{end}}", "[TOOL_CALL]["),
    # Beyond Ollama's list, same rules:
    "nested in else-if": ("{{if .Content}}{{.Content}}{{else if .ToolCalls}}<tool_call>\n{{end}}", "<tool_call>"),
    "inside range over messages": (
        "{{range .Messages}}{{if .ToolCalls}}[CALLS]{{range .ToolCalls}}{{.}}{{end}}{{end}}{{end}}",
        "[CALLS]",
    ),
    "action before text": ("{{if .ToolCalls}}{{ .Content }}<tool_call>{{end}}", "{"),
    "no ToolCalls block": ("{{ .Prompt }}", "{"),
}


@pytest.mark.parametrize(("text", "tag"), OLLAMA_CASES.values(), ids=OLLAMA_CASES.keys())
def test_ollama_cases(text: str, tag: str) -> None:
    assert infer_tool_tag(Template.parse(text)) == tag


def test_no_template() -> None:
    assert infer_tool_tag(None) == "{"


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("qwen2.5-coder", "<tool_call>"),
        ("qwen3", "<tool_call>"),
        ("llama3.1", "{"),
        ("llama3.2", "{"),
        ("mistral-v0.3", "[TOOL_CALLS] ["),
        ("deepseek-r1", "{"),  # no ToolCalls block
    ],
)
def test_library_templates(name: str, tag: str) -> None:
    template = Template.parse((TEMPLATES / f"{name}.gotmpl").read_text(encoding="utf-8"))
    assert infer_tool_tag(template) == tag


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("command-r", "Action: ```json\n["),
        ("llama3-instruct", "{"),
        ("mistral-instruct", "{"),
        ("chatml", "{"),
        ("gemma3-instruct", "{"),
        ("phi-3", "{"),
    ],
)
def test_named_templates(name: str, tag: str) -> None:
    """Ollama's vendored named templates: only command-r renders `.ToolCalls`."""
    assert infer_tool_tag(Template.parse(named_template(name).text)) == tag
