"""Fixtures of the page's browser tests: one ``pollama serve`` and one headless Chromium per module.

The browser is Debian's ``chromium`` (``scripts/test`` installs it), driven by Playwright with its executable
path pointed at it: no browser is ever downloaded. The server is started as the end-to-end tests start theirs
(``tests/e2e``), on a free loopback port with a temporary store and ``HOME``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

# The end-to-end tests' helpers (Server, free_port, the registry) live beside them.
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from e2e_helpers import Server, spawn_server
from registry_helpers import proxy, registry  # noqa: F401 (module-scoped fixtures the registry tests share)
from ui_helpers import chromium


@pytest.fixture(scope="session")
def ui_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-models")


@pytest.fixture(scope="session")
def start_ui_server(ui_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = spawn_server(ui_models, tmp_path_factory.mktemp("ui-server"), env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def ui_server(start_ui_server: Callable[..., Server]) -> Server:
    """The server the page's tests share (default settings)."""
    return start_ui_server()


# Module scope, not session: while Playwright's sync API is open it leaves an asyncio loop marked running in the
# main thread, and every later async test of the session (anyio, asyncio.run) would refuse to start.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=chromium())
    yield b
    b.close()
