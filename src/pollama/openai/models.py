"""``/v1/models`` and ``/v1/models/{model}`` in Ollama's shapes: ``id`` the model's short name (or the name as
requested), ``created`` the manifest's modification time, ``owned_by`` the name's namespace."""

from __future__ import annotations

from typing import Any

from pollama.store.model import Model
from pollama.store.names import Name


def model_json(record: Model, id: str | None = None) -> dict[str, Any]:
    return {
        "id": id if id is not None else record.name.display_shortest(),
        "object": "model",
        "created": int(record.modified_at.timestamp()),
        "owned_by": Name.parse(record.name.display_shortest()).namespace,
    }


def models_json(records: list[Model]) -> dict[str, Any]:
    return {"object": "list", "data": [model_json(r) for r in records]}
