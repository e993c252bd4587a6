"""Fixtures of the in-process HTTP tests: one store of tiny models per session, a fresh app per test."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_harness import Served, Start, install_models, serve


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # The scheduler and the use-cases are written against asyncio.
    return "asyncio"


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_models(tmp_path_factory.mktemp("store") / "models")


@pytest.fixture
def start(models: Path) -> Start:
    """``async with start(OLLAMA_X="...") as srv``: an app with its own settings."""
    return functools.partial(serve, models)


@pytest.fixture
async def srv(models: Path) -> AsyncIterator[Served]:
    """An app with default settings."""
    async with serve(models) as served:
        yield served
