"""Request bodies of the model-lifecycle endpoints: create, copy, delete, pull and push.

Strict types as Go decodes them: a wrong JSON type is a 400 with Go's message (see ``api.jsonio.decode``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictStr

from pollama.api.types import Message, WireModel

GO_TYPES_CREATE = {
    "files": "map[string]string",
    "adapters": "map[string]string",
    "draft_files": "map[string]string",
    "parameters": "map[string]interface {}",
    "info": "map[string]interface {}",
    "messages": "[]api.Message",
}


class CreateRequest(WireModel):
    model: StrictStr = ""
    name: StrictStr = ""  # deprecated spelling of model
    stream: StrictBool | None = None
    quantize: StrictStr = ""
    quantization: StrictStr = ""  # deprecated spelling of quantize
    draft_quantize: StrictStr = ""
    from_: StrictStr = Field("", alias="from")
    remote_host: StrictStr = ""
    files: dict[str, StrictStr] | None = None
    draft_files: dict[str, StrictStr] | None = None
    adapters: dict[str, StrictStr] | None = None
    template: StrictStr = ""
    license: Any = None  # a string or a list of strings
    system: StrictStr = ""
    parameters: dict[str, Any] | None = None
    messages: list[Message] | None = None
    renderer: StrictStr = ""
    parser: StrictStr = ""
    requires: StrictStr = ""
    info: dict[str, Any] | None = None


class CopyRequest(WireModel):
    source: StrictStr = ""
    destination: StrictStr = ""


class DeleteRequest(WireModel):
    model: StrictStr = ""
    name: StrictStr = ""


class RegistryRequest(WireModel):
    """``api.PullRequest`` / ``api.PushRequest`` (username and password are accepted and ignored)."""

    model: StrictStr | None = None
    name: StrictStr | None = None
    insecure: StrictBool | None = None
    stream: StrictBool | None = None
    username: StrictStr | None = None
    password: StrictStr | None = None
