"""Shared fixtures for store tests: a tmp store and hand-built Ollama-style fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollama.store.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "models")
