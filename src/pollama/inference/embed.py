"""The ``/api/embed`` and ``/api/embeddings`` use-cases: schedule the model's runner like any request, send
all inputs of the request to it at once (the runner batches them with other requests' inputs), then shape the
vectors as Ollama does.

``embed``: each vector L2-normalised, then cut to ``dimensions`` (when ``0 < dimensions < length``) and
normalised again; a NaN or infinity is an error; ``truncate: false`` refuses an input longer than the context
(``min(num_ctx, n_ctx_train)`` tokens, special tokens included) with a 400, which Ollama documents but does not
always do. Errors from the runner are 400s, as Ollama's handler answers them. ``embeddings`` (legacy): one
``prompt``, the vector as the runner's ``/embedding`` gave it in Ollama (normalised, except for BERT-family
GGUFs that say they are not), and its errors are 500s. Neither checks the ``embedding`` capability, as Ollama:
a completion model embeds too (its last token's output).
"""

from __future__ import annotations

import asyncio
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pollama.api.embed import EmbeddingRequest, EmbeddingResponse, EmbedRequest, EmbedResponse
from pollama.api.options import parse_keep_alive
from pollama.errors import BadRequest, Failed, ModelNotFound, PollamaError
from pollama.inference.core import find_model, session
from pollama.services import Services
from pollama.store.gguf_info import read_gguf
from pollama.store.names import Name

NAN_OR_INF = "embedding contains NaN or Inf values"


def normalize(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Each row scaled to unit length (a zero row stays zero), in float32 as Ollama computes it."""
    if not np.isfinite(rows).all():
        raise BadRequest(NAN_OR_INF)
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
    scale = (1.0 / np.maximum(norms, 1e-12)).astype(np.float32)
    out: npt.NDArray[np.float32] = rows * scale[:, None]
    return out


def shape_vectors(rows: npt.NDArray[np.float32], dimensions: int | None) -> npt.NDArray[np.float32]:
    out = normalize(rows)
    if dimensions is not None and 0 < dimensions < out.shape[1]:
        out = normalize(np.ascontiguousarray(out[:, :dimensions]))
    return out


def _check_name(requested: str) -> None:
    if not Name.parse(requested).is_valid():
        raise BadRequest("invalid model name")


async def embed(svc: Services, req: EmbedRequest) -> EmbedResponse:
    start = time.monotonic_ns()
    requested = req.model or ""
    _check_name(requested)
    inputs = req.inputs()
    keep_alive = parse_keep_alive(req.keep_alive)
    model = await find_model(svc, requested)
    opts = model.options(svc.settings.context_length, req.options)
    async with session(svc, model, opts, keep_alive, start) as s:
        loaded = time.monotonic_ns()
        if req.tokens:
            # The runner refuses an id outside the vocabulary with a BadRequest.
            inputs = [await s.runner.detokenize(ids) for ids in req.tokens]
        if not inputs:
            return EmbedResponse(requested, np.zeros((0, 0), dtype=np.float32))
        try:
            result = await s.runner.embed(inputs, truncate=req.truncate is not False)
        except BadRequest:
            raise
        except PollamaError as err:
            raise BadRequest(err.message) from None
    vectors = shape_vectors(result.vectors, req.dimensions)
    return EmbedResponse(
        model=requested,
        embeddings=vectors,
        total_duration=time.monotonic_ns() - start,
        load_duration=loaded - start,
        prompt_eval_count=sum(result.counts),
    )


@lru_cache(maxsize=32)
def legacy_raw(path: str) -> bool:
    """Whether Ollama's legacy route returns this model's vectors unnormalised (``legacyEmbeddingsWereRaw``)."""
    meta = read_gguf(Path(path))
    arch, kv = meta.architecture, meta.kv
    if f"{arch}.pooling_type" not in kv:
        return False
    if arch == "bert":
        if kv.get("tokenizer.ggml.model", "bert") != "bert":
            return True
        return kv.get(f"{arch}.normalize_embeddings", True) is False
    if arch in ("nomic-bert", "nomic-bert-moe"):
        return kv.get(f"{arch}.normalize_embeddings", False) is not True
    return False


async def embeddings(svc: Services, req: EmbeddingRequest) -> EmbeddingResponse:
    requested = req.model or ""
    if not requested:
        raise BadRequest("model is required")
    _check_name(requested)
    keep_alive = parse_keep_alive(req.keep_alive)
    try:
        model = await find_model(svc, requested)
    except ModelNotFound:
        raise ModelNotFound(requested) from None
    opts = model.options(svc.settings.context_length, req.options)
    async with session(svc, model, opts, keep_alive, time.monotonic_ns()) as s:
        if not req.prompt:
            return EmbeddingResponse([])
        try:
            result = await s.runner.embed([req.prompt], truncate=True)
        except PollamaError as err:
            raise Failed(err.message) from None
    raw = model.remote is None and await asyncio.to_thread(legacy_raw, str(model.model_path))
    try:
        vectors = result.vectors if raw else normalize(result.vectors)
    except BadRequest as err:  # every failure of this route is a 500 in Ollama
        raise Failed(err.message) from None
    return EmbeddingResponse([float(x) for x in vectors[0].tolist()])
