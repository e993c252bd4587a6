"""Progress objects as Ollama's ``api.ProgressResponse`` marshals them (zero fields omitted)."""

from __future__ import annotations

from typing import Any


def progress(status: str, digest: str = "", total: int = 0, completed: int = 0) -> dict[str, Any]:
    d: dict[str, Any] = {"status": status}
    if digest:
        d["digest"] = digest
    if total:
        d["total"] = total
    if completed:
        d["completed"] = completed
    return d
