"""Real upstream engines for the remote-model tests: ``llama-server`` processes on loopback ports serving the built-in
``qwen2.5-coder:0.5b`` GGUF, and a live ``pollama serve`` whose remote models file points at them.

The binary is the benchmark's build (``bench/serve.py``: llama.cpp from the ``llama-cpp-python`` sdist, cached
under ``~/.cache/pollama-bench``); ``scripts/build-llama-server`` makes it, and ``scripts/test`` runs that first.
The GGUF is the one pollama imports into the test store. The servers are shared by every test of the session
(each llama-server: 2 slots, 1 thread, a small context, ``--metrics`` so tests can see which replica served).
The e2e modules here mark themselves ``e2e``; the policy and parsing tests beside them are model-free.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"
sys.path.insert(0, str(E2E))

from e2e_helpers import Server, free_port  # noqa: E402
from remote_helpers import QWEN, Upstream, llama_server_binary, load_module, remotes_toml  # noqa: E402

# The e2e fixtures (a shared model store, `start_server(**env)`), reused rather than copied.
_e2e = load_module("remote_e2e_conftest", E2E / "conftest.py")
models_dir = _e2e.models_dir
start_server = _e2e.start_server


@pytest.fixture(scope="session")
def qwen_gguf(models_dir: Path) -> Path:
    """The built-in instruct model's GGUF, imported into the test store as `pollama serve` does."""
    from pollama.store.builtin import ensure_builtin
    from pollama.store.store import Store

    store = Store(models_dir)
    ensure_builtin(store)
    record = store.resolve(QWEN)
    assert record is not None and record.model_path is not None
    return record.model_path


@pytest.fixture(scope="session")
def upstreams(qwen_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Upstream]]:
    binary = llama_server_binary()
    logs = tmp_path_factory.mktemp("llama-server")
    ups = [Upstream(binary, qwen_gguf, free_port(), logs / f"r{i}.log") for i in range(3)]
    try:
        for u in ups:
            u.start()
        yield ups
    finally:
        for u in ups:
            u.stop()


@pytest.fixture(scope="session")
def embedder(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """llama-server with embeddings on, serving the built-in all-minilm's GGUF (built by pollama's converter)."""
    from pollama.store.builtin_minilm import MINILM_NAME, ensure_builtin_minilm
    from pollama.store.store import Store

    store = Store(models_dir)
    ensure_builtin_minilm(store)
    record = store.resolve(MINILM_NAME)
    assert record is not None and record.model_path is not None
    log = tmp_path_factory.mktemp("llama-server-embed") / "embed.log"
    up = Upstream(llama_server_binary(), record.model_path, free_port(), log, ("-c", "512", "-np", "1", "--embeddings"))
    try:
        up.start()
        yield up
    finally:
        up.stop()


@pytest.fixture(scope="session")
def remotes_file(
    upstreams: list[Upstream], embedder: Upstream, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("remotes") / "remotes.toml"
    path.write_text(remotes_toml(upstreams, embedder, models_dir))
    return path


@pytest.fixture(scope="session")
def remote_server(start_server: Callable[..., Server], remotes_file: Path) -> Server:
    """`pollama serve` with the remote models file (and its built-in local models, untouched)."""
    return start_server(OLLAMA_REMOTES=str(remotes_file), OLLAMA_KEEP_ALIVE="30m")
