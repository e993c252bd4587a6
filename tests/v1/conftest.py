"""Fixtures of the OpenAI-layer tests: the in-process app of tests/server (tiny models, a fake runner)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "server"))

from app_harness import Served, install_models, serve


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_models(tmp_path_factory.mktemp("store") / "models")


@pytest.fixture
async def srv(models: Path) -> AsyncIterator[Served]:
    async with serve(models) as served:
        yield served
