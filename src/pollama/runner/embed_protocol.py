"""The embedding messages of the runner protocol (framing and ids as in ``runner.protocol``), and the result
type both sides share. No llama_cpp import: the server side uses this too.

client → runner: ``embed`` {id, inputs: [str], truncate: bool}
runner → client: ``embeddings`` {id, embeddings: {dim, counts: [int], data: base64 of little-endian float32
rows}}, or ``error`` (kind ``bad_request`` with Ollama's message when an input is too long and truncate is off)

The vectors are the pooled model output, not normalised; they travel as raw float32 bytes so a batch of
hundreds of vectors costs one base64 pass instead of printing and parsing every number.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt

INPUT_TOO_LONG = "the input length exceeds the context length"


class EmbedMsg(TypedDict):
    op: Literal["embed"]
    id: int
    inputs: list[str]
    truncate: bool


class EmbeddingsBody(TypedDict):
    dim: int
    counts: list[int]
    data: str


class EmbeddingsMsg(TypedDict):
    op: Literal["embeddings"]
    id: int
    embeddings: EmbeddingsBody


@dataclass(frozen=True)
class EmbedResult:
    """One row per input, in input order, and the number of tokens each input was evaluated with."""

    vectors: npt.NDArray[np.float32]
    counts: list[int]


def embeddings_body(rows: list[bytes], dim: int, counts: list[int]) -> EmbeddingsBody:
    return {"dim": dim, "counts": counts, "data": base64.b64encode(b"".join(rows)).decode("ascii")}


def result_from_body(body: dict[str, Any]) -> EmbedResult:
    dim = int(body["dim"])
    counts = [int(c) for c in body["counts"]]
    flat = np.frombuffer(base64.b64decode(body["data"]), dtype="<f4")
    if dim <= 0 or flat.size != dim * len(counts):
        raise ValueError("malformed embeddings frame")
    return EmbedResult(flat.reshape(len(counts), dim).astype(np.float32), counts)
