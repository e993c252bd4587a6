"""Model options (``options`` in requests, ``PARAMETER`` in Modelfiles) and ``keep_alive``, parsed as Ollama does.

Every knob is declared once, here, in one of three groups: ``RunnerOptions`` (load-time, Go's ``api.Runner``),
``SamplingOptions`` (what the runner's sampler chain uses, sent as-is over the runner protocol) and the
per-request rest of ``Options``. The Modelfile PARAMETER kinds and the IPC message derive from these classes.
Options layer as ``defaults → model params → request options``; a value of the wrong type is Ollama's
``InvalidOption``; unknown keys are ignored with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from pollama.config import FOREVER, DurationError, parse_go_duration
from pollama.errors import BadRequest, InvalidOption

log = logging.getLogger("pollama")

Kind = Literal["int", "float", "bool", "list"]


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """Options fixed when a model is loaded; changing one reloads the runner."""

    num_ctx: int = 4096
    num_batch: int = 512
    num_gpu: int = -1
    main_gpu: int = 0
    use_mmap: bool | None = None
    num_thread: int = 0


@dataclass(frozen=True, slots=True)
class SamplingOptions:
    """The sampler chain of one request, in the runner."""

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


@dataclass(frozen=True, slots=True)
class Options:
    """All of a request's options: the two groups above plus what shapes the generation itself."""

    runner: RunnerOptions = field(default_factory=RunnerOptions)
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    num_keep: int = 4
    num_predict: int = -1
    stop: tuple[str, ...] = ()

    def with_num_ctx(self, num_ctx: int) -> Options:
        return replace(self, runner=replace(self.runner, num_ctx=num_ctx))


_KINDS: dict[str, Kind] = {"int": "int", "float": "float", "bool | None": "bool", "tuple[str, ...]": "list"}
_GROUPS: dict[str, str] = {
    **{f.name: "runner" for f in fields(RunnerOptions)},
    **{f.name: "sampling" for f in fields(SamplingOptions)},
    **{f.name: "" for f in fields(Options) if f.name not in ("runner", "sampling")},
}
KINDS: dict[str, Kind] = {
    f.name: _KINDS[str(f.type)]
    for cls in (RunnerOptions, SamplingOptions, Options)
    for f in fields(cls)
    if f.name in _GROUPS
}
"""Every option by JSON name → the kind of value it takes (the Modelfile PARAMETER kinds)."""

# Modelfile PARAMETERs that Ollama warns about and drops.
DEPRECATED_PARAMETERS = frozenset(
    (
        "penalize_newline",
        "low_vram",
        "f16_kv",
        "logits_all",
        "vocab_only",
        "use_mlock",
        "mirostat",
        "mirostat_tau",
        "mirostat_eta",
    )
)
# Removed from Ollama but still sent by old clients; ignored like any unknown key, without a warning.
_LEGACY = DEPRECATED_PARAMETERS | {"numa", "num_gqa", "tfs_z", "draft_num_predict"}


def apply(base: Options, values: Mapping[str, Any] | None) -> Options:
    """Return ``base`` overridden by ``values`` (Ollama's ``Options.FromMap``)."""
    if not values:
        return base
    groups: dict[str, dict[str, Any]] = {"runner": {}, "sampling": {}, "": {}}
    for key, value in values.items():
        group = _GROUPS.get(key)
        if group is None:
            if key not in _LEGACY:
                log.warning("invalid option provided: %s", key)
            continue
        if value is None:
            continue
        groups[group][key] = _convert(key, value)
    return replace(
        base,
        runner=replace(base.runner, **groups["runner"]),
        sampling=replace(base.sampling, **groups["sampling"]),
        **groups[""],
    )


_INT64 = 2**63
_FLOAT32_MAX = 3.4028234663852886e38


def _convert(key: str, value: Any) -> Any:
    kind = KINDS[key]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidOption(f'option "{key}" must be of type integer')
        # Go's options are int64; a float past that range has no defined conversion there, so refuse it.
        if not -_INT64 <= value < _INT64:
            raise BadRequest(f'option "{key}" is out of range for an integer')
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidOption(f'option "{key}" must be of type float32')
        if not -_FLOAT32_MAX <= value <= _FLOAT32_MAX:
            raise BadRequest(f'option "{key}" is out of range for float32')
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidOption(f'option "{key}" must be of type boolean')
        return value
    if not isinstance(value, list):
        raise InvalidOption(f'option "{key}" must be of type array')
    if not all(isinstance(v, str) for v in value):
        raise InvalidOption(f'option "{key}" must be of an array of strings')
    return tuple(value)


def parse_keep_alive(value: Any) -> float | None:
    """Seconds to keep a model loaded after a request: ``None`` when absent, ``math.inf`` for forever."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRequest("Unsupported type: 'bool'")
    if isinstance(value, int | float):
        seconds = float(value)
        return FOREVER if seconds < 0 else seconds
    if isinstance(value, str):
        try:
            seconds = parse_go_duration(value)
        except DurationError as err:
            raise BadRequest(str(err)) from None
        return FOREVER if seconds < 0 else seconds
    kind = "[]interface {}" if isinstance(value, list) else "map[string]interface {}"
    raise BadRequest(f"Unsupported type: '{kind}'")
