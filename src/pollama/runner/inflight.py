"""What the engine holds per request: the ``Request`` as submitted (already tokenized) and, once admitted to a
slot, its ``Active`` state (sampler chain, prefill position, generated tokens, pending prefix share)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pollama.api.options import SamplingOptions
from pollama.runner.reuse import Placement, Slot
from pollama.runner.sampling import SamplerChain
from pollama.runner.textout import TextStream


@dataclass(eq=False)
class Request:
    """A completion as the engine sees it: already tokenized (by the connection thread)."""

    id: int
    tokens: list[int]
    sampling: SamplingOptions
    num_predict: int
    stop: list[str]
    num_keep: int
    shift: bool
    grammar: str | None
    grammar_triggers: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    logit_bias: tuple[tuple[int, float], ...] = ()


@dataclass(eq=False)
class Active:
    req: Request
    slot: Slot
    prompt: list[int]
    chain: SamplerChain
    text: TextStream
    limit: int
    keep: int
    shift: bool
    n_cached: int
    prefill_pos: int
    t_start: int
    t_first: int = 0
    next_token: int = -1
    i_batch: int = -1
    eval_count: int = 0
    generated: list[int] = field(default_factory=list)
    last_piece: bytes = b""
    repeats: int = 0
    # Log probabilities of tokens sampled since the last chunk went out.
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    # Set while the prompt waits for another sequence to finish evaluating a prefix it shares.
    pending: Placement | None = None
