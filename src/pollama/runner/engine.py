"""The engine loop: one thread driving one llama.cpp context with continuous batching.

Each step admits waiting requests into free sequence slots (reusing the longest cached token prefix), builds a
single ``llama_batch`` holding one token for every decoding sequence plus the next prompt chunk of sequences
still in prefill (at most ``n_batch`` tokens in all), runs ``llama_decode`` once, samples every sequence that
got logits with its own sampler chain and streams the text. Frames produced by a step leave in one write.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable

import llama_cpp as ll

from pollama.errors import PROMPT_TOO_LONG
from pollama.runner import protocol as p
from pollama.runner.inflight import Active, Request
from pollama.runner.llama import Model
from pollama.runner.prompt_cache import MIB
from pollama.runner.reuse import PrefixReuse, Slot
from pollama.runner.sampling import SamplerChain, SamplingError, token_logprobs
from pollama.runner.textout import TextStream
from pollama.runner.types import Done, FailureKind

log = logging.getLogger("pollama.runner")

# Ollama aborts a generation stuck on one token (compared after trimming whitespace) after this many repeats.
MAX_TOKEN_REPEAT = 30


class Engine:
    """Owns the slots and the batch. ``submit``/``cancel``/``shutdown`` may be called from any thread; ``run``
    is the loop and must run on the one thread that uses the llama.cpp context."""

    def __init__(self, model: Model, send: Callable[[list[bytes]], None]) -> None:
        self.model = model
        self.num_ctx = model.spec.num_ctx
        self.n_batch = model.n_batch
        self._send = send
        self._inbox: queue.SimpleQueue[tuple[str, Request | int | None]] = queue.SimpleQueue()
        self._waiting: deque[Request] = deque()
        self._slots = [Slot(seq=i) for i in range(model.spec.num_parallel)]
        self._checkpoints: list[Slot] = []
        self.reuse = PrefixReuse(model, self._slots, model.spec.cache_ram * MIB, model.spec.cache_file)
        self._active: list[Active] = []
        self._out: list[bytes] = []
        self._clock = 0
        self._batch = ll.llama_batch_init(self.n_batch, 0, 1)
        b = self._batch
        # Structure field access builds a new pointer object each time; the arrays never move, so keep them.
        self._tok, self._pos, self._seq, self._logits = b.token, b.pos, b.seq_id, b.logits
        for i in range(self.n_batch):
            b.n_seq_id[i] = 1

    # called from other threads

    def submit(self, req: Request) -> None:
        self._inbox.put(("new", req))

    def cancel(self, req_id: int) -> None:
        self._inbox.put(("cancel", req_id))

    def shutdown(self) -> None:
        self._inbox.put(("stop", None))

    # the loop

    def run(self) -> None:
        try:
            self._loop()
        finally:
            # Keep what the slots and the host cache hold for the model's next runner.
            self.reuse.shutdown()

    def _loop(self) -> None:
        while True:
            if not self._active and not self._waiting:
                if self._inbox.empty():
                    self.reuse.save_idle()
                # Idle: block until a message arrives rather than spin.
                if not self._handle(*self._inbox.get()):
                    return
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if not self._handle(*item):
                    return
            self._admit()
            if self._active:
                self._step()
            if self._out:
                out, self._out = self._out, []
                self._send(out)
            if self._checkpoints:
                for slot in self._checkpoints:
                    self.reuse.checkpoint(slot)
                self._checkpoints.clear()

    def _handle(self, kind: str, arg: Request | int | None) -> bool:
        if kind == "new":
            assert isinstance(arg, Request)
            self._waiting.append(arg)
        elif kind == "cancel":
            for w in self._waiting:
                if w.id == arg:
                    self._waiting.remove(w)
                    break
            for a in self._active:
                if a.req.id == arg:
                    self._release(a)
                    break
        else:
            return False
        return True

    def _error(self, req_id: int, kind: FailureKind, message: str) -> None:
        err: p.ErrorMsg = {"op": "error", "id": req_id, "kind": kind, "message": message}
        self._out.append(p.encode(err))

    def _admit(self) -> None:
        while self._waiting:
            free = [s for s in self._slots if s.active is None]
            if not free:
                return
            req = self._waiting.popleft()
            prompt = req.tokens
            n_ctx = self.num_ctx
            if not prompt:
                self._error(req.id, "bad_request", "prompt is empty")
                continue
            keep = len(prompt) if req.num_keep < 0 else req.num_keep
            keep = max(0, min(keep, len(prompt), n_ctx - 2))
            can_shift = req.shift and self.model.can_shift and req.num_predict != -2
            # Like llama-server, a sequence never fills its last cell: the prompt plus at least one generated
            # token must fit in num_ctx.
            if len(prompt) >= n_ctx:
                if not req.shift:
                    self._error(req.id, "prompt_too_long", PROMPT_TOO_LONG)
                    continue
                # Keep the first `keep` tokens and the most recent half of the rest, as a context shift would.
                tail = (n_ctx - keep) // 2
                prompt = prompt[:keep] + prompt[len(prompt) - tail :]
            # The slot and the prefix it starts with (its own, another sequence's, or the host prompt cache's).
            # At least the last prompt token is evaluated again: sampling needs its logits.
            placement = self.reuse.place(prompt, free)
            slot, n_cached = placement.slot, placement.n_cached
            try:
                chain = SamplerChain(
                    self.model.vocab,
                    self.model.n_vocab,
                    req.sampling,
                    num_ctx=n_ctx,
                    history=prompt,
                    grammar=req.grammar,
                    triggers=req.grammar_triggers,
                    logprobs=req.logprobs,
                    logit_bias=req.logit_bias,
                )
            except SamplingError as e:
                self._error(req.id, "bad_request", str(e))
                continue
            limit = req.num_predict
            if limit == 0:
                chain.free()
                done = Done("length", len(prompt), 0, 0, 0, list(prompt), n_cached)
                self._out.append(p.encode(p.done_msg(req.id, done)))
                continue
            if limit == -1 or limit > 10 * n_ctx:
                limit = 10 * n_ctx
            elif limit < 0:
                limit = 1 << 62
            a = Active(
                req=req,
                slot=slot,
                prompt=prompt,
                chain=chain,
                text=TextStream(req.stop),
                limit=limit,
                keep=keep,
                shift=can_shift,
                n_cached=n_cached,
                prefill_pos=n_cached,
                t_start=time.perf_counter_ns(),
            )
            if placement.donor is not None:
                a.pending = placement
            elif n_cached == len(prompt) - 1:
                a.next_token = prompt[-1]
            slot.active = a
            self._active.append(a)

    def _adopt(self) -> None:
        """Give waiting prompts the prefix their donor sequence has finished evaluating."""
        for a in self._active:
            pl = a.pending
            if pl is None:
                continue
            n = self.reuse.adopt(a.slot, a.prompt, pl)
            if n is None:
                continue
            a.pending = None
            a.n_cached = a.prefill_pos = n
            if n == len(a.prompt) - 1:
                a.next_token = a.prompt[-1]

    def _step(self) -> None:
        if any(a.pending is not None for a in self._active):
            self._adopt()
        tok_p, pos_p, seq_p, logits_p = self._tok, self._pos, self._seq, self._logits
        n = 0
        members: list[Active] = []
        for a in self._active:
            if a.next_token >= 0:
                members.append(a)
                cache = a.slot.cache
                tok_p[n] = a.next_token
                pos_p[n] = len(cache)
                seq_p[n][0] = a.slot.seq
                logits_p[n] = 1
                cache.append(a.next_token)
                a.i_batch = n
                a.next_token = -1
                n += 1
            else:
                a.i_batch = -1
        for a in self._active:
            if n >= self.n_batch:
                break
            # The last prompt token is not part of prefill: it goes through the decode path on its own next
            # step. llama.cpp's CPU kernels give logits that differ visibly with the number of rows in a batch,
            # so this makes a cold prompt and a prompt served from the prefix cache (where only that token is
            # evaluated) produce the same output for the same seed.
            last = len(a.prompt) - 1
            start = a.prefill_pos
            if start >= last or a.pending is not None:
                continue
            end = min(last, start + self.n_batch - n)
            members.append(a)
            seq = a.slot.seq
            cache = a.slot.cache
            for i in range(start, end):
                tok = a.prompt[i]
                tok_p[n] = tok
                pos_p[n] = i
                seq_p[n][0] = seq
                logits_p[n] = 0
                n += 1
            cache.extend(a.prompt[start:end])
            a.prefill_pos = end
            if end == last:
                a.next_token = a.prompt[last]
        if n == 0:
            return
        self._batch.n_tokens = n
        rc = ll.llama_decode(self.model.ctx, self._batch)
        if rc != 0:
            self._decode_failed(rc, members)
            return
        ctx = self.model.ctx
        for a in list(self._active):
            if a.i_batch >= 0:
                if a.eval_count == 0:
                    # The whole prompt is in the KV now: a sliding-window model checkpoints it before generation
                    # moves the window on, so a later prompt extending this one can start from it (the same place
                    # its slot's own KV would let it start). Taken after this step's frames are sent, so the first
                    # token does not wait for it.
                    self._checkpoints.append(a.slot)
                tok = a.chain.sample(ctx, a.i_batch)
                if a.req.logprobs:
                    logits = a.chain.logits(ctx, a.i_batch)
                    entry = token_logprobs(logits, tok, a.req.top_logprobs, self.model.piece)
                    a.logprobs.append(entry.to_wire())
                self._on_token(a, tok)

    def _decode_failed(self, rc: int, members: list[Active]) -> None:
        log.error("llama_decode failed with %d", rc)
        for a in members:
            if a in self._active:
                ll.llama_memory_seq_rm(self.model.mem, a.slot.seq, -1, -1)
                self.reuse.dropped(a.slot)
                self._error(a.req.id, "failed", f"llama_decode failed ({rc})")
                self._release(a)

    def _on_token(self, a: Active, tok: int) -> None:
        if not a.t_first:
            a.t_first = time.perf_counter_ns()
        a.eval_count += 1
        if self.model.is_eog(tok):
            self._finish(a, "stop")
            return
        piece = self.model.piece(tok)
        trimmed = piece.strip()
        if trimmed == a.last_piece:
            a.repeats += 1
            if a.repeats > MAX_TOKEN_REPEAT:
                self._finish(a, "stop")
                return
        else:
            a.last_piece = trimmed
            a.repeats = 0
        a.generated.append(tok)
        text, stopped = a.text.push(piece)
        if text:
            self._chunk(a, text)
        if stopped:
            self._finish(a, "stop", flush=False)
        elif a.eval_count >= a.limit or (len(a.slot.cache) + 1 >= self.num_ctx and not self._shift(a)):
            self._finish(a, "length")
        else:
            a.next_token = tok

    def _chunk(self, a: Active, text: str) -> None:
        chunk: p.ChunkMsg = {"op": "chunk", "id": a.req.id, "text": text}
        if a.logprobs:
            chunk["logprobs"], a.logprobs = a.logprobs, []
        self._out.append(p.encode(chunk))

    def _shift(self, a: Active) -> bool:
        """Make room for one more token: keep the first ``keep`` tokens, drop the oldest half of the rest."""
        if not a.shift:
            return False
        cache = a.slot.cache
        n_past = len(cache)
        discard = (n_past - a.keep) // 2
        if discard <= 0:
            return False
        mem, seq = self.model.mem, a.slot.seq
        ll.llama_memory_seq_rm(mem, seq, a.keep, a.keep + discard)
        ll.llama_memory_seq_add(mem, seq, a.keep + discard, n_past, -discard)
        del cache[a.keep : a.keep + discard]
        self.reuse.shifted(a.slot, a.keep)
        log.debug("context shift on seq %d: kept %d, discarded %d", seq, a.keep, discard)
        return True

    def _finish(self, a: Active, reason: str, flush: bool = True) -> None:
        now = time.perf_counter_ns()
        rest = a.text.flush() if flush else ""
        if rest or a.logprobs:
            self._chunk(a, rest)
        t_first = a.t_first or now
        done = Done(
            done_reason=reason,
            prompt_eval_count=len(a.prompt),
            prompt_eval_duration=t_first - a.t_start,
            eval_count=a.eval_count,
            eval_duration=now - t_first,
            context=a.prompt + a.generated,
            cached_tokens=a.n_cached,
            stop_sequence=a.text.matched,
        )
        if self.reuse.enabled:
            # Ahead of the Done, so whoever waits for the Done finds the figures current.
            self._out.append(p.encode(p.cache_msg(self.reuse.stats())))
        self._out.append(p.encode(p.done_msg(a.req.id, done)))
        self._release(a)

    def _release(self, a: Active) -> None:
        a.chain.free()
        self._clock += 1
        a.slot.last_used = self._clock
        a.slot.active = None
        self._active.remove(a)
