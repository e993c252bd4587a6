"""Wire protocol between the pollama server and a runner process.

Every message is a frame: a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (an object with
an ``op`` field). Requests carry an ``id`` chosen by the client; every reply names the ``id`` it answers, so
many requests share one connection.

client → runner: ``completion``, ``cancel``, ``tokenize``, ``count``, ``detokenize``
runner → client: ``ready`` (once, first), ``chunk``, ``done``, ``error``, ``tokens``, ``count``, ``text``, ``cache``
(the prompt cache's figures, after a completion ends)

A ``cancel`` applies to any request still in progress: a completion (also while its prompt is tokenized),
a ``tokenize`` or a ``count``; a cancelled request gets no further reply.

The runner writes all frames produced by one engine step with a single ``sendall``, so several tokens ready at
once cost one system call, while the first token is never delayed.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import asdict
from typing import Any, Literal, TypedDict

from pollama.api.options import SamplingOptions
from pollama.runner.types import CacheStats, CompletionRequest, Done, FailureKind, RunnerInfo

HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024


class CompletionMsg(TypedDict):
    op: Literal["completion"]
    id: int
    prompt: str
    sampling: dict[str, Any]
    num_predict: int
    stop: list[str]
    num_keep: int
    shift: bool
    grammar: str | None
    grammar_triggers: list[str]
    logprobs: bool
    top_logprobs: int
    # [token id, bias] pairs; a banned token's bias is the string "-inf" (JSON has no infinity).
    logit_bias: list[list[int | float | str]]


class CancelMsg(TypedDict):
    op: Literal["cancel"]
    id: int


class TokenizeMsg(TypedDict):
    op: Literal["tokenize"]
    id: int
    text: str
    add_special: bool


class CountRequestMsg(TypedDict):
    """Count ``text``'s tokens; with a ``limit``, counting may stop at any number above it."""

    op: Literal["count"]
    id: int
    text: str
    add_special: bool
    limit: int | None


class CountMsg(TypedDict):
    op: Literal["count"]
    id: int
    count: int


class DetokenizeMsg(TypedDict):
    op: Literal["detokenize"]
    id: int
    tokens: list[int]


class ReadyMsg(TypedDict):
    op: Literal["ready"]
    info: dict[str, Any]


class ChunkMsg(TypedDict, total=False):
    op: Literal["chunk"]
    id: int
    text: str
    # Each entry in the native API's wire form (``api.responses.Logprob.to_wire``).
    logprobs: list[dict[str, Any]]


class DoneMsg(TypedDict):
    op: Literal["done"]
    id: int
    done: dict[str, Any]


class ErrorMsg(TypedDict):
    op: Literal["error"]
    id: int
    kind: FailureKind
    message: str


class TokensMsg(TypedDict):
    op: Literal["tokens"]
    id: int
    tokens: list[int]


class TextMsg(TypedDict):
    op: Literal["text"]
    id: int
    text: str


class CacheMsg(TypedDict):
    op: Literal["cache"]
    stats: dict[str, int]


def encode(msg: Any) -> bytes:
    body = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    msg = json.loads(body)
    if not isinstance(msg, dict) or "op" not in msg:
        raise ValueError("malformed runner frame")
    return msg


def completion_msg(req_id: int, req: CompletionRequest) -> CompletionMsg:
    return {
        "op": "completion",
        "id": req_id,
        "prompt": req.prompt,
        "sampling": asdict(req.sampling),
        "num_predict": int(req.num_predict),
        "stop": [x for x in req.stop if x],
        "num_keep": int(req.num_keep),
        "shift": bool(req.shift),
        "grammar": req.grammar,
        "grammar_triggers": list(req.grammar_triggers),
        "logprobs": bool(req.logprobs),
        "top_logprobs": int(req.top_logprobs),
        "logit_bias": [[t, b if math.isfinite(b) else "-inf"] for t, b in req.logit_bias],
    }


def logit_bias_from_msg(pairs: list[list[Any]] | None) -> tuple[tuple[int, float], ...]:
    return tuple((int(t), float(b)) for t, b in pairs or ())


def sampling_from_msg(msg: dict[str, Any]) -> SamplingOptions:
    return SamplingOptions(**msg)


def done_msg(req_id: int, done: Done) -> DoneMsg:
    return {"op": "done", "id": req_id, "done": asdict(done)}


def done_from_msg(msg: dict[str, Any]) -> Done:
    return Done(**msg["done"])


def info_from_msg(msg: dict[str, Any]) -> RunnerInfo:
    return RunnerInfo(**msg)


def cache_msg(stats: CacheStats) -> CacheMsg:
    return {"op": "cache", "stats": asdict(stats)}


def cache_from_msg(msg: dict[str, Any]) -> CacheStats:
    return CacheStats(**msg["stats"])
