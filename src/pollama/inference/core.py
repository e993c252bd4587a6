"""The one inference path under ``generate`` and ``chat``: find the model, hold a runner slot, run a completion
through an output parser, and account for the time it took.

A use-case validates its request and plans its output (``inference.output``), then opens a ``Session``
(scheduling the runner) and calls ``complete`` with the prompt it built; ``complete`` yields ``Piece`` objects
(what the parser made of the text, with the tokens' log probabilities) and one final ``Finished`` with the
metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from pollama.api.options import Options, parse_keep_alive
from pollama.api.responses import Metrics
from pollama.api.types import InferenceRequest, Think
from pollama.engines.base import CompletionRequest, CountsTokens, Done, LoadSpec, Runner
from pollama.errors import BadRequest, ModelNotFound, Unsupported
from pollama.inference.output import OutputPlan
from pollama.metrics import ServerMetrics
from pollama.models import ModelView, remote_view, resolve
from pollama.output import Piece
from pollama.scheduler import Lease
from pollama.services import Services


def read_common(req: InferenceRequest) -> tuple[float | None, Think]:
    """``keep_alive`` and ``think``, the fields generate and chat share, checked in Ollama's order."""
    keep_alive = parse_keep_alive(req.keep_alive)
    think = Think.parse(req.think)
    if req.top_logprobs is not None and not 0 <= req.top_logprobs <= 20:
        raise BadRequest("top_logprobs must be between 0 and 20")
    return keep_alive, think


def check_think(model: ModelView, think: Think, requested: str) -> Think:
    """A thinking model thinks unless told not to; any other model refuses ``think``."""
    if "thinking" in model.capabilities:
        return think if think.is_set else Think(True)
    if think.enabled:
        raise Unsupported(f'"{requested}" does not support thinking')
    return think


async def find_model(svc: Services, requested: str) -> ModelView:
    """The stored model by name; its GGUF header is read off the event loop."""
    if not requested:
        raise ModelNotFound(requested)
    remote = svc.remotes.find(requested)
    if remote is not None:
        facts = await svc.remotes.facts(remote)
        return remote_view(svc.remotes.record(remote), remote, facts)
    return await asyncio.to_thread(resolve, svc.store, requested)


async def unload(svc: Services, model: ModelView) -> None:
    await svc.scheduler.expire(model.runner_key)


def _num_predict(opts: Options) -> int:
    num_predict = opts.num_predict
    if (num_predict < 0 and num_predict != -2) or num_predict > 10 * opts.runner.num_ctx:
        num_predict = 10 * opts.runner.num_ctx
    return num_predict


@dataclass(frozen=True, slots=True)
class Finished:
    """The end of a completion: why it stopped, its metrics, and the raw text the runner produced."""

    done_reason: str
    metrics: Metrics
    text: str
    stop_sequence: str = ""


class Session:
    """One request's hold on a runner slot, from scheduling to release."""

    def __init__(self, lease: Lease, start: int, metrics: ServerMetrics) -> None:
        self._lease = lease
        self._start = start
        self._server_metrics = metrics
        self.runner: Runner = lease.runner

    async def count_tokens(self, text: str, limit: int | None = None) -> int:
        """``text``'s token count; past ``limit`` it may be any number above it (the runner stops counting)."""
        if isinstance(self.runner, CountsTokens):
            return await self.runner.count_tokens(text, limit)
        return len(await self.runner.tokenize(text))

    def fit_counter(self, num_ctx: int) -> Callable[[str], Awaitable[int]]:
        """A token counter for prompt truncation, which only asks whether a text fits ``num_ctx``."""

        async def counter(text: str) -> int:
            return await self.count_tokens(text, num_ctx)

        return counter

    async def complete(
        self,
        prompt: str,
        opts: Options,
        *,
        shift: bool | None,
        plan: OutputPlan | None = None,
    ) -> AsyncIterator[Piece | Finished]:
        """Run one completion of ``prompt``: non-empty pieces as the text streams, then ``Finished``."""
        plan = plan or OutputPlan()
        parser = plan.parser(prompt)
        req = CompletionRequest(
            prompt=prompt,
            sampling=opts.sampling,
            num_predict=_num_predict(opts),
            stop=list(opts.stop),
            num_keep=opts.num_keep,
            shift=shift is None or shift,
            grammar=plan.grammar,
            grammar_triggers=plan.triggers,
            logprobs=plan.logprobs,
            top_logprobs=plan.top_logprobs,
            logit_bias=plan.logit_bias,
        )
        output: list[str] = []
        timer = self._server_metrics.completion(self._lease.loaded.name, self._start, self._lease.load_duration)
        stream = self.runner.completion(req)
        try:
            async for item in stream:
                if isinstance(item, Done):
                    timer.done(item.prompt_eval_count, item.eval_count)
                    if rest := parser.flush():
                        yield rest
                    yield Finished(item.done_reason, self._metrics(item), "".join(output), item.stop_sequence)
                    return
                output.append(item.text)
                if item.text:
                    timer.token()
                piece = parser.feed(item.text)
                piece.logprobs = item.logprobs
                if piece:
                    yield piece
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    def _metrics(self, done: Done) -> Metrics:
        return Metrics(
            total_duration=time.monotonic_ns() - self._start,
            load_duration=self._lease.load_duration,
            prompt_eval_count=done.prompt_eval_count,
            prompt_eval_duration=done.prompt_eval_duration,
            eval_count=done.eval_count,
            eval_duration=done.eval_duration,
        )


@contextlib.asynccontextmanager
async def session(
    svc: Services, model: ModelView, opts: Options, keep_alive: float | None, start: int
) -> AsyncIterator[Session]:
    """Schedule a runner for ``model`` loaded with ``opts`` and hold one of its slots until the block ends."""
    if model.remote is not None:
        # Load options do not apply to a remote engine: one spec per model, so no request reloads it. Its slots
        # are the replicas' together, so the queue limit counts across them.
        spec = LoadSpec(
            model_path=model.runner_key,
            num_ctx=model.n_ctx_train,
            num_parallel=model.remote.capacity,
            load_timeout=svc.settings.load_timeout,
        )
    else:
        spec = LoadSpec(
            model_path=str(model.model_path),
            num_ctx=opts.runner.num_ctx,
            num_parallel=svc.settings.num_parallel,
            num_batch=opts.runner.num_batch,
            # Ollama passes a positive num_thread to llama.cpp and lets it decide otherwise; OLLAMA_NUM_THREADS
            # (pollama's) is the server's choice where the request and the model leave it unset.
            num_thread=opts.runner.num_thread if opts.runner.num_thread > 0 else svc.settings.num_threads,
            use_mmap=opts.runner.use_mmap,
            flash_attention=svc.settings.flash_attention,
            kv_cache_type=svc.settings.kv_cache_type,
            load_timeout=svc.settings.load_timeout,
            cache_ram=svc.settings.cache_ram,
        )
    lease = await svc.scheduler.acquire(model.runner_key, model.name.display_shortest(), spec, keep_alive, model.record)
    try:
        yield Session(lease, start, svc.metrics)
    finally:
        lease.release()
