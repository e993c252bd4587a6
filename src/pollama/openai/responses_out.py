"""Native chat answers as OpenAI Responses: the ``response`` object, and the SSE event sequence of a stream.

Output items are a ``reasoning`` item when the model thought, then either ``function_call`` items (arguments
as a JSON string) or one ``message`` with an ``output_text`` part, as Ollama builds them. Every stream event
carries ``type`` and an increasing ``sequence_number``, as OpenAI's do.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from pollama.api.responses import ChatResponse, Metrics
from pollama.api.types import ToolCall
from pollama.openai.responses import ResponsesRequest


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


@dataclass(slots=True)
class Echo:
    """What a response repeats of its request, and its identity."""

    request: ResponsesRequest
    id: str = field(default_factory=lambda: new_id("resp"))
    created_at: int = field(default_factory=lambda: int(time.time()))

    def response(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: dict[str, Any] | None = None,
        incomplete: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        r = self.request
        finished = status in ("completed", "incomplete", "failed")
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "completed_at": int(time.time()) if status == "completed" else None,
            "status": status,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "model": r.model or "",
            "previous_response_id": None,
            "instructions": r.instructions or None,
            "output": output,
            "error": error,
            "tools": [_echo_tool(t) for t in r.tools or []],
            "tool_choice": r.tool_choice if r.tool_choice is not None else "auto",
            "truncation": r.truncation or "disabled",
            "parallel_tool_calls": True if r.parallel_tool_calls is None else r.parallel_tool_calls,
            "text": {"format": _echo_format(r.text)},
            "top_p": 1.0 if r.top_p is None else r.top_p,
            "presence_penalty": 0,
            "frequency_penalty": 0,
            "top_logprobs": 0,
            "temperature": 1.0 if r.temperature is None else r.temperature,
            "reasoning": _echo_reasoning(r.reasoning),
            "usage": usage if finished else None,
            "max_output_tokens": r.max_output_tokens,
            "max_tool_calls": None,
            "store": False,
            "background": False,
            "service_tier": "default",
            "metadata": r.metadata or {},
            "safety_identifier": None,
            "prompt_cache_key": None,
        }


def _echo_tool(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": t.get("type"),
        "name": t.get("name"),
        "description": t.get("description"),
        "parameters": t.get("parameters"),
        "strict": t.get("strict"),
    }


def _echo_format(text: dict[str, Any] | None) -> dict[str, Any]:
    fmt = (text or {}).get("format")
    return dict(fmt) if isinstance(fmt, dict) else {"type": "text"}


def _echo_reasoning(reasoning: dict[str, Any] | None) -> dict[str, Any] | None:
    if not reasoning:
        return None
    return {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}


def usage_of(metrics: Metrics | None) -> dict[str, Any]:
    m = metrics or Metrics()
    return {
        "input_tokens": m.prompt_eval_count,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": m.eval_count,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": m.prompt_eval_count + m.eval_count,
    }


def status_of_done(done_reason: str) -> tuple[str, str | None]:
    """The response's status and incomplete reason: a generation cut by ``max_output_tokens`` is incomplete."""
    if done_reason == "length":
        return "incomplete", "max_output_tokens"
    return "completed", None


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [text_part(text)] if status == "completed" else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def reasoning_item(item_id: str, thinking: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": thinking}],
        # Ollama hands the thinking back here so a client that replays this item replays the thinking.
        "encrypted_content": thinking,
    }


def call_item(item_id: str, call: ToolCall, status: str = "completed") -> dict[str, Any]:
    arguments = json.dumps(call.function.arguments, ensure_ascii=False) if status == "completed" else ""
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call.id or "",
        "name": call.function.name,
        "arguments": arguments,
    }


def to_response(echo: Echo, answer: ChatResponse) -> dict[str, Any]:
    """The non-streamed ``response`` object of a whole (combined) native answer."""
    output: list[dict[str, Any]] = []
    message = answer.message
    if message.thinking:
        output.append(reasoning_item(new_id("rs"), message.thinking))
    # Text said before the calls is kept, as a stream shows it; without calls the message is always there.
    if message.content or not message.tool_calls:
        output.append(message_item(new_id("msg"), message.content))
    output += [call_item(new_id("fc"), call) for call in message.tool_calls]
    status, incomplete = status_of_done(answer.done_reason)
    return echo.response(status, output, usage_of(answer.metrics), incomplete)


class StreamConverter:
    """Native chat chunks in, Responses stream events (name, payload) out, with OpenAI's sequence numbers.

    Reasoning opens an item that closes when text or calls begin; text opens one message item with one
    ``output_text`` part; each tool call is a complete ``function_call`` item (the native parser yields whole
    calls, so its arguments come in one delta). Once a call has been sent, later text is not an answer.
    """

    def __init__(self, echo: Echo) -> None:
        self.echo = echo
        self.seq = 0
        self.output: list[dict[str, Any]] = []
        self.reasoning_id = ""
        self.thinking = ""
        self.message_id = ""
        self.text = ""
        self.calls_sent = False

    def event(self, kind: str, /, **data: Any) -> tuple[str, dict[str, Any]]:
        payload = {"type": kind, "sequence_number": self.seq, **data}
        self.seq += 1
        return kind, payload

    def start(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            self.event("response.created", response=self.echo.response("in_progress", [])),
            self.event("response.in_progress", response=self.echo.response("in_progress", [])),
        ]

    def process(self, chunk: ChatResponse) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = []
        message = chunk.message
        if message.thinking:
            events += self._thinking(message.thinking)
        if message.tool_calls:
            events += self._finish_reasoning()
            events += self._finish_message()
            for call in message.tool_calls:
                events += self._call(call)
            self.calls_sent = True
        elif message.content and not self.calls_sent:
            events += self._text(message.content)
        if chunk.done:
            events += self._finish_reasoning()
            events += self._finish_message()
            status, incomplete = status_of_done(chunk.done_reason)
            final = self.echo.response(status, self.output, usage_of(chunk.metrics), incomplete)
            events.append(self.event(f"response.{status}", response=final))
        return events

    def fail(self, message: str) -> tuple[str, dict[str, Any]]:
        """The last event of a stream whose generation failed after it started."""
        error = {"code": "server_error", "message": message}
        return self.event("response.failed", response=self.echo.response("failed", self.output, error=error))

    def _index(self) -> int:
        return len(self.output)

    def _thinking(self, delta: str) -> list[tuple[str, dict[str, Any]]]:
        events = []
        if not self.reasoning_id:
            self.reasoning_id = new_id("rs")
            item = {"id": self.reasoning_id, "type": "reasoning", "summary": []}
            part = {"type": "summary_text", "text": ""}
            events.append(self.event("response.output_item.added", output_index=self._index(), item=item))
            events.append(
                self.event(
                    "response.reasoning_summary_part.added",
                    item_id=self.reasoning_id,
                    output_index=self._index(),
                    summary_index=0,
                    part=part,
                )
            )
        self.thinking += delta
        events.append(
            self.event(
                "response.reasoning_summary_text.delta",
                item_id=self.reasoning_id,
                output_index=self._index(),
                summary_index=0,
                delta=delta,
            )
        )
        return events

    def _finish_reasoning(self) -> list[tuple[str, dict[str, Any]]]:
        if not self.reasoning_id:
            return []
        item_id, text, index = self.reasoning_id, self.thinking, self._index()
        item = reasoning_item(item_id, text)
        self.output.append(item)
        self.reasoning_id, self.thinking = "", ""
        common = {"item_id": item_id, "output_index": index, "summary_index": 0}
        return [
            self.event("response.reasoning_summary_text.done", **common, text=text),
            self.event("response.reasoning_summary_part.done", **common, part={"type": "summary_text", "text": text}),
            self.event("response.output_item.done", output_index=index, item=item),
        ]

    def _text(self, delta: str) -> list[tuple[str, dict[str, Any]]]:
        events = self._finish_reasoning()
        index = self._index()
        if not self.message_id:
            self.message_id = new_id("msg")
            item = message_item(self.message_id, "", status="in_progress")
            events.append(self.event("response.output_item.added", output_index=index, item=item))
            events.append(
                self.event(
                    "response.content_part.added",
                    item_id=self.message_id,
                    output_index=index,
                    content_index=0,
                    part=text_part(""),
                )
            )
        self.text += delta
        events.append(
            self.event(
                "response.output_text.delta",
                item_id=self.message_id,
                output_index=index,
                content_index=0,
                delta=delta,
                logprobs=[],
            )
        )
        return events

    def _finish_message(self) -> list[tuple[str, dict[str, Any]]]:
        if not self.message_id:
            return []
        item_id, text, index = self.message_id, self.text, self._index()
        item = message_item(item_id, text)
        self.output.append(item)
        self.message_id, self.text = "", ""
        common = {"item_id": item_id, "output_index": index, "content_index": 0}
        return [
            self.event("response.output_text.done", **common, text=text, logprobs=[]),
            self.event("response.content_part.done", **common, part=text_part(text)),
            self.event("response.output_item.done", output_index=index, item=item),
        ]

    def _call(self, call: ToolCall) -> list[tuple[str, dict[str, Any]]]:
        item_id, index = new_id("fc"), self._index()
        done = call_item(item_id, call)
        self.output.append(done)
        common = {"item_id": item_id, "output_index": index}
        return [
            self.event("response.output_item.added", output_index=index, item=call_item(item_id, call, "in_progress")),
            self.event("response.function_call_arguments.delta", **common, delta=done["arguments"]),
            self.event(
                "response.function_call_arguments.done", **common, name=call.function.name, arguments=done["arguments"]
            ),
            self.event("response.output_item.done", output_index=index, item=done),
        ]
