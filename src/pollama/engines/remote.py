"""A remote model behind the ``Runner`` protocol: completions, tokenize and embeddings go to one of the model's
upstream replicas (OpenAI-compatible engines: vLLM, llama-server, ...), chosen by ``remote_routing``, with health
checks and failover.

pollama renders the prompt and parses tools and thinking itself, exactly as for a local model; the replica gets
the rendered prompt on ``/v1/completions`` (streamed) and the sampling options, stop strings, grammar and log
probability request in its engine's dialect (``remote_wire``).

Failures: a replica that cannot be reached, answers 5xx or breaks a stream is taken out of rotation until a
health check finds it answering again. A request whose replica fails before any text was streamed is retried
on another replica; one that fails after ends with ``RunnerStopped`` (Ollama's error line in a stream). A
request the replica refuses (4xx) is a ``BadRequest`` with the replica's message.

The configured models, and the loader that starts a ``RemoteRunner``, are ``remote_models``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable

import numpy as np

from pollama.engines.base import Runner
from pollama.engines.remote_client import ReplicaFailed, UpstreamClient, UpstreamFacts, UpstreamRejected
from pollama.engines.remote_config import RemoteModel
from pollama.engines.remote_routing import Replica, ReplicaSet, prefix_hashes
from pollama.engines.remote_wire import StreamState, completion_body
from pollama.errors import BadRequest, Failed, PromptTooLong, RunnerLoadFailed, RunnerStopped
from pollama.runner.embed_protocol import EmbedResult
from pollama.runner.types import Chunk, CompletionRequest, Done, LoadSpec, RunnerInfo

log = logging.getLogger("pollama.remote")


def _rejected(model: RemoteModel, err: UpstreamRejected) -> BadRequest:
    text = err.message.lower()
    if "context" in text and ("exceed" in text or "maximum" in text or "too long" in text):
        return PromptTooLong()
    return BadRequest(err.message)


class NoReplica(Failed):
    """Every replica of a remote model is down."""

    def __init__(self, model: RemoteModel) -> None:
        n = len(model.upstreams)
        super().__init__(
            f'no replica of remote model "{model.display_name}" is answering ({n} configured; see the server log)'
        )


class RemoteRunner:
    """A remote model's replicas, serving many concurrent requests; create with ``await start``."""

    def __init__(self, model: RemoteModel, facts: UpstreamFacts, spec: LoadSpec) -> None:
        self.model = model
        self.spec = spec
        self.replicas = ReplicaSet([Replica(u.url, u.parallel) for u in model.upstreams])
        self._clients = {
            id(r): UpstreamClient(u, model.engine, model.model, model.timeout, model.health_path)
            for r, u in zip(self.replicas.replicas, model.upstreams, strict=True)
        }
        n_ctx = spec.num_ctx or facts.n_ctx
        self.info = RunnerInfo(
            n_ctx_train=facts.n_ctx_train or n_ctx,
            n_vocab=facts.n_vocab,
            model_bytes=0,
            kv_bytes=0,
            n_ctx=n_ctx,
            n_parallel=model.capacity,
            can_shift=False,
        )
        self._alive = True
        self._tokenizer = model.engine != "openai"
        self._exit_callbacks: list[Callable[[Runner], None]] = []
        self._health: asyncio.Task[None] | None = None
        self._probing: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, model: RemoteModel, facts: UpstreamFacts, spec: LoadSpec) -> RemoteRunner:
        """Check every replica; at least one must answer.

        Raises:
            RunnerLoadFailed: no replica answers.
        """
        runner = cls(model, facts, spec)
        await runner.probe()
        if not runner.replicas.up():
            await runner.close()
            raise RunnerLoadFailed(NoReplica(model).message)
        runner._health = asyncio.create_task(runner._health_loop())
        return runner

    @property
    def alive(self) -> bool:
        return self._alive

    def client(self, replica: Replica) -> UpstreamClient:
        return self._clients[id(replica)]

    # health

    async def probe(self) -> None:
        """Health-check every replica at once, taking out those that fail and putting back those that answer.
        Concurrent callers share one round of checks."""
        if self._probing is None or self._probing.done():
            self._probing = asyncio.ensure_future(self._probe_all())
        await asyncio.shield(self._probing)

    async def _probe_all(self) -> None:
        await asyncio.gather(*(self._probe(r) for r in self.replicas.replicas))

    async def _probe(self, replica: Replica) -> None:
        try:
            await self.client(replica).health()
        except ReplicaFailed as err:
            self._fail(replica, str(err))
        else:
            if self.replicas.mark_up(replica):
                log.info("remote %s: replica %s is up", self.model.display_name, replica.url)

    def _fail(self, replica: Replica, reason: str) -> None:
        if self.replicas.mark_down(replica, reason):
            log.warning("remote %s: replica %s taken out: %s", self.model.display_name, replica.url, reason)

    async def _health_loop(self) -> None:
        while self._alive:
            await asyncio.sleep(self.model.health_interval)
            try:
                await self.probe()
            except Exception:
                log.exception("remote %s: health check failed", self.model.display_name)

    async def _pick(self, hashes: list[int], tried: list[Replica]) -> Replica:
        replica = self.replicas.pick(hashes, exclude=tried)
        if replica is None:
            # A replica may have come back since the last health check: look once before giving up.
            await self.probe()
            replica = self.replicas.pick(hashes, exclude=tried)
        if replica is None:
            raise NoReplica(self.model)
        return replica

    # requests

    async def completion(self, req: CompletionRequest) -> AsyncGenerator[Chunk | Done, None]:
        """Stream a completion from the replica routing picks, failing over while nothing was streamed."""
        if not self._alive:
            raise RunnerStopped()
        body = completion_body(
            self.model.engine, self.model.model, req, name=self.model.display_name, context=self.info.n_ctx
        )
        hashes = prefix_hashes(req.prompt)
        tried: list[Replica] = []
        while True:
            replica = await self._pick(hashes, tried)
            self.replicas.begin(replica, hashes)
            state = StreamState(top_logprobs=req.top_logprobs)
            streamed = False
            events = self.client(replica).completion(body)
            try:
                async for event in events:
                    chunk = state.feed(event)
                    if chunk is not None:
                        streamed = True
                        yield chunk
                yield state.done()
                return
            except ReplicaFailed as err:
                self._fail(replica, str(err))
                if streamed:
                    raise RunnerStopped() from None
                tried.append(replica)
            except UpstreamRejected as err:
                raise _rejected(self.model, err) from None
            finally:
                self.replicas.end(replica)
                await events.aclose()

    async def tokenize(self, text: str, add_special: bool = False) -> list[int]:
        if not self._tokenizer:
            # No tokenizer endpoint (a generic OpenAI server, or a gateway that does not route it): an estimate,
            # a token per 4 bytes, sizes the prompt for truncation; its ids are meaningless.
            return [0] * (len(text.encode("utf-8")) // 4 + 1)
        tried: list[Replica] = []
        while True:
            replica = await self._pick([], tried)
            try:
                return await self.client(replica).tokenize(text, add_special)
            except ReplicaFailed as err:
                self._fail(replica, str(err))
                tried.append(replica)
            except UpstreamRejected as err:
                if err.status in (404, 405, 501):
                    log.warning("remote %s: no /tokenize upstream; token counts are estimated", self.model.display_name)
                    self._tokenizer = False
                    return await self.tokenize(text, add_special)
                raise BadRequest(err.message) from None

    async def detokenize(self, tokens: list[int]) -> str:
        if not self._tokenizer:
            raise BadRequest(f'remote model "{self.model.display_name}" cannot detokenize (no tokenizer endpoint)')
        tried: list[Replica] = []
        while True:
            replica = await self._pick([], tried)
            try:
                return await self.client(replica).detokenize(tokens)
            except ReplicaFailed as err:
                self._fail(replica, str(err))
                tried.append(replica)
            except UpstreamRejected as err:
                raise BadRequest(err.message) from None

    async def embed(self, inputs: list[str], truncate: bool = True) -> EmbedResult:
        tried: list[Replica] = []
        while True:
            replica = await self._pick([], tried)
            self.replicas.begin(replica, [])
            try:
                rows, prompt_tokens = await self.client(replica).embeddings(inputs)
            except ReplicaFailed as err:
                self._fail(replica, str(err))
                tried.append(replica)
                continue
            except UpstreamRejected as err:
                raise _rejected(self.model, err) from None
            finally:
                self.replicas.end(replica)
            vectors = np.asarray(rows, dtype=np.float32).reshape(len(inputs), -1)
            # The engine counts the batch, not each input: the total goes on the first.
            counts = [prompt_tokens] + [0] * (len(inputs) - 1) if inputs else []
            return EmbedResult(vectors, counts)

    async def close(self) -> None:
        self._alive = False
        for task in (self._health, self._probing):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for client in self._clients.values():
            await client.aclose()
        callbacks, self._exit_callbacks = self._exit_callbacks, []
        for cb in callbacks:
            try:
                cb(self)
            except Exception:
                log.exception("runner exit callback failed")

    def add_exit_callback(self, cb: Callable[[Runner], None]) -> None:
        if not self._alive:
            cb(self)
        else:
            self._exit_callbacks.append(cb)
