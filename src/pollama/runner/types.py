"""Value types shared by the runner client (server side) and the runner process: load spec, sampling options,
completion requests, streamed results and errors. No I/O here, and no llama_cpp import."""

from __future__ import annotations

from dataclasses import dataclass, field

STOPPED_MESSAGE = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, "
    "check ollama server logs for details"
)
PROMPT_TOO_LONG_MESSAGE = (
    "the prompt is longer than the context length currently available to the model; shorten the prompt, "
    "adjust the context length in settings, or use a model with a longer context length"
)


@dataclass(frozen=True)
class LoadSpec:
    """How to load one model into one runner process. ``num_ctx`` is per sequence; the KV cache holds
    ``num_ctx * num_parallel`` tokens shared by all sequences."""

    model_path: str
    num_ctx: int
    num_parallel: int
    num_batch: int = 512
    num_thread: int = 0
    use_mmap: bool | None = None


@dataclass
class SamplingOptions:
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_last_n: int = 64
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int = -1


@dataclass
class CompletionRequest:
    """One generation. ``num_predict`` -1 means 10 × num_ctx, -2 means until the context is full.
    ``grammar`` is a GBNF grammar (root rule ``root``) constraining the output."""

    prompt: str
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    num_predict: int = -1
    stop: list[str] = field(default_factory=list)
    num_keep: int = 4
    shift: bool = True
    grammar: str | None = None


@dataclass
class Chunk:
    text: str


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


@dataclass(frozen=True)
class RunnerInfo:
    n_ctx_train: int
    n_vocab: int
    model_bytes: int
    kv_bytes: int
    n_ctx: int
    n_parallel: int
    can_shift: bool


class RunnerError(Exception):
    """A request-level failure reported by the runner; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RunnerStoppedError(RunnerError):
    """The runner process died while (or before) serving the request."""

    def __init__(self, message: str = STOPPED_MESSAGE) -> None:
        super().__init__(message, 500)


class RunnerLoadError(RunnerError):
    """The runner process failed to load the model."""
