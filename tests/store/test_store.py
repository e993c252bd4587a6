"""Loading a store laid out by Ollama, resolving names, listing, writing, deleting and pruning."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC
from pathlib import Path

import pytest
from store_helpers import age, put_blob

from pollama.listing import details
from pollama.store.manifest import Layer, Manifest
from pollama.store.names import InvalidNameError, Name
from pollama.store.store import Store


def ollama_model(store: Store, rel: str, *, gguf: bytes = b"GGUF-fake", system: str = "") -> tuple[Path, bytes]:
    """Lay out a model by hand exactly as Ollama's create would: blobs + a compact manifest with a newline."""
    config = put_blob(
        store,
        b'{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"8.0B",'
        b'"file_type":"Q4_0","architecture":"amd64","os":"linux"}\n',
    )
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", "digest": put_blob(store, gguf), "size": len(gguf),
         "from": "/root/base.gguf"},
        {"mediaType": "application/vnd.ollama.image.template", "digest": put_blob(store, b"{{ .Prompt }}"), "size": 13},
        {"mediaType": "application/vnd.ollama.image.license", "digest": put_blob(store, b"LICENSE A"), "size": 9},
        {"mediaType": "application/vnd.ollama.image.license", "digest": put_blob(store, b"LICENSE B"), "size": 9},
        {"mediaType": "application/vnd.ollama.image.params",
         "digest": put_blob(store, b'{"num_ctx":4096,"stop":["\\u003c/s\\u003e"]}\n'), "size": 41},
        {"mediaType": "application/vnd.ollama.image.messages",
         "digest": put_blob(store, b'[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]\n'),
         "size": 68},
        {"mediaType": "application/vnd.ollama.image.adapter", "digest": put_blob(store, b"lora"), "size": 4},
        {"mediaType": "application/vnd.ollama.image.projector", "digest": put_blob(store, b"mmproj"), "size": 6},
    ]  # fmt: skip
    if system:
        layers.append(
            {"mediaType": "application/vnd.ollama.image.system", "digest": put_blob(store, system.encode()),
             "size": len(system.encode())}
        )  # fmt: skip
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": 140},
        "layers": layers,
    }
    raw = json.dumps(doc, separators=(",", ":")).encode() + b"\n"
    path = store.manifests_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path, raw


def test_load_ollama_written_model(store: Store) -> None:
    path, raw = ollama_model(store, "registry.ollama.ai/library/llama3/latest", system="be brief")
    m = store.resolve("llama3")
    assert m is not None
    assert str(m.name) == "registry.ollama.ai/library/llama3:latest"
    assert m.short_name == "llama3:latest"
    assert m.digest == hashlib.sha256(raw).hexdigest()
    assert m.size == sum(layer["size"] for layer in json.loads(raw)["layers"]) + 140
    assert m.modified_at.tzinfo == UTC
    assert m.modified_at.timestamp() == pytest.approx(path.stat().st_mtime)
    assert m.config.model_family == "llama" and m.config.model_families == ("llama",)
    assert m.model_type == "8.0B" and m.file_type == "Q4_0" and m.model_format == "gguf"
    assert m.model_path is not None and m.model_path.read_bytes() == b"GGUF-fake"
    assert m.parent_model == "/root/base.gguf"
    assert m.template == "{{ .Prompt }}"
    assert m.system == "be brief"
    assert m.params == {"num_ctx": 4096, "stop": ["</s>"]}
    assert m.messages == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    assert m.license == ["LICENSE A", "LICENSE B"]
    assert [p.read_bytes() for p in m.adapter_paths] == [b"lora"]
    assert [p.read_bytes() for p in m.projector_paths] == [b"mmproj"]
    assert details(m).to_wire() == {
        "parent_model": "/root/base.gguf", "format": "gguf", "family": "llama", "families": ["llama"],
        "parameter_size": "8.0B", "quantization_level": "Q4_0",
    }  # fmt: skip


def test_resolve_case_insensitive_and_missing(store: Store) -> None:
    ollama_model(store, "registry.ollama.ai/library/llama3/latest")
    ollama_model(store, "registry.ollama.ai/MyNS/Mixed/Tag1", gguf=b"other")
    m = store.resolve("LLaMA3:Latest")
    assert m is not None and str(m.name) == "registry.ollama.ai/library/llama3:latest"
    m2 = store.resolve("REGISTRY.OLLAMA.AI/myns/mixed:tag1")
    assert m2 is not None and m2.short_name == "MyNS/Mixed:Tag1"
    assert store.resolve("llama3:8b") is None
    assert store.resolve("nothing") is None
    with pytest.raises(InvalidNameError, match=re.escape('name "bad/na.me/x:y" is invalid')):
        store.resolve("bad/na.me/x:y")
    with pytest.raises(InvalidNameError):
        store.resolve("model@sha256:abc")


def test_list_sorted_by_modified_desc(store: Store) -> None:
    old, _ = ollama_model(store, "registry.ollama.ai/library/old/latest")
    ollama_model(store, "registry.ollama.ai/library/new/latest")
    mid, _ = ollama_model(store, "registry.ollama.ai/library/mid/latest")
    age(old, 300)
    age(mid, 100)
    # Junk the 4-level glob sees but must ignore.
    (store.manifests_dir / "registry.ollama.ai/library/bad..name").mkdir(parents=True)
    assert [m.short_name for m in store.list_models()] == ["new:latest", "mid:latest", "old:latest"]


def test_write_manifest_atomic_and_readable(store: Store) -> None:
    d = put_blob(store, b"model")
    c = put_blob(store, b"{}")
    m = Manifest.build(Layer("application/vnd.docker.container.image.v1+json", c, 2),
                       [Layer("application/vnd.ollama.image.model", d, 5)])  # fmt: skip
    path = store.write_manifest("ns/x:tag", m)
    assert path == store.manifests_dir / "registry.ollama.ai/ns/x/tag"
    assert path.read_bytes() == m.to_bytes() and path.read_bytes().endswith(b"}\n")
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in store.manifests_dir.iterdir()) == ["registry.ollama.ai"]  # no temp left
    loaded = store.resolve("ns/x:tag")
    assert loaded is not None and loaded.digest == m.digest and loaded.short_name == "ns/x:tag"
    with pytest.raises(InvalidNameError):
        store.write_manifest("bad name", m)


def test_delete_removes_unshared_blobs_only(store: Store) -> None:
    ollama_model(store, "registry.ollama.ai/library/a/latest", gguf=b"only-a")
    ollama_model(store, "registry.ollama.ai/library/b/latest", gguf=b"only-b")
    a = store.resolve("a")
    assert a is not None and a.model_path is not None and a.template is not None
    shared_template = store.blobs.path(a.manifest.layers_of("application/vnd.ollama.image.template")[0].digest)
    assert store.delete(a.name)
    assert not a.model_path.exists()
    assert shared_template.exists()  # still used by b
    assert not (store.manifests_dir / "registry.ollama.ai/library/a").exists()
    assert store.resolve("b") is not None
    assert store.delete(Name.parse("a")) is False


def test_copy_shares_blobs(store: Store) -> None:
    ollama_model(store, "registry.ollama.ai/library/a/latest")
    store.copy(Name.parse("a"), Name.parse("me/b:v1"))
    a, b = store.resolve("a"), store.resolve("me/b:v1")
    assert a is not None and b is not None and a.digest == b.digest and a.model_path == b.model_path


def test_prune_rules(store: Store) -> None:
    ollama_model(store, "registry.ollama.ai/library/keep/latest")
    kept = store.resolve("keep")
    assert kept is not None
    for layer in kept.manifest.all_layers():
        age(store.blobs.path(layer.digest), 7200)  # referenced + old: kept
    old_orphan = store.blobs.path(put_blob(store, b"old orphan"))
    new_orphan = store.blobs.path(put_blob(store, b"new orphan"))
    old_partial = store.blobs.dir / ("sha256-" + "e" * 64 + "-partial")
    new_partial = store.blobs.dir / ("sha256-" + "f" * 64 + "-partial-0")
    old_partial.write_bytes(b"p")
    new_partial.write_bytes(b"p")
    age(old_orphan, 7200)
    age(old_partial, 7200)
    empty = store.manifests_dir / "registry.ollama.ai/library/gone"
    empty.mkdir(parents=True)

    removed = store.prune()
    assert sorted(removed) == sorted([old_orphan.name, old_partial.name])
    assert not old_orphan.exists() and not old_partial.exists()
    assert new_orphan.exists() and new_partial.exists()
    assert all(store.blobs.path(layer.digest).exists() for layer in kept.manifest.all_layers())
    assert not empty.exists()
    assert store.resolve("keep") is not None


def test_prune_skipped_when_a_manifest_is_corrupt(store: Store) -> None:
    ollama_model(store, "registry.ollama.ai/library/ok/latest")
    bad = store.manifests_dir / "registry.ollama.ai/library/bad/latest"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"{not json")
    orphan = store.blobs.path(put_blob(store, b"orphan"))
    age(orphan, 7200)
    assert store.prune() == []
    assert orphan.exists()
    # The corrupt manifest doesn't hide the good model from listing.
    assert [m.short_name for m in store.list_models()] == ["ok:latest"]


def test_startup_fixes_names_and_respects_noprune(store: Store) -> None:
    store.blobs.dir.mkdir(parents=True)
    colon = store.blobs.dir / ("sha256:" + "1" * 64)
    colon.write_bytes(b"x")
    age(colon, 7200)
    store.startup(noprune=True)
    fixed = store.blobs.dir / ("sha256-" + "1" * 64)
    assert fixed.exists() and not colon.exists()
    store.startup(noprune=False)
    assert not fixed.exists()
    assert os.listdir(store.blobs.dir) == []
