"""What a request asks of its output, decided once before inference: the grammar that constrains sampling, the
parser that splits the text into content, thinking and tool calls, and whether log probabilities are wanted.

- ``format`` ("json" or a JSON Schema) compiles to a grammar before any runner is scheduled, so a schema the
  grammar cannot express is a 400, never an unconstrained answer. With thinking on, the grammar waits for the
  closing thinking tag, so only the answer is constrained.
- ``tools`` (without ``format``) get a lazy grammar that activates once the model starts a call (its template's
  tag, or a bare JSON object at the start of the output) and holds the call to the given tool names and each
  tool's parameter schema, so every parsed call names a tool and its arguments validate.
- ``tool_choice`` (OpenAI's form, set by the ``/v1`` layers): "none" renders and parses no tools; "required" or
  a named function applies the call grammar eagerly (from the first token, or right after the thinking block),
  built from only the named tool when one is named, so the model cannot answer without calling it. A forced
  choice allows exactly one call unless ``parallel_tool_calls`` is explicitly true (a small model forced into a
  call otherwise repeats calls until its token limit); ``parallel_tool_calls: false`` allows one call always.
- Right after a tool result, small models echo the call they just made as a bare object before answering; there
  only the template's tag starts a call (Ollama's behaviour), so the answer is not taken for a new call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pollama.api.types import InferenceRequest, Think
from pollama.errors import BadRequest
from pollama.grammar import compile_format, lazy_format_grammar, tool_call_grammar
from pollama.models import ModelView
from pollama.output import OutputParser
from pollama.output.compose import build_parser
from pollama.output.tooltag import infer_tool_tag
from pollama.prompt.jinja import JinjaTemplate
from pollama.prompt.template import ChatTemplate, Template


@dataclass(frozen=True, slots=True)
class OutputPlan:
    grammar: str | None = None
    triggers: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    thinking_tags: tuple[str, str] | None = None
    tools: Sequence[Mapping[str, Any]] | None = None
    tool_tag: str | None = None
    bare_calls: bool = True
    logit_bias: tuple[tuple[int, float], ...] = ()

    def parser(self, prompt: str) -> OutputParser:
        """The parser for the output of ``prompt`` (it may start inside a thinking block the prompt opened)."""
        return build_parser(
            thinking_tags=self.thinking_tags,
            prompt=prompt,
            tools=self.tools,
            tool_tag=self.tool_tag,
            bare_calls=self.bare_calls,
        )


def tool_tag(template: ChatTemplate) -> str:
    if isinstance(template, JinjaTemplate):
        return template.tool_call_tag()
    assert isinstance(template, Template)
    return infer_tool_tag(template)


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """A request's ``tool_choice`` read: ``mode`` "none", "auto" or "required" (a named function is "required"
    with ``name`` set)."""

    mode: str = "auto"
    name: str | None = None
    parallel: bool = True

    @classmethod
    def parse(cls, raw: Any, tools: Sequence[Mapping[str, Any]] | None, *, parallel: bool | None = None) -> ToolChoice:
        """``raw`` with ``parallel_tool_calls`` (None when the request leaves it out). Raises BadRequest for a
        value OpenAI does not define, and for a choice the tools cannot meet."""
        if raw is None:
            return cls(parallel=parallel is not False)
        if raw in ("none", "auto"):
            choice = cls(raw, parallel=parallel is not False)
        elif raw == "required":
            choice = cls(raw, parallel=parallel is True)
        elif isinstance(raw, Mapping) and isinstance(raw.get("function"), Mapping):
            name = raw["function"].get("name")
            if not isinstance(name, str) or not name:
                raise BadRequest("invalid tool_choice: the function has no name")
            choice = cls("required", name, parallel=False)
        else:
            raise BadRequest(f"invalid tool_choice: {raw!r} (must be none, auto, required or a named function)")
        if choice.mode == "required" and not tools:
            raise BadRequest("tool_choice requires tools, but the request has none")
        if choice.name is not None and choice.name not in _tool_names(tools or ()):
            raise BadRequest(f"tool_choice names the function {choice.name!r}, which is not among the tools")
        return choice

    def offered(self, tools: Sequence[Mapping[str, Any]] | None) -> Sequence[Mapping[str, Any]] | None:
        """The tools the model is shown: none at all for "none"."""
        return None if self.mode == "none" else tools

    def callable(self, tools: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
        """The tools a call may name."""
        if self.name is None:
            return tools
        return [t for t in tools if _tool_name(t) == self.name]


def _tool_name(tool: Mapping[str, Any]) -> str | None:
    fn = tool.get("function")
    name = fn.get("name") if isinstance(fn, Mapping) else None
    return name if isinstance(name, str) else None


def _tool_names(tools: Sequence[Mapping[str, Any]]) -> set[str]:
    return {n for n in (_tool_name(t) for t in tools) if n}


def plan(
    model: ModelView,
    req: InferenceRequest,
    think: Think,
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    after_tool_result: bool = False,
    tool_choice: ToolChoice | None = None,
) -> OutputPlan:
    """The output plan of ``req`` on ``model`` (``think`` as the use-case resolved it). Raises BadRequest for a
    ``format`` that is neither "json" nor a schema the grammar can enforce."""
    choice = tool_choice or ToolChoice()
    tools = choice.offered(tools)
    tags: tuple[str, str] | None = None
    if think.enabled:
        opening, closing = model.template.thinking_tags()
        if opening and closing:
            tags = (opening, closing)
    tag = tool_tag(model.template) if tools else None
    grammar: str | None = None
    triggers: tuple[str, ...] = ()
    schema = compile_format(req.format)
    if schema is not None:
        if tags is not None:
            lazy = lazy_format_grammar(schema, after=tags[1])
            grammar, triggers = lazy.gbnf, lazy.triggers
        else:
            grammar = schema
    elif tools and tag is not None and choice.mode == "required":
        single = not choice.parallel
        calls = tool_call_grammar(choice.callable(tools), tag=tag, bare=not after_tool_result, single=single).gbnf
        if tags is not None:
            lazy = lazy_format_grammar(calls, after=tags[1])
            grammar, triggers = lazy.gbnf, lazy.triggers
        else:
            grammar = calls
    elif tools and tag is not None:
        lazy = tool_call_grammar(tools, tag=tag, bare=not after_tool_result, single=not choice.parallel)
        grammar, triggers = lazy.gbnf, lazy.triggers
    return OutputPlan(
        grammar=grammar,
        triggers=triggers,
        # As Ollama: alternatives only come with ``logprobs`` itself.
        logprobs=bool(req.logprobs),
        top_logprobs=(req.top_logprobs or 0) if req.logprobs else 0,
        thinking_tags=tags,
        tools=(choice.callable(tools) if tools else None) or None,
        tool_tag=tag,
        bare_calls=not after_tool_result,
        logit_bias=logit_bias(req.logit_bias),
    )


def logit_bias(raw: Mapping[str, Any] | None) -> tuple[tuple[int, float], ...]:
    """``logit_bias`` as (token id, bias) pairs; -100 or less becomes minus infinity (the token is banned).
    Raises BadRequest for a key that is not a token id or a value that is not a number in [-100, 100]."""
    pairs = []
    for key, value in (raw or {}).items():
        if not key.isdigit():
            raise BadRequest(f"invalid logit_bias: {key!r} is not a token id")
        if isinstance(value, bool) or not isinstance(value, int | float) or not -100 <= value <= 100:
            raise BadRequest(f"invalid logit_bias: the bias of token {key} must be a number from -100 to 100")
        pairs.append((int(key), float("-inf") if value <= -100 else float(value)))
    return tuple(pairs)
