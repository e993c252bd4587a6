"""``/v1/chat/completions`` to and from the native chat: OpenAI's body to a ``ChatRequest`` (messages, sampling,
``response_format``, tools and ``tool_choice``, reasoning), and native ``ChatResponse`` objects to OpenAI's
``chat.completion`` and ``chat.completion.chunk`` objects.

Differences from Ollama's translation, on purpose: the text and image parts of one message stay one message
(Ollama splits each part into a message of its own); ``tool_choice`` is enforced; ``n`` gives several choices.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pollama.api.responses import ChatResponse, Logprob, Metrics
from pollama.api.types import ChatRequest, Message, ToolCall, ToolCallFunction
from pollama.errors import BadRequest
from pollama.openai.fields import (
    choices_count,
    include_usage,
    model_name,
    opt_bool,
    opt_dict,
    opt_int,
    sampling_options,
    wrong_type,
)

FINGERPRINT = "fp_ollama"
_DATA_URL = re.compile(r"data:(?:image/(?:jpeg|jpg|png|webp))?;base64,(.*)", re.DOTALL)
_EFFORT: dict[str, bool | str] = {"none": False, "minimal": "low", "xhigh": "max", "ultra": "max"}
_EFFORT |= {level: level for level in ("low", "medium", "high", "max")}


@dataclass(frozen=True, slots=True)
class ChatCall:
    """A decoded ``/v1/chat/completions`` request: the native request and what only the OpenAI layer uses."""

    request: ChatRequest
    n: int
    stream: bool
    include_usage: bool
    parallel_tool_calls: bool


def think_of(body: dict[str, Any]) -> bool | str | None:
    """``reasoning.effort`` or ``reasoning_effort`` as a native ``think`` value (Ollama's mapping)."""
    reasoning = opt_dict(body, "reasoning") or {}
    effort = reasoning.get("effort", body.get("reasoning_effort"))
    if effort is None:
        return None
    if not isinstance(effort, str) or effort not in _EFFORT:
        raise BadRequest(f"invalid reasoning value: {effort!r}")
    return _EFFORT[effort]


def image_of(part: dict[str, Any]) -> str:
    """The base64 payload of an ``image_url`` part (a ``data:`` URL only)."""
    ref = part.get("image_url")
    url = ref.get("url") if isinstance(ref, dict) else ref
    if not isinstance(url, str):
        raise BadRequest("invalid image input")
    if url.startswith(("http://", "https://")):
        raise BadRequest("image URLs are not currently supported, please use base64 encoded data instead")
    m = _DATA_URL.fullmatch(url)
    if m is None:
        raise BadRequest("invalid image input")
    try:
        base64.b64decode(m.group(1), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("invalid image input") from None
    return m.group(1)


def _content(raw: Any) -> tuple[str, list[str]]:
    if isinstance(raw, str):
        return raw, []
    if not isinstance(raw, list):
        raise BadRequest(f"invalid message content type: {'<nil>' if raw is None else type(raw).__name__}")
    texts: list[str] = []
    images: list[str] = []
    for part in raw:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            images.append(image_of(part))
        else:
            raise BadRequest(f"invalid message part type: {kind}")
    return "\n".join(texts), images


def _tool_calls(raw: Any) -> list[ToolCall]:
    if not isinstance(raw, list):
        raise wrong_type("tool_calls", raw, "array")
    calls = []
    for item in raw:
        fn = item.get("function") if isinstance(item, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise BadRequest("invalid tool call")
        args = fn.get("arguments") or "{}"
        try:
            parsed = json.loads(args) if isinstance(args, str) else args
        except json.JSONDecodeError:
            raise BadRequest("invalid tool call arguments") from None
        if not isinstance(parsed, dict):
            raise BadRequest("invalid tool call arguments")
        call_id = item.get("id") if isinstance(item.get("id"), str) else None
        calls.append(ToolCall(id=call_id, function=ToolCallFunction(name=fn["name"], arguments=parsed)))
    return calls


def messages_of(raw: Any) -> list[Message]:
    if not isinstance(raw, list):
        raise wrong_type("messages", raw, "array")
    if not raw:
        raise BadRequest("[] is too short - 'messages'")
    out: list[Message] = []
    names: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise BadRequest("invalid message: expected an object with a string 'role'")
        role = item["role"]
        if role == "developer":
            role = "system"
        msg = Message(role=role)
        calls = _tool_calls(item["tool_calls"]) if item.get("tool_calls") else []
        content = item.get("content")
        if content is not None or not calls:
            msg.content, images = _content(content)
            msg.images = images or None
        if calls:
            msg.tool_calls = calls
            names.update({c.id: c.function.name for c in calls if c.id})
        reasoning = item.get("reasoning") or item.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            msg.thinking = reasoning
        if role == "tool":
            call_id = item.get("tool_call_id")
            msg.tool_call_id = call_id if isinstance(call_id, str) else None
            name = item.get("name")
            msg.tool_name = name if isinstance(name, str) else names.get(msg.tool_call_id or "")
        out.append(msg)
    return out


def format_of(body: dict[str, Any]) -> Any:
    """``response_format`` as the native ``format``: "json", a JSON Schema, or None."""
    rf = opt_dict(body, "response_format")
    if rf is None:
        return None
    kind = rf.get("type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        spec = rf.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise BadRequest("response_format json_schema requires json_schema.schema, an object")
        return schema
    if kind in (None, "text"):
        return None
    raise BadRequest(f"invalid response_format type: {kind!r} (must be text, json_object or json_schema)")


def tools_of(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise wrong_type("tools", tools, "array of objects")
    for tool in tools:
        if tool.get("type", "function") != "function" or not isinstance(tool.get("function"), dict):
            raise BadRequest(f"unsupported tool type: {tool.get('type')!r} (only function tools are supported)")
    return tools or None


def decode_chat(body: dict[str, Any]) -> ChatCall:
    """OpenAI's request body as a native chat request, or BadRequest (OpenAI's field names in the message)."""
    model = model_name(body)
    messages = messages_of(body.get("messages"))
    max_tokens = opt_int(body, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = opt_int(body, "max_tokens")
    top = opt_int(body, "top_logprobs")
    logprobs = opt_bool(body, "logprobs")
    if top is not None and not 0 <= top <= 20:
        raise BadRequest("invalid value for 'top_logprobs': must be between 0 and 20")
    req = ChatRequest(
        model=model,
        messages=messages,
        stream=True,
        format=format_of(body),
        options=sampling_options(body, max_tokens=max_tokens),
        think=think_of(body),
        tools=tools_of(body),
        tool_choice=body.get("tool_choice"),
        parallel_tool_calls=opt_bool(body, "parallel_tool_calls"),
        logprobs=logprobs,
        top_logprobs=top,
        logit_bias=opt_dict(body, "logit_bias"),
    )
    return ChatCall(
        request=req,
        n=choices_count(body),
        stream=bool(opt_bool(body, "stream")),
        include_usage=include_usage(body),
        parallel_tool_calls=opt_bool(body, "parallel_tool_calls") is not False,
    )


def seeded(req: ChatRequest, i: int) -> ChatRequest:
    """The request of choice ``i`` of several: its own seed, derived from the request's when it has one."""
    opts = dict(req.options or {})
    if "seed" in opts:
        opts["seed"] = int(opts["seed"]) + i
    return req.model_copy(update={"options": opts})


def finish_reason(done_reason: str, has_calls: bool) -> str:
    if done_reason == "length":
        return "length"
    return "tool_calls" if has_calls else "stop"


def logprobs_json(logprobs: Sequence[Logprob]) -> list[dict[str, Any]]:
    return [
        {
            "token": lp.token.token,
            "logprob": lp.token.logprob,
            "bytes": list(lp.token.bytes) or list(lp.token.token.encode()),
            "top_logprobs": [
                {"token": t.token, "logprob": t.logprob, "bytes": list(t.bytes) or list(t.token.encode())}
                for t in lp.top_logprobs
            ],
        }
        for lp in logprobs
    ]


def tool_calls_json(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "index": i,
            "type": "function",
            "function": {"name": c.function.name, "arguments": json.dumps(c.function.arguments, ensure_ascii=False)},
        }
        for i, c in enumerate(calls)
    ]


def usage(metrics: Sequence[Metrics | None]) -> dict[str, int]:
    """Usage of a request's choices: the prompt counted once, every choice's completion tokens."""
    prompt = max((m.prompt_eval_count for m in metrics if m), default=0)
    completion = sum(m.eval_count for m in metrics if m)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def choice_json(index: int, resp: ChatResponse, call: ChatCall) -> dict[str, Any]:
    """One choice of a non-streamed answer, from the native responses of that choice combined."""
    calls = resp.message.tool_calls[:1] if not call.parallel_tool_calls else resp.message.tool_calls
    message: dict[str, Any] = {"role": "assistant", "content": resp.message.content}
    if resp.message.thinking:
        message["reasoning"] = resp.message.thinking
    if calls:
        message["tool_calls"] = tool_calls_json(calls)
    out: dict[str, Any] = {
        "index": index,
        "message": message,
        "finish_reason": finish_reason(resp.done_reason, bool(calls)),
    }
    if call.request.logprobs:
        out["logprobs"] = {"content": logprobs_json(resp.logprobs)}
    return out


def completion_json(
    cid: str, created: int, model: str, answers: Sequence[ChatResponse], call: ChatCall
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [choice_json(i, a, call) for i, a in enumerate(answers)],
        "usage": usage([a.metrics for a in answers]),
    }


class ChunkWriter:
    """The ``chat.completion.chunk`` objects of a streamed answer, from each choice's native responses in turn:
    the role in a choice's first delta, reasoning and content in deltas of their own, each tool call whole with
    its id and index, then the choice's finish chunk; the usage chunk when asked for."""

    def __init__(self, cid: str, created: int, model: str, call: ChatCall) -> None:
        self.cid, self.created, self.model, self.call = cid, created, model, call
        self._started: set[int] = set()
        self._calls: dict[int, int] = {}
        self._metrics: dict[int, Metrics | None] = {}

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "id": self.cid,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
            **extra,
        }

    def _delta(self, index: int, delta: dict[str, Any], resp: ChatResponse | None = None) -> dict[str, Any]:
        if index not in self._started:
            self._started.add(index)
            delta = {"role": "assistant", **delta}
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": None}
        if resp is not None and self.call.request.logprobs and resp.logprobs:
            choice["logprobs"] = {"content": logprobs_json(resp.logprobs)}
        return self._chunk([choice])

    def chunks(self, index: int, resp: ChatResponse) -> list[dict[str, Any]]:
        out = []
        msg = resp.message
        if msg.thinking:
            out.append(self._delta(index, {"content": "", "reasoning": msg.thinking}))
        calls = []
        for call in msg.tool_calls:
            seen = self._calls.get(index, 0)
            if seen and not self.call.parallel_tool_calls:
                continue
            self._calls[index] = seen + 1
            (entry,) = tool_calls_json([call])
            calls.append({**entry, "index": seen})
        if msg.content or calls or (index not in self._started and not msg.thinking and not resp.done):
            delta: dict[str, Any] = {"content": msg.content}
            if calls:
                delta["tool_calls"] = calls
            out.append(self._delta(index, delta, resp))
        if resp.done:
            self._metrics[index] = resp.metrics
            if index not in self._started:
                out.append(self._delta(index, {"content": ""}))
            reason = finish_reason(resp.done_reason, bool(self._calls.get(index)))
            out.append(self._chunk([{"index": index, "delta": {}, "finish_reason": reason}]))
        return out

    def usage_chunk(self) -> dict[str, Any]:
        return self._chunk([], usage=usage(list(self._metrics.values())))
