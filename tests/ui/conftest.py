"""Fixtures of the page's browser tests: one ``pollama serve`` and one headless Chromium for the session.

The browser is Debian's ``chromium`` (``scripts/test`` installs it), driven by Playwright with its executable
path pointed at it: no browser is ever downloaded. The server is started as the end-to-end tests start theirs
(``tests/e2e``), on a free loopback port with a temporary store and ``HOME``.
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
from playwright.sync_api import Browser, Playwright, sync_playwright

# The end-to-end tests' helpers (Server, free_port, the registry) live beside them.
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from e2e_helpers import Server, free_port
from ui_helpers import chromium


@pytest.fixture(scope="session")
def ui_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-models")


@pytest.fixture(scope="session")
def start_ui_server(ui_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        port = free_port()
        host = f"127.0.0.1:{port}"
        log = tmp_path_factory.mktemp("ui-server") / "serve.log"
        full_env = {
            **os.environ,
            "HOME": str(log.parent / "home"),
            "OLLAMA_HOST": host,
            "OLLAMA_MODELS": str(ui_models),
            "OLLAMA_CONTEXT_LENGTH": "2048",
            **env,
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pollama.cli.main", "serve"], env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(url=f"http://{host}", host=host, proc=proc, log=log)
        started.append(server)
        deadline = time.monotonic() + 300
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
def ui_server(start_ui_server: Callable[..., Server]) -> Server:
    """The server the page's tests share (default settings)."""
    return start_ui_server()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=chromium())
    yield b
    b.close()
