"""Per-request sampler chains built from llama.cpp's samplers, in llama-server's default order:
penalties → top_k → typical_p → top_p → min_p → temperature → dist(seed), or greedy when temperature ≤ 0.
A grammar (GBNF) constrains the candidates before anything else in the chain."""

from __future__ import annotations

from typing import Any

import llama_cpp as ll

from pollama.api.options import SamplingOptions


class GrammarError(ValueError):
    pass


class SamplerChain:
    """Owns one llama.cpp sampler chain. ``sample`` picks from the logits of batch row ``idx`` and accepts the
    token into every sampler of the chain (penalty history, grammar state)."""

    def __init__(
        self,
        vocab: Any,
        n_vocab: int,
        opts: SamplingOptions,
        *,
        num_ctx: int,
        history: list[int],
        grammar: str | None = None,
    ) -> None:
        params = ll.llama_sampler_chain_default_params()
        params.no_perf = True
        chain = ll.llama_sampler_chain_init(params)
        self.chain = chain
        add = ll.llama_sampler_chain_add
        if grammar:
            g = ll.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
            if not g:
                ll.llama_sampler_free(chain)
                raise GrammarError("failed to parse grammar")
            add(chain, g)
        # Samplers that would not change anything are left out: each one costs a pass over the vocabulary.
        if opts.repeat_last_n != 0 and (
            opts.repeat_penalty != 1.0 or opts.frequency_penalty != 0.0 or opts.presence_penalty != 0.0
        ):
            last_n = opts.repeat_last_n if opts.repeat_last_n > 0 else num_ctx
            pen = ll.llama_sampler_init_penalties(
                n_vocab, last_n, opts.repeat_penalty, opts.frequency_penalty, opts.presence_penalty
            )
            # Like llama-server, the prompt counts as history for the penalties. It is fed before the sampler
            # joins the chain so that a grammar never sees prompt tokens.
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

    def free(self) -> None:
        if self.chain:
            ll.llama_sampler_free(self.chain)
            self.chain = None
