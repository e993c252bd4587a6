"""A scripted ``Runner`` for in-process HTTP tests: no model, no subprocess, no llama_cpp.

The fake model answers with ``FakeEngine.reply(prompt)`` (by default it repeats the prompt), one word per
chunk, and honours ``stop`` and ``num_predict`` as a real runner does. Its tokenizer maps each character to its
code point, so token counts are character counts and ``detokenize`` inverts ``tokenize`` exactly.

``FakeEngine.load`` is the loader the scheduler is given. The engine records every ``LoadSpec`` and
``CompletionRequest`` it receives, and a test steers it: refuse a request, die after some chunks, or hold a
load or a completion until an event is set.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

from pollama.api.responses import Logprob, TokenLogprob
from pollama.engines.base import Chunk, CompletionRequest, Done, LoadSpec, Runner, RunnerInfo
from pollama.errors import PollamaError, RunnerStopped

N_CTX_TRAIN = 8192
MODEL_BYTES = 1_000_000
KV_BYTES_PER_TOKEN = 10
PROMPT_NS_PER_TOKEN = 1_000
EVAL_NS_PER_TOKEN = 2_000

_WORD = re.compile(r"\s*\S+|\s+")


def words(text: str) -> list[str]:
    """The chunks the fake streams for ``text``: each word with the whitespace before it."""
    return _WORD.findall(text)


def echo(prompt: str) -> str:
    return prompt


def script(reply: str, req: CompletionRequest) -> tuple[list[str], str, str]:
    """The chunks a real runner would stream for ``reply`` under ``req``'s stop strings and limit, why it ends,
    and the stop string that ended it (if one did)."""
    reason = "stop"
    found = [(i, s) for s in req.stop if s and (i := reply.find(s)) >= 0]
    cut, matched = min(found) if found else (-1, "")
    if cut >= 0:
        reply = reply[:cut]
    pieces = words(reply)
    if req.num_predict >= 0 and len(pieces) > req.num_predict:
        pieces, reason, matched = pieces[: req.num_predict], "length", ""
    return pieces, reason, matched


def fake_logprobs(piece: str, req: CompletionRequest) -> list[Logprob]:
    """One entry for the chunk (the fake samples a word as one token): log probability -i/10 for the i-th
    alternative, the chosen word first."""
    top = tuple(TokenLogprob(piece if i == 0 else f"alt{i}", -i / 10, tuple(piece.encode()) if i == 0 else ())
                for i in range(req.top_logprobs))  # fmt: skip
    return [Logprob(TokenLogprob(piece, 0.0, tuple(piece.encode())), top)]


class FakeEngine:
    """Makes ``FakeRunner``s for the scheduler and decides how they behave."""

    def __init__(self) -> None:
        self.reply: Callable[[str], str] = echo
        self.fail: PollamaError | None = None
        """Raised by every completion before its first chunk."""
        self.die_after: int | None = None
        """Chunks a completion streams before its runner dies."""
        self.load_gate: asyncio.Event | None = None
        self.completion_gate: asyncio.Event | None = None
        self.loading = asyncio.Event()
        self.runners: list[FakeRunner] = []
        self.requests: list[CompletionRequest] = []
        self._arrived = asyncio.Condition()

    @property
    def specs(self) -> list[LoadSpec]:
        return [r.spec for r in self.runners]

    async def wait_for_requests(self, n: int) -> None:
        """Return once ``n`` completions have reached the runners."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= n)

    async def record(self, req: CompletionRequest) -> None:
        async with self._arrived:
            self.requests.append(req)
            self._arrived.notify_all()

    async def load(self, spec: LoadSpec) -> Runner:
        self.loading.set()
        if self.load_gate is not None:
            await self.load_gate.wait()
        runner = FakeRunner(spec, self)
        self.runners.append(runner)
        return runner


class FakeRunner:
    """One "loaded model"; implements ``pollama.engines.base.Runner``."""

    def __init__(self, spec: LoadSpec, engine: FakeEngine) -> None:
        self.spec = spec
        self.closed = False
        self._engine = engine
        self._alive = True
        self.stopped = asyncio.Event()
        self._callbacks: list[Callable[[Runner], None]] = []

    @property
    def info(self) -> RunnerInfo:
        n_ctx = self.spec.num_ctx * self.spec.num_parallel
        return RunnerInfo(
            n_ctx_train=N_CTX_TRAIN,
            n_vocab=0x110000,
            model_bytes=MODEL_BYTES,
            kv_bytes=KV_BYTES_PER_TOKEN * n_ctx,
            n_ctx=n_ctx,
            n_parallel=self.spec.num_parallel,
            can_shift=True,
        )

    @property
    def alive(self) -> bool:
        return self._alive

    async def completion(self, req: CompletionRequest) -> AsyncIterator[Chunk | Done]:
        engine = self._engine
        await engine.record(req)
        if engine.fail is not None:
            raise engine.fail
        if engine.completion_gate is not None:
            await self._hold(engine.completion_gate)
        if not self._alive:
            raise RunnerStopped()
        pieces, reason, matched = script(engine.reply(req.prompt), req)
        for i, piece in enumerate(pieces):
            if engine.die_after is not None and i == engine.die_after:
                self.die()
                raise RunnerStopped()
            yield Chunk(piece, fake_logprobs(piece, req) if req.logprobs else [])
        prompt_tokens = await self.tokenize(req.prompt)
        output = "".join(pieces)
        yield Done(
            done_reason=reason,
            prompt_eval_count=len(prompt_tokens),
            prompt_eval_duration=PROMPT_NS_PER_TOKEN * len(prompt_tokens),
            eval_count=len(pieces),
            eval_duration=EVAL_NS_PER_TOKEN * len(pieces),
            context=prompt_tokens + await self.tokenize(output),
            cached_tokens=0,
            stop_sequence=matched,
        )

    async def _hold(self, gate: asyncio.Event) -> None:
        """Wait for ``gate``; a runner that stops meanwhile fails the request, as a dead process would."""
        waits = {asyncio.ensure_future(gate.wait()), asyncio.ensure_future(self.stopped.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        if not self._alive:
            raise RunnerStopped()

    async def tokenize(self, text: str, add_special: bool = False) -> list[int]:
        return [ord(c) for c in text]

    async def detokenize(self, tokens: list[int]) -> str:
        return "".join(chr(t) for t in tokens)

    async def close(self) -> None:
        self.closed = True
        self.die()

    def die(self) -> None:
        """Stop as a crashed process does: requests in flight fail, exit callbacks run once."""
        if not self._alive:
            return
        self._alive = False
        self.stopped.set()
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)

    def add_exit_callback(self, cb: Callable[[Runner], None]) -> None:
        if self._alive:
            self._callbacks.append(cb)
        else:
            cb(self)
