"""The embedding engine: one llama.cpp context with embeddings on, driven by its own thread, batching inputs.

Every input of every request waiting is a sequence; each step packs as many whole sequences as fit in one
``llama_batch`` (at most ``n_batch`` tokens and ``max_seqs`` sequences, first come first served), runs
``llama_decode`` once and reads each sequence's pooled vector with ``llama_get_embeddings_seq``. So the inputs
of one request and those of concurrent requests share decode calls. The context keeps nothing between steps.

Pooling is the GGUF's (mean, CLS, last, or none, where the last token's output is the vector); a model without
a pooling type (a completion model) is pooled on its last token, as Ollama's runner reads it. The batch is at
least ``num_ctx`` tokens, so any input that fits the context fits one ubatch (non-causal models need that).
"""

from __future__ import annotations

import ctypes
import logging
import queue
import threading
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import llama_cpp as ll

from pollama.runner import protocol as p
from pollama.runner.embed_protocol import INPUT_TOO_LONG, EmbeddingsMsg, embeddings_body
from pollama.runner.llama import Model, physical_cores
from pollama.runner.tokenizing import fitted_head

log = logging.getLogger("pollama.runner")

MAX_SEQS = 64
"""Sequences per decode: enough for a 32-input request and a few concurrent ones of short texts."""

SMALL_BATCH = 48
"""Batches of at most this many tokens are decoded on one thread. llama.cpp's CPU backend runs a graph on an
OpenMP team whose barriers cost more than such a batch's arithmetic: measured on 2 cores, one short input took
1.5 ms on 2 threads and 3 ms on one when the cores were idle, but 1-2 s on 2 threads when other processes kept
the cores busy (a descheduled team member stalls every barrier), never on one."""


class InputTooLong(ValueError):
    def __init__(self) -> None:
        super().__init__(INPUT_TOO_LONG)


def pooling_of(model: Model) -> int:
    """The GGUF's ``<arch>.pooling_type``, or -1 when it has none (not an embedding model)."""
    buf = ctypes.create_string_buffer(64)
    n = ll.llama_model_meta_val_str(model.model, b"general.architecture", buf, 64)
    arch = buf.value.decode() if n > 0 else ""
    key = f"{arch}.pooling_type".encode()
    n = ll.llama_model_meta_val_str(model.model, key, buf, 64)
    if n < 0:
        return -1
    try:
        return int(buf.value.decode())
    except ValueError:
        return -1


def fit_tokens(tokens: list[int], limit: int, truncate: bool, keep_last: bool) -> list[int]:
    """``tokens`` cut to ``limit`` (keeping a trailing separator/EOS the tokenizer added), or InputTooLong."""
    if len(tokens) <= limit:
        return tokens
    if not truncate:
        raise InputTooLong()
    if keep_last and limit >= 2:
        return tokens[: limit - 1] + tokens[-1:]
    return tokens[:limit]


@dataclass(eq=False)
class Job:
    """One ``embed`` request: its tokenized inputs and the rows filled in as their sequences finish."""

    id: int
    inputs: list[list[int]]
    rows: list[bytes | None] = field(default_factory=list)
    left: int = 0
    failed: bool = False

    def __post_init__(self) -> None:
        self.rows = [None] * len(self.inputs)
        self.left = len(self.inputs)


class EmbeddingEngine:
    """Owns an embeddings context on ``model``. ``submit``/``cancel``/``shutdown`` from any thread; the loop runs
    on a thread of its own (``start``)."""

    def __init__(self, model: Model, send: Callable[[list[bytes]], None], max_seqs: int = MAX_SEQS) -> None:
        self.model = model
        self._send = send
        spec = model.spec
        self.pooling = pooling_of(model)
        self.n_ctx_train = int(ll.llama_model_n_ctx_train(model.model))
        self.limit = min(spec.num_ctx, self.n_ctx_train) if self.n_ctx_train > 0 else spec.num_ctx
        n_batch = max(spec.num_batch, self.limit)
        self.max_seqs = max(1, min(max_seqs, int(ll.llama_max_parallel_sequences())))
        threads = spec.num_thread if spec.num_thread > 0 else physical_cores()
        cparams = ll.llama_context_default_params()
        cparams.n_ctx = n_batch
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_seq_max = self.max_seqs
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.embeddings = True
        cparams.pooling_type = ll.LLAMA_POOLING_TYPE_UNSPECIFIED if self.pooling >= 0 else ll.LLAMA_POOLING_TYPE_LAST
        cparams.kv_unified = True
        cparams.no_perf = True
        ctx = ll.llama_init_from_model(model.model, cparams)
        if not ctx:
            raise RuntimeError("failed to create the llama.cpp embedding context (out of memory?)")
        self.ctx = ctx
        self.mem = ll.llama_get_memory(ctx)
        self.n_batch = int(ll.llama_n_batch(ctx))
        self.threads = threads
        self._threads_now = threads
        self.dim = int(ll.llama_model_n_embd_out(model.model)) or int(ll.llama_model_n_embd(model.model))
        self.pooled = int(ll.llama_pooling_type(ctx)) != ll.LLAMA_POOLING_TYPE_NONE
        vocab = model.vocab
        self.wordpiece = int(ll.llama_vocab_type(vocab)) == ll.LLAMA_VOCAB_TYPE_WPM
        self.keep_last = bool(ll.llama_vocab_get_add_eos(vocab)) or bool(ll.llama_vocab_get_add_sep(vocab))
        self._batch = ll.llama_batch_init(self.n_batch, 0, 1)
        b = self._batch
        self._tok, self._pos, self._seq, self._logits = b.token, b.pos, b.seq_id, b.logits
        for i in range(self.n_batch):
            b.n_seq_id[i] = 1
        self._inbox: queue.SimpleQueue[tuple[str, Job | int | None]] = queue.SimpleQueue()
        self._pending: deque[tuple[Job, int]] = deque()
        self._thread: threading.Thread | None = None

    # called from other threads

    def tokenize(self, texts: list[str], truncate: bool) -> list[list[int]]:
        """Tokenize (with the model's special tokens) and fit each input to the context; InputTooLong if one
        does not fit and ``truncate`` is off."""
        if self.wordpiece:
            # BERT's normaliser decomposes text (NFD) before WordPiece; llama.cpp's tables do that for accents but
            # not for Hangul syllables, which BERT vocabularies hold as jamo: Korean would tokenize as [UNK]s.
            texts = [unicodedata.normalize("NFD", t) for t in texts]
        # A huge input only has its head tokenized: the rest would be cut off (or refused) anyway.
        return [
            fit_tokens(fitted_head(self._tokenize, t, self.limit), self.limit, truncate, self.keep_last) for t in texts
        ]

    def _tokenize(self, text: str, add_special: bool) -> list[int]:
        return self.model.tokenize(text, add_special=add_special)

    def submit(self, job: Job) -> None:
        self._inbox.put(("new", job))

    def cancel(self, req_id: int) -> None:
        self._inbox.put(("cancel", req_id))

    def shutdown(self) -> None:
        self._inbox.put(("stop", None))

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="runner-embed", daemon=True)
        self._thread.start()

    # the loop

    def run(self) -> None:
        while True:
            if not self._pending and not self._handle(*self._inbox.get()):
                return
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if not self._handle(*item):
                    return
            if self._pending:
                self._step()

    def _handle(self, kind: str, arg: Job | int | None) -> bool:
        if kind == "new":
            assert isinstance(arg, Job)
            if not arg.inputs:
                self._finish(arg)
            for i in range(len(arg.inputs)):
                self._pending.append((arg, i))
        elif kind == "cancel":
            self._pending = deque(item for item in self._pending if item[0].id != arg)
        else:
            return False
        return True

    def _error(self, job: Job, message: str) -> None:
        job.failed = True
        self._pending = deque(item for item in self._pending if item[0] is not job)
        err: p.ErrorMsg = {"op": "error", "id": job.id, "kind": "failed", "message": message}
        self._send([p.encode(err)])

    def _step(self) -> None:
        tok_p, pos_p, seq_p, logits_p = self._tok, self._pos, self._seq, self._logits
        n = 0
        members: list[tuple[Job, int, int]] = []  # job, input index, index of its last token in the batch
        while self._pending and len(members) < self.max_seqs:
            job, i = self._pending[0]
            tokens = job.inputs[i]
            if n + len(tokens) > self.n_batch:
                if n == 0:  # cannot happen after fit_tokens (n_batch >= limit), but never loop on it
                    self._pending.popleft()
                    self._error(job, INPUT_TOO_LONG)
                    continue
                break
            self._pending.popleft()
            seq = len(members)
            for pos, tok in enumerate(tokens):
                tok_p[n] = tok
                pos_p[n] = pos
                seq_p[n][0] = seq
                logits_p[n] = 1
                n += 1
            members.append((job, i, n - 1))
        if n == 0:
            return
        self._batch.n_tokens = n
        threads = 1 if n <= SMALL_BATCH else self.threads
        if threads != self._threads_now:
            ll.llama_set_n_threads(self.ctx, threads, threads)
            self._threads_now = threads
        rc = ll.llama_decode(self.ctx, self._batch)
        out: list[bytes] = []
        if rc != 0:
            log.error("llama_decode failed with %d", rc)
            for job in {m[0] for m in members}:
                if not job.failed:
                    self._error(job, f"llama_decode failed ({rc})")
        else:
            size = self.dim * 4
            for seq, (job, i, last) in enumerate(members):
                if job.failed:
                    continue
                ptr = ll.llama_get_embeddings_seq(self.ctx, seq) if self.pooled else None
                if not ptr:
                    ptr = ll.llama_get_embeddings_ith(self.ctx, last)
                if not ptr:
                    self._error(job, "no embedding returned by the model")
                    continue
                job.rows[i] = ctypes.string_at(ptr, size)
                job.left -= 1
                if job.left == 0:
                    out.append(self._encode(job))
        if self.mem:
            ll.llama_memory_clear(self.mem, True)
        if out:
            self._send(out)

    def _encode(self, job: Job) -> bytes:
        rows = [r for r in job.rows if r is not None]
        msg: EmbeddingsMsg = {
            "op": "embeddings",
            "id": job.id,
            "embeddings": embeddings_body(rows, self.dim, [len(t) for t in job.inputs]),
        }
        return p.encode(msg)

    def _finish(self, job: Job) -> None:
        self._send([self._encode(job)])


class Embedder:
    """The runner's embedding side, created on the first ``embed`` for a completion model (at load for an
    embedding model), so a completion model pays for a second context only once it is asked to embed."""

    def __init__(self, model: Model, send: Callable[[list[bytes]], None]) -> None:
        self._model = model
        self._send = send
        self._lock = threading.Lock()
        self._engine: EmbeddingEngine | None = None
        self._closed = False
        if pooling_of(model) >= 0:
            self._get()

    def _get(self) -> EmbeddingEngine:
        with self._lock:
            if self._engine is None:
                self._engine = EmbeddingEngine(self._model, self._send)
                self._engine.start()
            return self._engine

    def embed(self, req_id: int, inputs: list[str], truncate: bool) -> None:
        """Tokenize on the caller's thread and queue the request; InputTooLong (a ValueError) if refused."""
        try:
            engine = self._get()
        except RuntimeError as e:
            err: p.ErrorMsg = {"op": "error", "id": req_id, "kind": "failed", "message": str(e)}
            self._send([p.encode(err)])
            return
        engine.submit(Job(req_id, engine.tokenize(inputs, truncate)))

    def cancel(self, req_id: int) -> None:
        if self._engine is not None:
            self._engine.cancel(req_id)

    def shutdown(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
