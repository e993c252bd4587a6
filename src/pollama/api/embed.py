"""Wire models of ``/api/embed`` and ``/api/embeddings`` (Go's ``api.EmbedRequest``/``EmbedResponse`` and
``EmbeddingRequest``/``EmbeddingResponse``), and their JSON as Go's ``encoding/json`` writes it.

``/api/embed`` answers ``[][]float32``: each number with float32's shortest digits. The rows are printed by
numpy in C (its float→str cast is the shortest float32 repr); only the rare values numpy writes with an
exponent, or with a trailing ``.0``, get Go's form from ``gojson``. ``/api/embeddings`` answers ``[]float64``
of the same float32 values, which ``gojson`` encodes at C speed already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import StrictBool, StrictInt, StrictStr

from pollama.api.types import WireModel
from pollama.errors import BadRequest
from pollama.gojson import Float32, marshal

INVALID_INPUT = "invalid input type"

GO_TYPES_EMBED = {"options": "map[string]interface {}"}


class EmbedRequest(WireModel):
    model: StrictStr | None = None
    input: Any = None
    keep_alive: Any = None
    truncate: StrictBool | None = None
    dimensions: StrictInt | None = None
    options: dict[str, Any] | None = None
    # Not in Ollama's native API (set by /v1/embeddings): inputs as arrays of the model's token ids, turned back
    # into text with the model's vocabulary before embedding, as llama-server reads token inputs.
    tokens: list[list[StrictInt]] | None = None

    def inputs(self) -> list[str]:
        """``input`` as Ollama reads it: a string (``""`` is no input), or an array of strings, or absent."""
        raw = self.input
        if raw is None:
            return []
        if isinstance(raw, str):
            return [raw] if raw else []
        if isinstance(raw, list):
            if not all(isinstance(x, str) for x in raw):
                raise BadRequest(INVALID_INPUT)
            return list(raw)
        raise BadRequest(INVALID_INPUT)


class EmbeddingRequest(WireModel):
    model: StrictStr | None = None
    prompt: StrictStr | None = None
    keep_alive: Any = None
    options: dict[str, Any] | None = None


def _go_float32(text: str) -> str:
    if "e" in text or "n" in text:
        return marshal(Float32(float(text)))
    return text[:-2] if text.endswith(".0") else text


def float32_rows_json(rows: npt.NDArray[np.float32]) -> str:
    """``[][]float32`` as Go marshals it."""
    if rows.shape[0] == 0:
        return "[]"
    out = []
    for row in np.asarray(rows, dtype=np.float32).astype(str).tolist():
        # numpy prints |x| < 1e-4 with an exponent (Go: positional down to 1e-6) and whole numbers with ".0".
        fixed = [x if "e" not in x and not x.endswith(".0") and "n" not in x else _go_float32(x) for x in row]
        out.append("[" + ",".join(fixed) + "]")
    return "[" + ",".join(out) + "]"


@dataclass(frozen=True, slots=True)
class EmbedResponse:
    model: str
    embeddings: npt.NDArray[np.float32]
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0

    def to_json(self) -> str:
        """The whole body; the durations and count are ``omitempty``."""
        parts = ['{"model":', marshal(self.model), ',"embeddings":', float32_rows_json(self.embeddings)]
        for key in ("total_duration", "load_duration", "prompt_eval_count"):
            value = getattr(self, key)
            if value:
                parts.append(f',"{key}":{int(value)}')
        parts.append("}")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class EmbeddingResponse:
    embedding: list[float]

    def to_json(self) -> str:
        return marshal({"embedding": self.embedding})
