"""Per-request sampler chains built from llama.cpp's samplers, in llama-server's default order:
penalties → top_k → typical_p → top_p → min_p → temperature → dist(seed), or greedy when temperature ≤ 0.

A grammar (GBNF, possibly lazy) is kept apart from the chain and used as llama.cpp's common sampler uses it:
sample from the chain first, check only the chosen token against the grammar, and only when it is refused
apply the grammar to the whole vocabulary and sample again. Masking 150k candidates on every token would
cost more than the decode itself on a small model; most tokens a model picks already fit the grammar.
Requests with a grammar or with logprobs sample through a numpy view of the logits; the rest through
``llama_sampler_sample`` alone.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import llama_cpp as ll
import numpy as np
import numpy.typing as npt

from pollama.api.options import SamplingOptions
from pollama.api.responses import Logprob, TokenLogprob

# llama_token_data {int32 id; float logit; float p;}
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class SamplingError(ValueError):
    """A request's grammar or logit bias that llama.cpp cannot take."""


class Candidates:
    """A reusable ``llama_token_data_array`` over numpy storage, refilled from a row of logits."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.buf = np.zeros(n, dtype=_TOKEN_DATA)
        self._ids = np.arange(n, dtype=np.int32)
        self.array = ll.llama_token_data_array(
            data=self.buf.ctypes.data_as(ll.llama_token_data_p), size=n, selected=-1, sorted=False
        )
        self.ref = ctypes.byref(self.array)

    def fill(self, logits: npt.NDArray[np.float32]) -> None:
        # Samplers sort and shrink the array in place, so every use starts from a fresh copy.
        self.buf["id"] = self._ids
        self.buf["logit"] = logits
        self.buf["p"] = 0.0
        self.array.size = self.n
        self.array.selected = -1
        self.array.sorted = False

    def selected(self) -> int:
        return int(self.buf["id"][self.array.selected])


class SamplerChain:
    """Owns one llama.cpp sampler chain (and grammar). ``sample`` picks from the logits of batch row ``idx``
    and accepts the token into every sampler (penalty history, grammar state)."""

    def __init__(
        self,
        vocab: Any,
        n_vocab: int,
        opts: SamplingOptions,
        *,
        num_ctx: int,
        history: list[int],
        grammar: str | None = None,
        triggers: tuple[str, ...] = (),
        logprobs: bool = False,
        logit_bias: tuple[tuple[int, float], ...] = (),
    ) -> None:
        self.n_vocab = n_vocab
        if any(not 0 <= t < n_vocab for t, _ in logit_bias):
            raise SamplingError(f"logit_bias names a token id outside the vocabulary (0 to {n_vocab - 1})")
        self.grammar = _grammar(vocab, grammar, triggers) if grammar else None
        params = ll.llama_sampler_chain_default_params()
        params.no_perf = True
        chain = ll.llama_sampler_chain_init(params)
        self.chain = chain
        self._manual = self.grammar is not None or logprobs
        self._cands = Candidates(n_vocab) if self._manual else None
        self._one = Candidates(1) if self.grammar is not None else None
        add = ll.llama_sampler_chain_add
        if logit_bias:
            # First, as in llama.cpp's common sampler: a banned token must not survive into top_k and the rest.
            arr = (ll.llama_logit_bias * len(logit_bias))(*(ll.llama_logit_bias(t, b) for t, b in logit_bias))
            add(chain, ll.llama_sampler_init_logit_bias(n_vocab, len(logit_bias), arr))
        # Samplers that would not change anything are left out: each one costs a pass over the vocabulary.
        if opts.repeat_last_n != 0 and (
            opts.repeat_penalty != 1.0 or opts.frequency_penalty != 0.0 or opts.presence_penalty != 0.0
        ):
            last_n = opts.repeat_last_n if opts.repeat_last_n > 0 else num_ctx
            pen = ll.llama_sampler_init_penalties(
                n_vocab, last_n, opts.repeat_penalty, opts.frequency_penalty, opts.presence_penalty
            )
            # Like llama-server, the prompt counts as history for the penalties (never for the grammar).
            for t in history[-last_n:]:
                ll.llama_sampler_accept(pen, t)
            add(chain, pen)
        if opts.temperature <= 0:
            add(chain, ll.llama_sampler_init_greedy())
            return
        if opts.top_k > 0:
            add(chain, ll.llama_sampler_init_top_k(opts.top_k))
        if 0 < opts.typical_p < 1:
            add(chain, ll.llama_sampler_init_typical(opts.typical_p, 1))
        if 0 < opts.top_p < 1:
            add(chain, ll.llama_sampler_init_top_p(opts.top_p, 1))
        if opts.min_p > 0:
            add(chain, ll.llama_sampler_init_min_p(opts.min_p, 1))
        add(chain, ll.llama_sampler_init_temp(opts.temperature))
        seed = ll.LLAMA_DEFAULT_SEED if opts.seed < 0 else opts.seed & 0xFFFFFFFF
        add(chain, ll.llama_sampler_init_dist(seed))

    def logits(self, ctx: Any, idx: int) -> npt.NDArray[np.float32]:
        """The raw logits of batch row ``idx`` (a view: valid until the next decode)."""
        return np.ctypeslib.as_array(ll.llama_get_logits_ith(ctx, idx), shape=(self.n_vocab,))

    def sample(self, ctx: Any, idx: int) -> int:
        if not self._manual:
            return int(ll.llama_sampler_sample(self.chain, ctx, idx))
        assert self._cands is not None
        logits = self.logits(ctx, idx)
        cands = self._cands
        cands.fill(logits)
        ll.llama_sampler_apply(self.chain, cands.ref)
        tok = cands.selected()
        if self.grammar is not None:
            if not self._allowed(tok):
                cands.fill(logits)
                ll.llama_sampler_apply(self.grammar, cands.ref)
                ll.llama_sampler_apply(self.chain, cands.ref)
                tok = cands.selected()
            ll.llama_sampler_accept(self.grammar, tok)
        ll.llama_sampler_accept(self.chain, tok)
        return tok

    def _allowed(self, tok: int) -> bool:
        one = self._one
        assert one is not None and self.grammar is not None
        one.buf[0] = (tok, 1.0, 0.0)
        one.array.size = 1
        one.array.selected = -1
        one.array.sorted = False
        ll.llama_sampler_apply(self.grammar, one.ref)
        return bool(math.isfinite(float(one.buf["logit"][0])))

    def free(self) -> None:
        if self.chain:
            ll.llama_sampler_free(self.chain)
            self.chain = None
        if self.grammar is not None:
            ll.llama_sampler_free(self.grammar)
            self.grammar = None


def _grammar(vocab: Any, grammar: str, triggers: tuple[str, ...]) -> Any:
    if triggers:
        patterns = (ctypes.c_char_p * len(triggers))(*(t.encode() for t in triggers))
        g = ll.llama_sampler_init_grammar_lazy_patterns(
            vocab, grammar.encode(), b"root", patterns, len(triggers), None, 0
        )
    else:
        g = ll.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not g:
        raise SamplingError("failed to parse grammar")
    return g


def token_logprobs(logits: npt.NDArray[np.float32], tok: int, top: int, text: Any) -> Logprob:
    """``tok``'s log probability under the raw logits (as llama-server reports it) and the ``top`` most likely
    tokens, best first; ``text(t)`` gives a token's bytes."""
    x = logits.astype(np.float64)
    m = float(x.max())
    lse = m + math.log(float(np.exp(x - m).sum()))
    alts: tuple[TokenLogprob, ...] = ()
    if top > 0:
        k = min(top, x.shape[0])
        best = np.argpartition(-x, k - 1)[:k]
        best = best[np.argsort(-x[best], kind="stable")]
        alts = tuple(_entry(int(t), float(x[t]) - lse, text) for t in best)
    return Logprob(_entry(tok, float(x[tok]) - lse, text), alts)


def _entry(tok: int, logprob: float, text: Any) -> TokenLogprob:
    raw: bytes = text(tok)
    return TokenLogprob(raw.decode("utf-8", "replace"), logprob, tuple(raw))
