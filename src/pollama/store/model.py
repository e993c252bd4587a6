"""A model as loaded from the store: its manifest, config blob and small layers (``server/images.go: GetModel``).

Loading one reads no GGUF; the use-cases that need its header (``/api/show``, ``/api/tags``) read it from
``model_path``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pollama.store.manifest import Manifest
from pollama.store.names import Name


@dataclass(frozen=True)
class ModelConfig:
    """The config blob (``types/model/config.go: ConfigV2``); ``extra`` keeps fields we don't model."""

    model_format: str = ""
    model_family: str = ""
    model_families: tuple[str, ...] | None = None
    model_type: str = ""  # parameter size, e.g. "268.10M"
    file_type: str = ""  # quantization level, e.g. "Q4_K_M"
    renderer: str = ""
    parser: str = ""
    requires: str = ""
    remote_host: str = ""
    remote_model: str = ""
    capabilities: tuple[str, ...] = ()
    context_length: int = 0
    embedding_length: int = 0
    base_name: str = ""
    draft: dict[str, Any] | None = None
    architecture: str = ""
    os: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    _STR_FIELDS = (
        "model_format", "model_family", "model_type", "file_type", "renderer", "parser", "requires",
        "remote_host", "remote_model", "base_name", "architecture", "os",
    )  # fmt: skip

    @classmethod
    def from_json(cls, d: object) -> ModelConfig:
        if not isinstance(d, dict):
            return cls()
        kw: dict[str, Any] = {}
        for key in cls._STR_FIELDS:
            v = d.get(key)
            if isinstance(v, str):
                kw[key] = v
        fams = d.get("model_families")
        if isinstance(fams, list):
            kw["model_families"] = tuple(str(f) for f in fams)
        caps = d.get("capabilities")
        if isinstance(caps, list):
            kw["capabilities"] = tuple(str(c) for c in caps)
        for key in ("context_length", "embedding_length"):
            v = d.get(key)
            if isinstance(v, int) and not isinstance(v, bool):
                kw[key] = v
        if isinstance(d.get("draft"), dict):
            kw["draft"] = d["draft"]
        known = {*cls._STR_FIELDS, "model_families", "capabilities", "context_length", "embedding_length", "draft"}
        kw["extra"] = {k: v for k, v in d.items() if k not in known}
        return cls(**kw)

    def to_json(self) -> dict[str, Any]:
        """Field order and ``omitempty`` exactly as ``ConfigV2`` marshals."""
        d: dict[str, Any] = {
            "model_format": self.model_format,
            "model_family": self.model_family,
            "model_families": list(self.model_families) if self.model_families is not None else None,
            "model_type": self.model_type,
            "file_type": self.file_type,
        }
        optional: list[tuple[str, Any]] = [
            ("renderer", self.renderer), ("parser", self.parser), ("requires", self.requires),
            ("remote_host", self.remote_host), ("remote_model", self.remote_model),
            ("capabilities", list(self.capabilities)), ("context_length", self.context_length),
            ("embedding_length", self.embedding_length), ("base_name", self.base_name), ("draft", self.draft),
        ]  # fmt: skip
        d.update((k, v) for k, v in optional if v)
        d["architecture"] = self.architecture
        d["os"] = self.os
        return d

    @property
    def is_gguf(self) -> bool:
        return self.model_format in ("", "gguf")


@dataclass(frozen=True)
class Model:
    """Everything ``GetModel`` gathers for one manifest."""

    name: Name
    manifest: Manifest
    modified_at: datetime  # manifest mtime, aware UTC
    config: ModelConfig
    model_path: Path | None = None  # the GGUF blob
    parent_model: str = ""  # the model layer's "from"
    adapter_paths: tuple[Path, ...] = ()
    projector_paths: tuple[Path, ...] = ()
    draft_path: Path | None = None
    template: str | None = None  # None: no template/prompt layer
    system: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    license: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """sha256 hex of the manifest file, without prefix."""
        return self.manifest.digest

    @property
    def size(self) -> int:
        return self.manifest.size

    @property
    def short_name(self) -> str:
        return self.name.display_shortest()

    # Convenience mirrors of the config blob, the names other packages reach for.
    @property
    def model_format(self) -> str:
        return self.config.model_format

    @property
    def model_family(self) -> str:
        return self.config.model_family

    @property
    def model_families(self) -> tuple[str, ...] | None:
        return self.config.model_families

    @property
    def model_type(self) -> str:
        return self.config.model_type

    @property
    def file_type(self) -> str:
        return self.config.file_type

    @property
    def capabilities(self) -> tuple[str, ...]:
        return self.config.capabilities
