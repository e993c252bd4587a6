"""Manifest bytes as Ollama writes them, digest, unknown fields (Go JSON details: tests/unit/test_gojson.py)."""

from __future__ import annotations

import hashlib

import pytest

from pollama import gojson
from pollama.store.manifest import MEDIA_TYPE_CONFIG, MEDIA_TYPE_MODEL, Layer, Manifest, ManifestError

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64

# Exactly what Go's json.NewEncoder(f).Encode(manifest) produces for this manifest.
OLLAMA_BYTES = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
    b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"' + D1.encode() + b'",'
    b'"size":10},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"' + D2.encode() + b'",'
    b'"size":20,"from":"registry.ollama.ai/library/base:latest"}]}\n'
)


def test_written_bytes_match_ollama() -> None:
    m = Manifest.build(
        Layer(MEDIA_TYPE_CONFIG, D1, 10),
        [Layer(MEDIA_TYPE_MODEL, D2, 20, from_="registry.ollama.ai/library/base:latest")],
    )
    assert m.to_bytes() == OLLAMA_BYTES
    assert m.digest == hashlib.sha256(OLLAMA_BYTES).hexdigest()
    assert m.size == 30


def test_empty_from_and_name_are_omitted() -> None:
    assert Layer(MEDIA_TYPE_MODEL, D2, 1).to_json() == {"mediaType": MEDIA_TYPE_MODEL, "digest": D2, "size": 1}
    assert Layer(MEDIA_TYPE_MODEL, D2, 1, name="t.w").to_json()["name"] == "t.w"


def test_read_keeps_original_bytes_and_unknown_fields() -> None:
    # Pretty-printed, as a registry might serve it, with fields we don't model.
    raw = (
        b'{\n  "schemaVersion": 2,\n  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
        b'  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "'
        + D1.encode()
        + b'", "size": 10},\n  "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "'
        + D2.encode()
        + b'", "size": 20, "urls": ["x"]}],\n  "annotations": {"a": "b"}\n}'
    )
    m = Manifest.from_bytes(raw)
    assert m.to_bytes() == raw
    assert m.digest == hashlib.sha256(raw).hexdigest()
    assert m.layers[0].media_type == MEDIA_TYPE_MODEL and m.layers[0].size == 20
    assert m.extra == {"annotations": {"a": "b"}}
    # Re-serialising from fields keeps the unknown ones.
    rebuilt = Manifest.from_bytes(gojson.encode(m.to_json()))
    assert rebuilt.extra == {"annotations": {"a": "b"}} and rebuilt.layers[0].extra == {"urls": ["x"]}


def test_roundtrip_bytes() -> None:
    m = Manifest.from_bytes(OLLAMA_BYTES)
    assert m.to_bytes() == OLLAMA_BYTES
    assert gojson.encode(m.to_json()) == OLLAMA_BYTES


@pytest.mark.parametrize("bad", [b"", b"not json", b"[]", b'{"layers": 3}', b'{"layers": [{"size": "x"}]}'])
def test_corrupt_manifest_raises(bad: bytes) -> None:
    with pytest.raises(ManifestError):
        Manifest.from_bytes(bad)
