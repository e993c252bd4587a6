"""Hugging Face chat templates: a GGUF's `tokenizer.chat_template` (Jinja) rendered in a sandbox.

Ollama only ever renders Go templates; a GGUF whose Jinja template matches none of its named templates gets
`{{ .Prompt }}` and so an empty chat prompt. `JinjaTemplate` renders such a template as Hugging Face
transformers' `apply_chat_template` does (same sandboxed environment, globals and `tojson`), behind the same
methods as `Template` (`execute(Values)`, `capabilities()`, `thinking_tags()`, `uses()`, `vars()`) plus
`tool_call_tag()`. What a request carries is mapped to the message/tool dict shapes HF templates expect by
`jinja_values`; reading the template and special tokens out of a GGUF is `jinja_gguf`.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any, NoReturn

import jinja2
import jinja2.ext
import jinja2.meta
import jinja2.nodes
import jinja2.parser
import jinja2.utils
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .gotemplate import TemplateError
from .jinja_values import Arguments, hf_messages, hf_tools
from .template import Values, collate
from .types import Message

__all__ = ["JinjaTemplate", "JinjaTemplateError"]

# Reasoning delimiters HF templates write around a thinking trace, most common first.
_THINKING_TAGS = (
    ("<think>", "</think>"),
    ("<seed:think>", "</seed:think>"),
    ("[THINK]", "[/THINK]"),
    ("<|START_THINKING|>", "<|END_THINKING|>"),
    ("<thinking>", "</thinking>"),
)

# Well-known tool-call openers: what a rendered call's tag is cut back to, and what is looked for in the
# template source when rendering a probe call tells nothing.
_TOOL_CALL_TAGS = ("<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", "<｜tool▁calls▁begin｜>", "<|tool_call|>")

_PROBE_NAME = "pollama_probe_fn"
# Nine alphanumerics: Mistral's templates refuse any other tool-call id.
_PROBE_ID = "probe0001"


class JinjaTemplateError(TemplateError):
    """A chat template that does not compile, or that failed (or refused, via `raise_exception`) to render."""


class _SandboxedEnvironment(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        # Stock Jinja returns an Undefined that prints as "" until used further; a template reaching for
        # `__class__` and the like is hostile or broken either way, so refuse it at once.
        raise jinja2.exceptions.SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )


class _Generation(jinja2.ext.Extension):
    """`{% generation %}…{% endgeneration %}`: transformers marks trainable spans with it; rendering ignores it."""

    tags = {"generation"}  # noqa: RUF012 (Jinja's declared attribute type)

    def parse(self, parser: jinja2.parser.Parser) -> list[jinja2.nodes.Node]:
        next(parser.stream)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


class _TemplateDict:
    """`dict` in templates: builds plain dicts and nothing else (no class to climb out of the sandbox from)."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args, **kwargs)


class _TemplateNamespace(jinja2.utils.Namespace):
    """`namespace()` that refuses underscore-prefixed attributes, as transformers' does."""

    def __init__(*args: Any, **kwargs: Any) -> None:
        # Jinja's Namespace signature: no named self, so `namespace(self=...)` still works.
        self, rest = args[0], args[1:]
        attrs = dict(*rest, **kwargs)
        for name in attrs:
            _check_namespace_name(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        _check_namespace_name(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)


def _check_namespace_name(name: object) -> None:
    if isinstance(name, str) and name.startswith("_"):
        raise jinja2.exceptions.SecurityError(f"chat templates cannot set underscore-prefixed attribute {name!r}")


def _raise_exception(message: str) -> NoReturn:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(
    x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None, sort_keys: bool = False
) -> str:
    # transformers' override: no HTML escaping, keys in insertion order, non-ASCII kept, indent honoured.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=1)
def _environment() -> _SandboxedEnvironment:
    """The environment of transformers' `_compile_jinja_template`."""
    env = _SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[_Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _TemplateNamespace
    return env


@lru_cache(maxsize=64)
def _compile(source: str) -> tuple[jinja2.Template, frozenset[str]]:
    if not source.strip():
        raise JinjaTemplateError("chat template is empty")
    env = _environment()
    try:
        ast = env.parse(source)
        return env.from_string(ast), frozenset(jinja2.meta.find_undeclared_variables(ast))
    except jinja2.exceptions.TemplateSyntaxError as e:
        raise JinjaTemplateError(f"chat template: line {e.lineno}: {e.message}") from None


def _render(tmpl: jinja2.Template, context: dict[str, Any]) -> str:
    try:
        return tmpl.render(**context)
    except jinja2.exceptions.TemplateError as e:
        raise JinjaTemplateError(f"chat template: {e.message or type(e).__name__}") from None
    except Exception as e:  # a template can raise anything (TypeError on `str + None`, ...)
        raise JinjaTemplateError(f"chat template: {type(e).__name__}: {e}") from None


# transformers' continue_final_message marker: appended to the final message, located in the render, cut off.
_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "


def _cut_at_continue_tag(rendered: str) -> str | None:
    at = rendered.rfind(_CONTINUE_TAG.strip())
    if at < 0:
        return None
    if rendered[at : at + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return rendered[:at]
    # The template trimmed the message's trailing space (and the tag's with it).
    return rendered[:at].rstrip()


class JinjaTemplate:
    """A Hugging Face chat template usable wherever a `Template` is (same methods, same meaning)."""

    def __init__(
        self,
        raw: str,
        *,
        bos_token: str = "",
        eos_token: str = "",
        add_bos: bool = False,
        tool_use: str | None = None,
    ) -> None:
        """Compile `raw` (raises JinjaTemplateError when empty or not valid Jinja).

        `add_bos`: the tokenizer adds BOS itself, so a leading `bos_token` the template writes is dropped
        from the prompt (as llama.cpp does) rather than doubled. `tool_use`: the GGUF's
        `tokenizer.chat_template.tool_use`, which transformers prefers when a request has tools.
        """
        self.raw = raw
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.add_bos = add_bos
        self._tmpl, self._names = _compile(raw)
        self._tool_use = _compile(tool_use) if tool_use else None
        self._tool_use_raw = tool_use or ""
        self._tag: str | None = None

    @classmethod
    def from_gguf(
        cls, chat_template: str, *, bos_token: str, eos_token: str, add_bos: bool = False, tool_use: str | None = None
    ) -> JinjaTemplate:
        return cls(chat_template, bos_token=bos_token, eos_token=eos_token, add_bos=add_bos, tool_use=tool_use)

    def __str__(self) -> str:
        return self.raw

    def vars(self) -> list[str]:
        """Sorted, lower-cased variables the template reads from its context (`messages`, `tools`, ...)."""
        names = set(self._names)
        if self._tool_use is not None:
            names |= self._tool_use[1]
        return sorted(n.lower() for n in names)

    def uses(self, name: str) -> bool:
        return name.lower() in self.vars()

    def contains(self, s: str) -> bool:
        return s in self.raw or s in self._tool_use_raw

    def thinking_tags(self) -> tuple[str, str]:
        """The tags around a reasoning trace, if the template writes or strips one; ("", "") otherwise."""
        for opening, closing in _THINKING_TAGS:
            if self.contains(closing) and self.contains(opening):
                return opening, closing
        return "", ""

    def capabilities(self) -> list[str]:
        """Ollama's capability names: `tools` when the template reads `tools`, `thinking` when it has
        reasoning tags; never `insert` (HF templates have no fill-in-the-middle slot)."""
        caps = ["tools"] if self.uses("tools") else []
        opening, closing = self.thinking_tags()
        if opening and closing:
            caps.append("thinking")
        return caps

    def opens_thinking(self, prompt: str) -> bool:
        """Whether `prompt` (a render of this template) ends with an open reasoning tag, as DeepSeek-R1's
        generation prompt does: the model's output then starts with thinking text and no opening tag."""
        opening, _ = self.thinking_tags()
        return bool(opening) and prompt.rstrip().endswith(opening)

    def tool_call_tag(self) -> str:
        """What the model writes before a tool call's JSON, as Ollama infers it from Go templates: the text
        the template puts before the first `{` of a rendered call (a probe call rendered after the generation
        prompt), or "{" when calls are bare JSON objects."""
        if self._tag is None:
            self._tag = _infer_tool_call_tag(self)
        return self._tag

    def context(self, v: Values) -> dict[str, Any]:
        """The variables a render gets, as transformers passes them (without `add_generation_prompt`)."""
        _, messages = collate(v.messages)
        if not messages and v.prompt:
            messages = [Message(role="user", content=v.prompt)]
        ctx: dict[str, Any] = {
            "messages": hf_messages(messages),
            "tools": hf_tools(v.tools),
            "documents": None,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        if v.is_think_set:
            # Qwen3/SmolLM3 read enable_thinking; DeepSeek-V3.1 and Granite read thinking.
            ctx["enable_thinking"] = v.think
            ctx["thinking"] = v.think
        if v.think_level:
            ctx["reasoning_effort"] = v.think_level
        return ctx

    def execute(self, v: Values) -> str:
        """Render a chat as `apply_chat_template(messages, tools=..., add_generation_prompt=True)` would.

        A final assistant message is continued rather than closed (transformers' continue_final_message),
        which is how Ollama lets a client prefill the answer.
        """
        if v.suffix:
            raise JinjaTemplateError("chat template has no fill-in-the-middle (suffix) support")
        ctx = self.context(v)
        tmpl = self.template_for(tools=bool(ctx["tools"]))
        msgs: list[dict[str, Any]] = ctx["messages"]
        out: str | None = None
        if msgs and msgs[-1]["role"] == "assistant" and "tool_calls" not in msgs[-1] and msgs[-1]["content"]:
            last = {**msgs[-1], "content": msgs[-1]["content"] + _CONTINUE_TAG}
            rendered = _render(tmpl, {**ctx, "messages": [*msgs[:-1], last], "add_generation_prompt": False})
            out = _cut_at_continue_tag(rendered)
        if out is None:
            out = _render(tmpl, {**ctx, "add_generation_prompt": True})
        if self.add_bos and self.bos_token and out.startswith(self.bos_token):
            out = out[len(self.bos_token) :]
        return out

    def template_for(self, *, tools: bool) -> jinja2.Template:
        """The compiled template transformers would pick: `tool_use` when the request has tools and there is one."""
        return self._tool_use[0] if tools and self._tool_use is not None else self._tmpl

    def render(self, context: dict[str, Any]) -> str:
        """Render with an explicit context (tests, debugging); errors as JinjaTemplateError."""
        return _render(self._tmpl, context)


def _infer_tool_call_tag(t: JinjaTemplate) -> str:
    probe_call = {
        "type": "function",
        "id": _PROBE_ID,
        "function": {"name": _PROBE_NAME, "arguments": Arguments(probe=1)},
    }
    user = {"role": "user", "content": "probe"}
    # Calls are rendered by the tool_use template when there is one, and that one expects tools.
    tmpl, tools = t.template_for(tools=True), None
    if t.template_for(tools=True) is not t.template_for(tools=False):
        tools = [{"type": "function", "function": {"name": _PROBE_NAME, "parameters": {"type": "object"}}}]
    base_ctx = {"bos_token": t.bos_token, "eos_token": t.eos_token, "tools": tools, "documents": None}
    try:
        prompt = _render(tmpl, {**base_ctx, "messages": [user], "add_generation_prompt": True})
        call = _render(
            tmpl,
            {
                **base_ctx,
                "messages": [user, {"role": "assistant", "content": "", "tool_calls": [probe_call]}],
                "add_generation_prompt": False,
            },
        )
    except TemplateError:
        call = prompt = ""
    common = 0
    while common < min(len(prompt), len(call)) and prompt[common] == call[common]:
        common += 1
    # Both may go on with the same character, e.g. the `<` of `<think>` and of `<｜tool▁calls▁begin｜>`: back off
    # to before a bracket the common part leaves open.
    for opening, closing in (("<", ">"), ("[", "]")):
        at = call.rfind(opening, 0, common)
        if at >= 0 and call.find(closing, at, common) < 0:
            common = at
    rest = call[common:]
    if _PROBE_NAME in rest:
        _, closing = t.thinking_tags()
        if closing and closing in rest.split(_PROBE_NAME, 1)[0]:
            # An (empty) reasoning block the template writes before the call is not part of the tag.
            rest = rest.split(closing, 1)[1]
        cut = min(i for i in (rest.find("{"), rest.find(_PROBE_NAME)) if i >= 0)
        tag = rest[:cut].strip()
        # A well-known opener followed by per-call framing (DeepSeek's `<｜tool▁call▁begin｜>function<｜tool▁sep｜>`,
        # Mistral's ` [`) is cut back to the opener, as Ollama's tag stops before the range over the calls.
        known = next((k for k in _TOOL_CALL_TAGS if tag.startswith(k)), None)
        return known or tag or "{"
    for tag in _TOOL_CALL_TAGS:
        if t.contains(tag):
            return tag
    return "{"
