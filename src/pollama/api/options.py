"""Model options (``options`` in requests, ``PARAMETER`` in Modelfiles) and ``keep_alive``, parsed as Ollama does.

Options layer as ``defaults → model params → request options``. Type errors carry Ollama's messages, which it
returns with status 500; unknown keys are ignored with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from pollama.api.errors import APIError
from pollama.config import FOREVER, DurationError, parse_go_duration

log = logging.getLogger("pollama")


@dataclass
class Options:
    num_ctx: int = 4096
    num_batch: int = 512
    num_gpu: int = -1
    main_gpu: int = 0
    use_mmap: bool | None = None
    num_thread: int = 0
    num_keep: int = 4
    seed: int = -1
    num_predict: int = -1
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_last_n: int = 64
    temperature: float = 0.8
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: list[str] = field(default_factory=list)


_FIELDS = {f.name: f for f in fields(Options)}
_INT = {name for name, f in _FIELDS.items() if f.type == "int"}
_FLOAT = {name for name, f in _FIELDS.items() if f.type == "float"}
_BOOL = {"use_mmap"}
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
    updates: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIELDS:
            if key not in _LEGACY:
                log.warning("invalid option provided: %s", key)
            continue
        if value is None:
            continue
        updates[key] = _convert(key, value)
    return replace(base, **updates)


def _convert(key: str, value: Any) -> Any:
    if key in _INT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise APIError(500, f'option "{key}" must be of type integer')
        return int(value)
    if key in _FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise APIError(500, f'option "{key}" must be of type float32')
        return float(value)
    if key in _BOOL:
        if not isinstance(value, bool):
            raise APIError(500, f'option "{key}" must be of type boolean')
        return value
    if key == "stop":
        if not isinstance(value, list):
            raise APIError(500, f'option "{key}" must be of type array')
        if not all(isinstance(v, str) for v in value):
            raise APIError(500, f'option "{key}" must be of an array of strings')
        return list(value)
    return value


def parse_keep_alive(value: Any) -> float | None:
    """Seconds to keep a model loaded after a request: ``None`` when absent, ``math.inf`` for forever."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise APIError(400, "Unsupported type: 'bool'")
    if isinstance(value, int | float):
        seconds = float(value)
        return FOREVER if seconds < 0 else seconds
    if isinstance(value, str):
        try:
            seconds = parse_go_duration(value)
        except DurationError as err:
            raise APIError(400, str(err)) from None
        return FOREVER if seconds < 0 else seconds
    kind = "[]interface {}" if isinstance(value, list) else "map[string]interface {}"
    raise APIError(400, f"Unsupported type: '{kind}'")
