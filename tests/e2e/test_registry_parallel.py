"""Pulling in parallel ranged parts, the path every non-loopback registry gets, against a real registry.

A loopback registry is fetched part after part (see ``registry/download.py``), so the other tests never run
the parallel path. Here the pull runs in-process with the loopback check answered "no", against the same real
``docker-registry``: a blob of three parts is fetched in parallel, then a pull cancelled mid-way resumes from
the bytes its parts recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from registry_helpers import CountingProxy, Registry, write_random_model

from pollama.api.responses import Progress
from pollama.registry import download
from pollama.registry.parts import part_sizes
from pollama.registry.pull import pull
from pollama.registry.push import push
from pollama.store.names import Name
from pollama.store.store import Store

MB = 1_000_000
SIZE = 230 * MB  # Ollama's sizing: parts of 100, 100 and 30 MB


@pytest.fixture(scope="module")
def pushed(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> tuple[CountingProxy, str, str]:
    proxy = CountingProxy(registry.port)
    name = f"{proxy.host}/par/big:v1"
    src = tmp_path_factory.mktemp("src")
    manifest = write_random_model(src, name, SIZE, seed=9)
    events = asyncio.run(_collect(push(Store(src), Name.parse(name), insecure=True)))
    assert events[-1] == {"status": "success"}
    return proxy, name, manifest.layers[0].digest


async def _collect(it: AsyncIterator[Progress]) -> list[dict[str, Any]]:
    return [item.to_wire() async for item in it]


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "is_loopback", lambda url: False)


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _settled_states(store: Store, digest: str) -> list[dict[str, Any]]:
    """The parts' state files once the cancelled download's threads (named after the blob) have returned."""
    for thread in threading.enumerate():
        if thread.name.endswith(digest[7:19]):
            thread.join(timeout=60)
            assert not thread.is_alive(), f"{thread.name} still running after the pull was cancelled"
    return [json.loads(p.read_text()) for p in sorted(store.blobs.dir.glob("*-partial-*"))]


@pytest.mark.usefixtures("parallel")
def test_parallel_parts_pull(pushed: tuple[CountingProxy, str, str], tmp_path: Path) -> None:
    proxy, name, digest = pushed
    assert len(part_sizes(SIZE)) == 3
    store = Store(tmp_path)
    proxy.reset()
    events = asyncio.run(_collect(pull(store, Name.parse(name), insecure=True)))
    assert events[-1] == {"status": "success"}
    assert _sha(store.blobs.path(digest)) == digest
    assert not list(store.blobs.dir.glob("*partial*"))
    assert SIZE <= proxy.down < SIZE + 256_000  # every byte once


@pytest.mark.usefixtures("parallel")
def test_parallel_parts_resume(pushed: tuple[CountingProxy, str, str], tmp_path: Path) -> None:
    proxy, name, digest = pushed
    store = Store(tmp_path)

    async def pull_until(limit: int) -> None:
        async for item in pull(store, Name.parse(name), insecure=True):
            if item.digest == digest and item.completed >= limit:
                return  # closing the pull here cancels its download, as a client going away does

    asyncio.run(pull_until(60 * MB))
    states = _settled_states(store, digest)
    assert len(states) == 3
    assert all(s["Completed"] > 0 for s in states)  # the three parts were in flight together
    recorded = sum(s["Completed"] for s in states)
    assert recorded > 0
    proxy.reset()
    events = asyncio.run(_collect(pull(store, Name.parse(name), insecure=True)))
    assert events[-1] == {"status": "success"}
    assert _sha(store.blobs.path(digest)) == digest
    assert proxy.down < SIZE - recorded + 256_000  # recorded bytes were not fetched again
