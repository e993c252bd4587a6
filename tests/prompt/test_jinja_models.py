"""Real Hugging Face chat templates (Llama 3.1, Qwen3, DeepSeek-R1, Mistral) rendered through JinjaTemplate.

The templates are the `chat_template` of each model's tokenizer_config.json as its Hugging Face repository
ships it (DeepSeek-R1-Distill-Qwen as llama.cpp's models/templates keeps it, with its whitespace control
spelled out). Expected texts were checked against transformers' own `apply_chat_template` rendering.
"""

# The templates are kept byte for byte, long lines included.
# ruff: noqa: E501

from __future__ import annotations

import pytest

from pollama.prompt.jinja import JinjaTemplate, JinjaTemplateError
from pollama.prompt.template import Values
from pollama.prompt.types import Message, Tool, ToolCall

# meta-llama/Llama-3.1-8B-Instruct
LLAMA31 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

# Qwen/Qwen3-0.6B (the Qwen3 family's hybrid-thinking template)
QWEN3 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""

# deepseek-ai/DeepSeek-R1-Distill-Qwen-32B
DEEPSEEK_R1 = r"""{% if not add_generation_prompt is defined -%}
  {%- set add_generation_prompt = false -%}
{%- endif -%}
{%- set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') -%}
{%- for message in messages -%}
  {%- if message['role'] == 'system' -%}
    {%- set ns.system_prompt = message['content'] -%}
  {%- endif -%}
{%- endfor -%}{{bos_token}}{{ns.system_prompt}}
{%- for message in messages -%}
  {%- if message['role'] == 'user' -%}
    {%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}
  {%- endif -%}
  {%- if message['role'] == 'assistant' and message['tool_calls'] -%}
    {%- set ns.is_tool = false -%}
    {%- for tool in message['tool_calls']-%}
      {%- if not ns.is_first -%}
        {{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}
        {%- set ns.is_first = true -%}
      {%- else -%}
        {{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}
      {%- endif -%}
    {%- endfor -%}
    {{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}
  {%- endif -%}
  {%- if message['role'] == 'assistant' and message['content'] is not none -%}
    {%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}
      {%- set ns.is_tool = false -%}
    {%- else -%}
      {%- set content = message['content'] -%}
      {%- if '</think>' in content -%}
        {%- set content = content.split('</think>')[-1] -%}
      {%- endif -%}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}
    {%- endif -%}
  {%- endif -%}
  {%- if message['role'] == 'tool' -%}
    {%- set ns.is_tool = true -%}
    {%- if ns.is_output_first -%}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}
      {%- set ns.is_output_first = false -%}
      {%- else -%}{{'\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}
    {%- endif -%}
  {%- endif -%}
{%- endfor -%}
{%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>'}}
{%- endif -%}
{%- if add_generation_prompt and not ns.is_tool -%}{{'<｜Assistant｜><think>\n'}}
{%- endif %}"""

# mistralai/Mistral-7B-Instruct-v0.3 (Mistral's "v3" template with tools)
MISTRAL_V3 = r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

WEATHER = Tool.from_json(
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"}},
                "required": ["city"],
            },
        },
    }
)


def call(name: str, args: dict[str, object], id: str = "") -> ToolCall:
    return ToolCall.from_json({"id": id, "function": {"name": name, "arguments": args}})


CONVERSATION = [
    Message("system", "You are a helpful assistant."),
    Message("user", "What is the weather in Paris?"),
    Message("assistant", "", tool_calls=[call("get_weather", {"city": "Paris"})]),
    Message("tool", '{"temperature": 18, "unit": "C"}', tool_name="get_weather"),
    Message("user", "And should I take an umbrella?"),
]


def test_llama31_renders_tools_in_the_first_user_message_and_calls_as_json() -> None:
    t = JinjaTemplate(LLAMA31, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    # The tool result is passed through `tojson` because the template treats any iterable (a string too) that way.
    assert t.execute(Values(messages=CONVERSATION, tools=[WEATHER])) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are a helpful assistant.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON for "
        "a function call with its proper arguments that best answers the given prompt.\n\nRespond in the format "
        '{"name": function name, "parameters": dictionary of argument name and its value}.Do not use variables.\n\n'
        '{\n    "type": "function",\n    "function": {\n        "name": "get_weather",\n'
        '        "description": "Get the current weather in a city",\n        "parameters": {\n'
        '            "type": "object",\n            "properties": {\n                "city": {\n'
        '                    "type": "string",\n                    "description": "The city, e.g. Paris"\n'
        '                }\n            },\n            "required": [\n                "city"\n            ]\n'
        "        }\n    }\n}\n\nWhat is the weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
        '\n\n{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>'
        '<|start_header_id|>ipython<|end_header_id|>\n\n"{\\"temperature\\": 18, \\"unit\\": \\"C\\"}"<|eot_id|>'
        "<|start_header_id|>user<|end_header_id|>\n\nAnd should I take an umbrella?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert t.capabilities() == ["tools"]
    assert t.tool_call_tag() == "{"  # Llama 3.1 writes custom-tool calls as bare JSON, as Ollama's llama3.1 does
    assert t.thinking_tags() == ("", "")


def test_llama31_without_tools_has_no_tool_preamble() -> None:
    t = JinjaTemplate(LLAMA31, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    # An empty tools list is no tools: the template would otherwise announce an ipython environment.
    for tools in (None, []):
        assert t.execute(Values(messages=[Message("user", "Hi")], tools=tools)) == (
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
            "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n"
        )


def test_llama31_refuses_two_calls_in_one_turn_with_its_own_message() -> None:
    t = JinjaTemplate(LLAMA31)
    two = Message("assistant", "", tool_calls=[call("a", {}), call("b", {})])
    with pytest.raises(JinjaTemplateError, match="This model only supports single tool-calls at once!"):
        t.execute(Values(messages=[Message("user", "x"), two]))


def test_qwen3_tool_round_trip() -> None:
    t = JinjaTemplate(QWEN3, bos_token="<|endoftext|>", eos_token="<|im_end|>")
    assert t.execute(Values(messages=CONVERSATION, tools=[WEATHER])) == (
        "<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist "
        "with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        '{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city", '
        '"parameters": {"type": "object", "properties": {"city": {"type": "string", "description": '
        '"The city, e.g. Paris"}}, "required": ["city"]}}}\n</tools>\n\nFor each function call, return a json object '
        "with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n<|im_start|>user\n'
        '<tool_response>\n{"temperature": 18, "unit": "C"}\n</tool_response><|im_end|>\n'
        "<|im_start|>user\nAnd should I take an umbrella?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert t.capabilities() == ["tools", "thinking"]
    assert t.thinking_tags() == ("<think>", "</think>")
    # Qwen3 writes an empty reasoning block before a call; the tag is what follows it.
    assert t.tool_call_tag() == "<tool_call>"


@pytest.mark.parametrize(
    ("think", "is_set", "ending"),
    [
        (False, True, "<|im_start|>assistant\n<think>\n\n</think>\n\n"),
        (True, True, "<|im_start|>assistant\n"),
        (False, False, "<|im_start|>assistant\n"),  # unset: the model's default (it thinks)
    ],
)
def test_qwen3_enable_thinking(think: bool, is_set: bool, ending: str) -> None:
    t = JinjaTemplate(QWEN3)
    out = t.execute(Values(messages=[Message("user", "Hi")], think=think, is_think_set=is_set))
    assert out == "<|im_start|>user\nHi<|im_end|>\n" + ending
    assert not t.opens_thinking(out)


def test_qwen3_reasoning_of_the_current_turn_is_rendered_and_older_reasoning_dropped() -> None:
    t = JinjaTemplate(QWEN3)
    older = [Message("user", "2+2?"), Message("assistant", "4", thinking="Add them."), Message("user", "3+3?")]
    assert t.execute(Values(messages=older)) == (
        "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
        "<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n"
    )
    # After a tool result the assistant's reasoning belongs to the turn still in progress, so it is kept.
    current = [
        Message("user", "Weather?"),
        Message("assistant", "", thinking="Need the tool.", tool_calls=[call("get_weather", {"city": "Oslo"})]),
        Message("tool", "rain"),
    ]
    assert t.execute(Values(messages=current)) == (
        "<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n<think>\nNeed the tool.\n</think>\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\nrain\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
    )


R1_BOS, R1_EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"


def test_deepseek_r1_drops_old_reasoning_and_opens_a_thinking_block() -> None:
    t = JinjaTemplate(DEEPSEEK_R1, bos_token=R1_BOS, eos_token=R1_EOS)
    msgs = [
        Message("system", "Be brief."),
        Message("user", "2+2?"),
        Message("assistant", "<think>Add.</think>4"),
        Message("user", "3+3?"),
    ]
    out = t.execute(Values(messages=msgs))
    assert out == f"{R1_BOS}Be brief.<｜User｜>2+2?<｜Assistant｜>4{R1_EOS}<｜User｜>3+3?<｜Assistant｜><think>\n"
    assert t.thinking_tags() == ("<think>", "</think>")
    assert t.capabilities() == ["thinking"]  # the template never reads `tools`
    assert t.opens_thinking(out)  # the model's output starts inside the reasoning block


def test_deepseek_r1_concatenates_arguments_as_json_text() -> None:
    # R1's template does `'```json\n' + tool['function']['arguments']`: the arguments must read as JSON text
    # (transformers fails here with a dict), while other templates need the dict (`| tojson`, `| items`).
    t = JinjaTemplate(DEEPSEEK_R1, bos_token=R1_BOS, eos_token=R1_EOS)
    msgs = [
        Message("user", "Weather in Paris?"),
        Message("assistant", "", tool_calls=[call("get_weather", {"city": "Paris", "unit": "°C"})]),
        Message("tool", '{"temperature": 18}'),
    ]
    # The empty `<｜Assistant｜><｜end▁of▁sentence｜>` is the template's own doing for content "" (not None).
    assert t.execute(Values(messages=msgs)) == (
        f"{R1_BOS}<｜User｜>Weather in Paris?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
        '<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris", "unit": "°C"}\n```<｜tool▁call▁end｜>'
        f"<｜tool▁calls▁end｜>{R1_EOS}<｜Assistant｜>{R1_EOS}<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>"
        '{"temperature": 18}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>'
    )
    assert t.tool_call_tag() == "<｜tool▁calls▁begin｜>"


MISTRAL_CHAT = [
    Message("system", "Be brief."),
    Message("user", "Weather in Paris?"),
    Message("assistant", "", tool_calls=[call("get_weather", {"city": "Paris"}, "abc123def")]),
    Message("tool", '{"temperature": 18}', tool_call_id="abc123def"),
    Message("assistant", "It is 18 C."),
    Message("user", "Thanks!"),
]


def test_mistral_v3_tools_calls_and_results() -> None:
    t = JinjaTemplate(MISTRAL_V3, bos_token="<s>", eos_token="</s>")
    assert t.execute(Values(messages=MISTRAL_CHAT, tools=[WEATHER])) == (
        '<s>[INST] Weather in Paris?[/INST][TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}, '
        '"id": "abc123def"}]</s>[TOOL_RESULTS] {"content": {"temperature": 18}, "call_id": "abc123def"}'
        '[/TOOL_RESULTS] It is 18 C.</s>[AVAILABLE_TOOLS] [{"type": "function", "function": {"name": "get_weather", '
        '"description": "Get the current weather in a city", "parameters": {"type": "object", "properties": '
        '{"city": {"type": "string", "description": "The city, e.g. Paris"}}, "required": ["city"]}}}]'
        "[/AVAILABLE_TOOLS][INST] Be brief.\n\nThanks![/INST]"
    )
    assert t.capabilities() == ["tools"]
    assert t.tool_call_tag() == "[TOOL_CALLS]"


def test_mistral_v3_refusals_surface_as_template_errors() -> None:
    t = JinjaTemplate(MISTRAL_V3, bos_token="<s>", eos_token="</s>")
    no_ids = [Message("user", "x"), Message("assistant", "", tool_calls=[call("f", {})]), Message("tool", "1")]
    with pytest.raises(JinjaTemplateError, match="Tool call IDs should be alphanumeric strings with length 9!"):
        t.execute(Values(messages=no_ids))
    with pytest.raises(JinjaTemplateError, match="conversation roles must alternate"):
        t.execute(Values(messages=[Message("user", "a"), Message("assistant", "b"), Message("system", "c")]))
