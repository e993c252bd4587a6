"""Native response objects: what the use-cases yield, and the one place that knows Ollama's wire form of them.

Each type's ``to_wire`` gives the JSON object in Go's field order with Go's ``omitempty`` rules; durations are
nanoseconds. ``combine`` folds a streamed sequence into the single object a ``stream: false`` request gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, Self

from pollama.api.types import ToolCall


class WireResponse(Protocol):
    """Anything the HTTP edge can encode."""

    @property
    def whole(self) -> bool:
        """An answer complete in itself, sent as one JSON object even to a streaming client (Ollama does so for
        load, unload and render-only answers)."""
        ...

    def to_wire(self) -> dict[str, Any]: ...


def created_at(now: datetime | None = None) -> str:
    """RFC 3339 with nanosecond precision and trailing zeros trimmed, as Go's ``time.Time`` marshals UTC."""
    t = (now or datetime.now(UTC)).astimezone(UTC)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        base += "." + f"{t.microsecond:06d}".rstrip("0")
    return base + "Z"


def format_time(t: datetime) -> str:
    """RFC 3339 with the local offset, as Go marshals a ``time.Time`` read from the file system."""
    local = t.astimezone()
    base = local.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{local.microsecond:06d}".rstrip("0")
    if frac:
        base += "." + frac
    offset = local.strftime("%z")
    if offset in ("+0000", "-0000"):
        return base + "Z"
    return base + offset[:3] + ":" + offset[3:]


@dataclass(frozen=True, slots=True)
class Metrics:
    """Counts and nanosecond durations of one finished request (Go's ``api.Metrics``)."""

    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0

    def write(self, out: dict[str, Any]) -> None:
        for key in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.eval_count:
            out["eval_count"] = self.eval_count
        if self.eval_duration:
            out["eval_duration"] = self.eval_duration


@dataclass(frozen=True, slots=True)
class DebugInfo:
    """``_debug_info`` of a ``_debug_render_only`` request."""

    rendered_template: str

    def to_wire(self) -> dict[str, Any]:
        return {"rendered_template": self.rendered_template}


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """A token with its log probability (Go's ``api.TokenLogprob``); ``bytes`` are the token's raw bytes."""

    token: str
    logprob: float
    bytes: tuple[int, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"token": self.token, "logprob": self.logprob}
        if self.bytes:
            out["bytes"] = list(self.bytes)
        return out

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> TokenLogprob:
        return cls(d["token"], float(d["logprob"]), tuple(d.get("bytes") or ()))


@dataclass(frozen=True, slots=True)
class Logprob:
    """One generated token's entry in ``logprobs``, with the most likely alternatives when asked for."""

    token: TokenLogprob
    top_logprobs: tuple[TokenLogprob, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        out = self.token.to_wire()
        if self.top_logprobs:
            out["top_logprobs"] = [t.to_wire() for t in self.top_logprobs]
        return out

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Logprob:
        top = tuple(TokenLogprob.from_wire(t) for t in d.get("top_logprobs") or ())
        return cls(TokenLogprob.from_wire(d), top)


def _write_logprobs(out: dict[str, Any], logprobs: Sequence[Logprob]) -> None:
    if logprobs:
        out["logprobs"] = [lp.to_wire() for lp in logprobs]


@dataclass(slots=True)
class GenerateResponse:
    """One object of an ``/api/generate`` answer: a piece of text, or the final one with metrics."""

    model: str
    response: str = ""
    thinking: str = ""
    done: bool = False
    done_reason: str = ""
    context: list[int] | None = None
    metrics: Metrics | None = None
    debug_info: DebugInfo | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    logprobs: list[Logprob] = field(default_factory=list)
    whole: bool = False
    created_at: str = field(default_factory=created_at)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "created_at": self.created_at, "response": self.response}
        if self.thinking:
            out["thinking"] = self.thinking
        out["done"] = self.done
        if self.done_reason:
            out["done_reason"] = self.done_reason
        if self.context:
            out["context"] = self.context
        if self.metrics is not None:
            self.metrics.write(out)
        if self.tool_calls:
            out["tool_calls"] = [c.model_dump(exclude_none=True) for c in self.tool_calls]
        if self.debug_info is not None:
            out["_debug_info"] = self.debug_info.to_wire()
        _write_logprobs(out, self.logprobs)
        return out

    @classmethod
    def combine(cls, parts: Sequence[GenerateResponse]) -> GenerateResponse:
        last = parts[-1]
        if len(parts) == 1:
            return last
        return replace(
            last,
            response="".join(p.response for p in parts),
            thinking="".join(p.thinking for p in parts),
            tool_calls=[c for p in parts for c in p.tool_calls],
            logprobs=[lp for p in parts for lp in p.logprobs],
        )


@dataclass(slots=True)
class ChatMessage:
    """The assistant's message in a chat answer (a piece of it while streaming)."""

    role: str = "assistant"
    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.thinking:
            out["thinking"] = self.thinking
        if self.tool_calls:
            out["tool_calls"] = [c.model_dump(exclude_none=True) for c in self.tool_calls]
        return out


@dataclass(slots=True)
class ChatResponse:
    """One object of an ``/api/chat`` answer."""

    model: str
    message: ChatMessage = field(default_factory=ChatMessage)
    done: bool = False
    done_reason: str = ""
    metrics: Metrics | None = None
    debug_info: DebugInfo | None = None
    logprobs: list[Logprob] = field(default_factory=list)
    # Not on Ollama's wire: the stop string that ended the answer, for APIs that report it (Anthropic's).
    stop_sequence: str = ""
    whole: bool = False
    created_at: str = field(default_factory=created_at)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "created_at": self.created_at,
            "message": self.message.to_wire(),
            "done": self.done,
        }
        if self.done_reason:
            out["done_reason"] = self.done_reason
        if self.debug_info is not None:
            out["_debug_info"] = self.debug_info.to_wire()
        _write_logprobs(out, self.logprobs)
        if self.metrics is not None:
            self.metrics.write(out)
        return out

    @classmethod
    def combine(cls, parts: Sequence[ChatResponse]) -> ChatResponse:
        last = parts[-1]
        if len(parts) == 1:
            return last
        message = ChatMessage(
            role=last.message.role,
            content="".join(p.message.content for p in parts),
            thinking="".join(p.message.thinking for p in parts),
            tool_calls=[c for p in parts for c in p.message.tool_calls],
        )
        return replace(last, message=message, logprobs=[lp for p in parts for lp in p.logprobs])


@dataclass(frozen=True, slots=True)
class Progress:
    """A status line of create, pull or push (Go's ``api.ProgressResponse``)."""

    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0

    @property
    def whole(self) -> bool:
        return False

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.digest:
            out["digest"] = self.digest
        if self.total:
            out["total"] = self.total
        if self.completed:
            out["completed"] = self.completed
        return out

    @classmethod
    def combine(cls, parts: Sequence[Self]) -> Self:
        """Ollama's ``waitForStream``: a non-streamed progress request answers with its last object."""
        return parts[-1]
