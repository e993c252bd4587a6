"""Value types shared by the runner client (server side) and the runner process: load spec, completion
requests, streamed results and typed failures. No I/O here, and no llama_cpp import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pollama.api.options import SamplingOptions
from pollama.api.responses import Logprob


@dataclass(frozen=True)
class LoadSpec:
    """How to load one model into one runner process. ``num_ctx`` is per sequence; the KV cache holds
    ``num_ctx * num_parallel`` tokens shared by all sequences. ``flash_attention`` ``None`` lets llama.cpp
    decide; ``kv_cache_type`` is one of f16, q8_0, q4_0 (a quantized type needs flash attention on);
    ``load_timeout`` is in seconds (infinite: no limit)."""

    model_path: str
    num_ctx: int
    num_parallel: int
    num_batch: int = 512
    num_thread: int = 0
    use_mmap: bool | None = None
    flash_attention: bool | None = None
    kv_cache_type: str = "f16"
    load_timeout: float = 300.0
    cache_ram: int = 0
    """MiB of host memory for the prompt cache (0: none)."""
    cache_file: str | None = None
    """Where the runner writes its prompt cache when it stops, and reads it back when it starts."""


@dataclass
class CompletionRequest:
    """One generation. ``num_predict`` -1 means 10 × num_ctx, -2 means until the context is full.
    ``grammar`` is a GBNF grammar (root rule ``root``) constraining the output; with ``grammar_triggers`` it
    is lazy: free text until one of those regular expressions matches the output, constrained from the match's
    first group on (llama.cpp's lazy grammars). ``logprobs`` asks for every sampled token's log probability
    and ``top_logprobs`` for that many most likely alternatives. ``logit_bias`` adds a bias to the logits of
    the given token ids (minus infinity bans one)."""

    prompt: str
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    num_predict: int = -1
    stop: list[str] = field(default_factory=list)
    num_keep: int = 4
    shift: bool = True
    grammar: str | None = None
    grammar_triggers: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    logit_bias: tuple[tuple[int, float], ...] = ()


@dataclass
class Chunk:
    """Generated text, and the log probabilities of the tokens sampled since the previous chunk (when asked)."""

    text: str
    logprobs: list[Logprob] = field(default_factory=list)


@dataclass
class Done:
    """Final result of a completion. Durations are in nanoseconds; ``context`` is the prompt tokens followed by
    the generated ones (without the end-of-generation token)."""

    done_reason: str
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int
    context: list[int]
    cached_tokens: int
    stop_sequence: str = ""
    """The stop string that ended generation, when one did (``done_reason`` is then "stop")."""


@dataclass(frozen=True)
class RunnerInfo:
    n_ctx_train: int
    n_vocab: int
    model_bytes: int
    kv_bytes: int
    n_ctx: int
    n_parallel: int
    can_shift: bool


@dataclass
class CacheStats:
    """A runner's prompt cache figures: what it holds now and its lookups so far (a hit restores a prefix from
    host memory; a miss looked there and found nothing worth restoring)."""

    bytes: int = 0
    entries: int = 0
    budget: int = 0
    hits: int = 0
    misses: int = 0
    hit_tokens: int = 0
    evictions: int = 0


FailureKind = Literal["bad_request", "prompt_too_long", "failed"]
"""How the runner classifies a request it could not serve; the client raises the matching domain error."""
