"""SIGTERM during a pull (issue 10): the server exits 0 within its grace period, the store holds nothing but
complete blobs and the resumable ``-partial`` data and ``-partial-N`` state files Ollama also keeps, and the next
pull resumes from them."""

from __future__ import annotations

import contextlib
import hashlib
import re
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from e2e_helpers import Server
from registry_helpers import CountingProxy, write_random_model
from test_registry import Own, stream

from pollama.store.names import Name

MB = 1_000_000
BLOB = re.compile(r"sha256-[0-9a-f]{64}")
RESUMABLE = re.compile(r"sha256-[0-9a-f]{64}-partial(-\d+)?")


def test_sigterm_mid_pull_leaves_only_resumable_parts(
    start_server: Callable[..., Server], tmp_path_factory: pytest.TempPathFactory, proxy: CountingProxy
) -> None:
    own = Own(start_server, tmp_path_factory.mktemp("own"))
    name = f"{proxy.host}/library/sigterm:latest"
    size = 130 * MB
    manifest = write_random_model(own.models, name, size, seed=10)
    assert stream(own.server, "/api/push", {"model": name, "insecure": True})[1][-1] == {"status": "success"}
    own.store.delete(Name.parse(name))
    big = own.store.blobs.path(manifest.layers[0].digest)
    before = {p.name for p in big.parent.iterdir()}

    proxy.reset()
    proxy.hold(after=50 * MB)

    def first_pull() -> None:
        with contextlib.suppress(httpx.HTTPError):
            stream(own.server, "/api/pull", {"model": name, "insecure": True})

    t = threading.Thread(target=first_pull)
    t.start()
    assert proxy.held.wait(120)
    own.server.proc.send_signal(signal.SIGTERM)
    assert own.server.proc.wait(timeout=60) == 0, own.server.log.read_text()
    t.join(60)
    log = own.server.log.read_text()
    assert "Traceback" not in log, log

    # Only complete blobs (each hashing to its name) and the resumable part files are left.
    new = {p.name for p in big.parent.iterdir()} - before
    assert new, "the pull left nothing to resume from"
    assert all(BLOB.fullmatch(n) or RESUMABLE.fullmatch(n) for n in new), sorted(new)
    for n in new:
        if BLOB.fullmatch(n):
            assert hashlib.sha256((big.parent / n).read_bytes()).hexdigest() == n[7:]
    assert not big.exists()
    assert own.store.resolve(name) is None  # no manifest for a model that is not all there
    tmp = [p for p in own.models.rglob("*") if p.is_file() and "tmp" in p.name.lower()]
    assert not tmp, tmp

    proxy.release()
    proxy.reset()
    own.restart()
    _, lines = stream(own.server, "/api/pull", {"model": name, "insecure": True})
    assert lines[-1] == {"status": "success"}
    assert "sha256:" + hashlib.sha256(big.read_bytes()).hexdigest() == manifest.layers[0].digest
    assert proxy.down < manifest.size  # resumed, not fetched again from the start
    assert not list(big.parent.glob("*partial*"))
    assert isinstance(Path(big), Path)
