"""Response objects that describe models: ``/api/tags``, ``/api/ps`` and ``/api/show``, in Ollama's field order
with Go's ``omitempty`` rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelDetails:
    """Go's ``api.ModelDetails``; ``families`` is always written (``null`` when empty)."""

    parent_model: str = ""
    format: str = ""
    family: str = ""
    families: tuple[str, ...] = ()
    parameter_size: str = ""
    quantization_level: str = ""
    context_length: int = 0
    embedding_length: int = 0

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "parent_model": self.parent_model,
            "format": self.format,
            "family": self.family,
            "families": list(self.families) if self.families else None,
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }
        if self.context_length:
            out["context_length"] = self.context_length
        if self.embedding_length:
            out["embedding_length"] = self.embedding_length
        return out


@dataclass(frozen=True, slots=True)
class ListedModel:
    """One model of ``/api/tags``."""

    name: str
    modified_at: str
    size: int
    digest: str
    details: ModelDetails
    capabilities: tuple[str, ...] = ()
    remote_model: str = ""
    remote_host: str = ""

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "model": self.name}
        if self.remote_model:
            out["remote_model"] = self.remote_model
        if self.remote_host:
            out["remote_host"] = self.remote_host
        out |= {
            "modified_at": self.modified_at,
            "size": self.size,
            "digest": self.digest,
            "details": self.details.to_wire(),
        }
        if self.capabilities:
            out["capabilities"] = list(self.capabilities)
        return out


@dataclass(frozen=True, slots=True)
class RunningModel:
    """One model of ``/api/ps``."""

    name: str
    size: int
    digest: str
    details: ModelDetails
    expires_at: str
    context_length: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.name,
            "size": self.size,
            "digest": self.digest,
            "details": self.details.to_wire(),
            "expires_at": self.expires_at,
            "size_vram": 0,
            "context_length": self.context_length,
        }


@dataclass(frozen=True, slots=True)
class ModelList:
    """The body of ``/api/tags`` and ``/api/ps``."""

    models: tuple[ListedModel, ...] | tuple[RunningModel, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"models": [m.to_wire() for m in self.models]}


@dataclass(frozen=True, slots=True)
class ShowMessage:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class ShowResponse:
    """The body of ``/api/show``."""

    modelfile: str
    details: ModelDetails
    modified_at: str
    license: str = ""
    parameters: str = ""
    template: str = ""
    system: str = ""
    messages: tuple[ShowMessage, ...] = ()
    model_info: dict[str, Any] = field(default_factory=dict)
    tensors: list[dict[str, Any]] | None = None
    capabilities: tuple[str, ...] = ()
    remote_model: str = ""
    remote_host: str = ""

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.license:
            out["license"] = self.license
        out["modelfile"] = self.modelfile
        if self.parameters:
            out["parameters"] = self.parameters
        if self.template:
            out["template"] = self.template
        if self.system:
            out["system"] = self.system
        out["details"] = self.details.to_wire()
        if self.messages:
            out["messages"] = [{"role": m.role, "content": m.content} for m in self.messages]
        if self.remote_model:
            out["remote_model"] = self.remote_model
        if self.remote_host:
            out["remote_host"] = self.remote_host
        out["model_info"] = self.model_info
        if self.tensors is not None:
            out["tensors"] = self.tensors
        if self.capabilities:
            out["capabilities"] = list(self.capabilities)
        out["modified_at"] = self.modified_at
        return out
