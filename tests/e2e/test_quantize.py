"""Quantization in ``/api/create``: an F16 GGUF written by the test becomes Q4_K_M/Q8_0 through llama.cpp's
quantizer (in a subprocess), with Ollama's progress statuses, and the result loads and generates."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from e2e_helpers import Server
from test_create import create_lines, manifest, tiny_gguf, upload

from pollama.store.gguf_info import read_gguf


@pytest.fixture(scope="module")
def f16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_gguf(tmp_path_factory.mktemp("quant") / "tiny-f16.gguf", seed=1)


@pytest.mark.parametrize(("requested", "file_type"), [("q4_K_M", "Q4_K_M"), ("Q8_0", "Q8_0")])
def test_quantize_and_generate(server: Server, models_dir: Path, f16: Path, requested: str, file_type: str) -> None:
    name = f"lc-quant-{file_type.lower()}"
    digest = upload(server, f16)
    status, lines = create_lines(server, {"model": name, "files": {"tiny.gguf": digest}, "quantize": requested})
    try:
        assert status == 200, lines
        statuses = [line.get("status") for line in lines]
        assert "error" not in lines[-1], lines[-1]
        progress = [line for line in lines if line.get("status") == f"quantizing F16 model to {requested.upper()}"]
        assert progress, statuses
        size = f16.stat().st_size
        assert all(p["digest"] == "0000000000000000000" and p["total"] == size for p in progress)
        assert progress[-1]["completed"] == size
        after = statuses[statuses.index("verifying conversion") + 1 :]
        assert after[0] is not None and after[0].startswith("creating new layer sha256:")
        assert statuses[-2:] == ["writing manifest", "success"]

        m = manifest(models_dir, name)
        model_layer = m["layers"][0]
        assert model_layer["digest"] != digest and "from" not in model_layer
        blob = models_dir / "blobs" / model_layer["digest"].replace(":", "-")
        assert read_gguf(blob).file_type_name == file_type
        config = json.loads((models_dir / "blobs" / m["config"]["digest"].replace(":", "-")).read_bytes())
        assert config["file_type"] == file_type
        tags = {t["name"]: t for t in httpx.get(f"{server.url}/api/tags").json()["models"]}
        assert tags[f"{name}:latest"]["details"]["quantization_level"] == file_type

        r = httpx.post(
            f"{server.url}/api/generate",
            json={"model": name, "prompt": "hello", "stream": False, "options": {"num_predict": 3, "seed": 1}},
            timeout=300,
        )
        assert r.status_code == 200, r.text
        assert r.json()["done"] is True and r.json()["eval_count"] >= 1
    finally:
        httpx.request("DELETE", f"{server.url}/api/delete", json={"model": name}, timeout=60)


def test_quantize_to_same_type_keeps_layer(server: Server, models_dir: Path, f16: Path) -> None:
    digest = upload(server, f16)
    status, lines = create_lines(server, {"model": "lc-quant-same", "files": {"t.gguf": digest}, "quantize": "f16"})
    try:
        assert status == 200
        assert not any(str(line.get("status", "")).startswith("quantizing") for line in lines)
        assert manifest(models_dir, "lc-quant-same")["layers"][0]["digest"] == digest
    finally:
        httpx.request("DELETE", f"{server.url}/api/delete", json={"model": "lc-quant-same"}, timeout=60)


def test_quantize_unsupported_type(server: Server, f16: Path) -> None:
    digest = upload(server, f16)
    status, lines = create_lines(server, {"model": "lc-quant-bad", "files": {"t.gguf": digest}, "quantize": "q5_0"})
    assert status == 200
    assert lines[-1] == {
        "error": "unsupported quantization type Q5_0 - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0"
    }
