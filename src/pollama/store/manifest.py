"""Image manifests and layers as Ollama stores them (``manifest/manifest.go``, ``manifest/layer.go``).

A manifest is a Docker v2 schema-2 document whose layers carry Ollama media types. We keep the exact bytes it
was read from: a model's API digest is the sha256 of the manifest *file*, and pulled manifests are stored as
the registry served them, so re-serialising would change digests. Unknown fields are kept on round trips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pollama import gojson

SCHEMA_VERSION = 2
MEDIA_TYPE_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_TYPE_CONFIG = "application/vnd.docker.container.image.v1+json"

_PREFIX = "application/vnd.ollama.image."
MEDIA_TYPE_MODEL = _PREFIX + "model"
MEDIA_TYPE_ADAPTER = _PREFIX + "adapter"
MEDIA_TYPE_PROJECTOR = _PREFIX + "projector"
MEDIA_TYPE_TEMPLATE = _PREFIX + "template"
MEDIA_TYPE_PROMPT = _PREFIX + "prompt"  # legacy name for a template layer
MEDIA_TYPE_SYSTEM = _PREFIX + "system"
MEDIA_TYPE_PARAMS = _PREFIX + "params"
MEDIA_TYPE_MESSAGES = _PREFIX + "messages"
MEDIA_TYPE_LICENSE = _PREFIX + "license"
MEDIA_TYPE_DRAFT = _PREFIX + "draft"
MEDIA_TYPE_TENSOR = _PREFIX + "tensor"
MEDIA_TYPE_JSON = _PREFIX + "json"
MEDIA_TYPE_EMBED = _PREFIX + "embed"  # deprecated, ignored when loading

_LAYER_KNOWN = ("mediaType", "digest", "size", "from", "name")
_MANIFEST_KNOWN = ("schemaVersion", "mediaType", "config", "layers")


class ManifestError(ValueError):
    """A manifest file that is not valid JSON of the expected shape."""


@dataclass(frozen=True)
class Layer:
    """One blob reference. ``from_``/``name`` are omitted from JSON when empty, as Go's ``omitempty`` does."""

    media_type: str
    digest: str
    size: int
    from_: str = ""
    name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.from_:
            d["from"] = self.from_
        if self.name:
            d["name"] = self.name
        d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: object) -> Layer:
        if not isinstance(d, dict):
            raise ManifestError("layer is not an object")
        size = d.get("size", 0)
        if not isinstance(size, int) or isinstance(size, bool):
            raise ManifestError("layer size is not an integer")
        return cls(
            media_type=_str(d, "mediaType"),
            digest=_str(d, "digest"),
            size=size,
            from_=_str(d, "from"),
            name=_str(d, "name"),
            extra={k: v for k, v in d.items() if k not in _LAYER_KNOWN},
        )


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest. ``raw`` holds the bytes it came from (None for one built in memory)."""

    config: Layer
    layers: tuple[Layer, ...]
    schema_version: int = SCHEMA_VERSION
    media_type: str = MEDIA_TYPE_MANIFEST
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    raw: bytes | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, config: Layer, layers: list[Layer] | tuple[Layer, ...]) -> Manifest:
        return cls(config=config, layers=tuple(layers))

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            d = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ManifestError(f"invalid manifest JSON: {e}") from e
        if not isinstance(d, dict):
            raise ManifestError("manifest is not an object")
        layers = d.get("layers") or []
        if not isinstance(layers, list):
            raise ManifestError("manifest layers is not a list")
        schema = d.get("schemaVersion", 0)
        # Ollama decodes a missing config into a zero Layer; keep that leniency.
        config = Layer.from_json(d["config"]) if d.get("config") is not None else Layer("", "", 0)
        return cls(
            config=config,
            layers=tuple(Layer.from_json(layer) for layer in layers),
            schema_version=schema if isinstance(schema, int) else 0,
            media_type=_str(d, "mediaType"),
            extra={k: v for k, v in d.items() if k not in _MANIFEST_KNOWN},
            raw=bytes(data),
        )

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schemaVersion": self.schema_version,
            "mediaType": self.media_type,
            "config": self.config.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
        }
        d.update(self.extra)
        return d

    def to_bytes(self) -> bytes:
        """The file contents: the original bytes if read from disk, else what Ollama's ``WriteManifest`` writes."""
        return self.raw if self.raw is not None else gojson.encode(self.to_json())

    @property
    def digest(self) -> str:
        """sha256 hex of the manifest bytes: the model's ``digest`` in the API."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @property
    def size(self) -> int:
        """Sum of the layer and config sizes (``/api/tags`` ``size``)."""
        return sum(layer.size for layer in self.layers) + self.config.size

    def all_layers(self) -> Iterator[Layer]:
        """Layers then the config, every blob this manifest keeps alive."""
        yield from self.layers
        yield self.config

    def digests(self) -> set[str]:
        return {layer.digest for layer in self.all_layers() if layer.digest}

    def layers_of(self, media_type: str) -> list[Layer]:
        return [layer for layer in self.layers if layer.media_type == media_type]


def _str(d: Mapping[str, Any], key: str) -> str:
    v = d.get(key, "")
    if v is None:
        return ""
    if not isinstance(v, str):
        raise ManifestError(f"{key} is not a string")
    return v
