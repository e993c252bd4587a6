"""Layers as create builds them (``manifest/layer.go: NewLayer, NewLayerFromLayer, Remove``).

A new layer is written through ``Blobs`` (temp file, hash, rename), so a failed create never leaves a partial
blob. Each layer carries the progress status Ollama reports for it (``creating new layer sha256:…`` or
``using existing layer sha256:…``); create emits those statuses just before writing the manifest.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path

from pollama.store.blobs import BlobRef
from pollama.store.gguf_info import GGUFInfo
from pollama.store.manifest import Layer
from pollama.store.store import Store


@dataclass(frozen=True)
class NewLayer:
    """A layer plus what create needs to know about it: its progress status and, for GGUF layers, the header."""

    layer: Layer
    status: str = ""
    gguf: GGUFInfo | None = None
    from_files: bool = False  # came from user-supplied files (not from an existing model)

    @property
    def media_type(self) -> str:
        return self.layer.media_type

    @property
    def digest(self) -> str:
        return self.layer.digest

    def with_status(self, status: str) -> NewLayer:
        return replace(self, status=status)


def _status(ref: BlobRef) -> str:
    return f"{'creating new layer' if ref.created else 'using existing layer'} {ref.digest}"


def from_bytes(store: Store, data: bytes, media_type: str) -> NewLayer:
    """``NewLayer`` over in-memory content (template, system, params, messages, license, config)."""
    ref = store.blobs.write_bytes(data)
    return NewLayer(Layer(media_type, ref.digest, ref.size), _status(ref))


def from_file(store: Store, path: Path, media_type: str) -> NewLayer:
    """``NewLayer`` over a file we produced (a quantized GGUF): hashed once and linked into the store."""
    ref = store.blobs.import_file(path)
    return NewLayer(Layer(media_type, ref.digest, ref.size), _status(ref))


def from_blob(store: Store, digest: str, media_type: str, from_: str, name: str = "") -> NewLayer:
    """``NewLayerFromLayer``: reference an existing blob (touched so prune's grace period restarts)."""
    path = store.blobs.path(digest)
    size = path.stat().st_size  # FileNotFoundError when missing, like Go's os.Stat
    with contextlib.suppress(OSError):
        path.touch()
    return NewLayer(Layer(media_type, digest, size, from_=from_, name=name), f"using existing layer {digest}")


def remove_unused(store: Store, layer: Layer) -> None:
    """``Layer.Remove``: delete the blob unless some manifest references it."""
    if not layer.digest:
        return
    for manifest in store.manifests(continue_on_error=True).values():
        if layer.digest in manifest.digests():
            return
    with contextlib.suppress(ValueError):
        store.blobs.remove(layer.digest)


def drop(store: Store, layers: list[NewLayer], media_type: str) -> list[NewLayer]:
    """``removeLayer``: take every layer of ``media_type`` out (and off disk if nothing else uses it)."""
    kept = []
    for nl in layers:
        if nl.media_type == media_type:
            remove_unused(store, nl.layer)
        else:
            kept.append(nl)
    return kept
