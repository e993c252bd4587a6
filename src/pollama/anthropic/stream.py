"""Anthropic's streaming events from native chat chunks: ``message_start`` and a ``ping``, then each content
block opened, filled with deltas (``thinking_delta``, ``text_delta``, ``input_json_delta``) and closed in order,
then ``message_delta`` (stop reason, usage) and ``message_stop``."""

from __future__ import annotations

import json
from typing import Any

from pollama.anthropic.translate import stop_reason, tool_use_id
from pollama.api.responses import ChatResponse

Event = tuple[str, dict[str, Any]]


class StreamConverter:
    """Turns each native chunk into the events it adds; one converter per streamed message."""

    def __init__(self, msg_id: str, model: str, estimated_input_tokens: int) -> None:
        self.msg_id = msg_id
        self.model = model
        self.input_tokens = estimated_input_tokens
        self.started = False
        self.index = 0
        self.open: str | None = None  # the type of the block being filled, if any
        self.tool_use = False

    def process(self, chunk: ChatResponse) -> list[Event]:
        events: list[Event] = []
        if not self.started:
            self.started = True
            events += [("message_start", self._start()), ("ping", {"type": "ping"})]
        message = chunk.message
        if message.thinking:
            events += self._delta("thinking", {"type": "thinking_delta", "thinking": message.thinking})
        if message.content:
            events += self._delta("text", {"type": "text_delta", "text": message.content})
        for call in message.tool_calls:
            self.tool_use = True
            events += self._close()
            block = {"type": "tool_use", "id": tool_use_id(call.id), "name": call.function.name, "input": {}}
            arguments = json.dumps(call.function.arguments, ensure_ascii=False)
            events.append(
                ("content_block_start", {"type": "content_block_start", "index": self.index, "content_block": block})
            )
            events.append(self._delta_event({"type": "input_json_delta", "partial_json": arguments}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": self.index}))
            self.index += 1
        if chunk.done:
            events += self._close()
            metrics = chunk.metrics
            output_tokens = metrics.eval_count if metrics else 0
            if metrics and metrics.prompt_eval_count:
                self.input_tokens = metrics.prompt_eval_count
            delta = {
                "stop_reason": stop_reason(chunk.done_reason, self.tool_use, chunk.stop_sequence),
                "stop_sequence": chunk.stop_sequence or None,
            }
            usage = {"input_tokens": self.input_tokens, "output_tokens": output_tokens}
            events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
            events.append(("message_stop", {"type": "message_stop"}))
        return events

    def _start(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": self.msg_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": 0},
        }
        return {"type": "message_start", "message": message}

    def _delta(self, kind: str, delta: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        if self.open != kind:
            events += self._close()
            block: dict[str, Any] = {"type": kind, kind: ""}
            if kind == "thinking":
                block["signature"] = ""
            events.append(
                ("content_block_start", {"type": "content_block_start", "index": self.index, "content_block": block})
            )
            self.open = kind
        events.append(self._delta_event(delta))
        return events

    def _delta_event(self, delta: dict[str, Any]) -> Event:
        return ("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})

    def _close(self) -> list[Event]:
        if self.open is None:
            return []
        event: Event = ("content_block_stop", {"type": "content_block_stop", "index": self.index})
        self.open = None
        self.index += 1
        return [event]
