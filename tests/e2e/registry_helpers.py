"""A real OCI registry for the tests (Debian's ``docker-registry``, Distribution 2.8) and a byte-counting proxy.

The registry binary comes from the test command (``scripts/test`` installs it with apt); it is started on a
free loopback port with its own storage directory. The proxy sits between pollama and the registry so a test
can count the bytes the registry actually served, and hold the stream after a budget to catch a pull mid-way.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_helpers import free_port

from pollama.store.manifest import MEDIA_TYPE_CONFIG, MEDIA_TYPE_MODEL, Layer, Manifest
from pollama.store.store import Store

REGISTRY_BIN = "docker-registry"


def docker_registry() -> str:
    path = shutil.which(REGISTRY_BIN)
    if path is None:
        pytest.fail(
            f"{REGISTRY_BIN} is not on PATH: these tests need Debian's docker-registry package "
            "(scripts/test installs it, or: apt-get install docker-registry)",
            pytrace=False,
        )
    return path


class Registry:
    """``docker-registry serve`` on 127.0.0.1:<free port>, filesystem storage under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.storage = root / "storage"
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Registry:
        binary = docker_registry()
        self.storage.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n"
        )
        log = (self.root / "registry.log").open("wb")
        self.proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.root / "registry.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/v2/", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def blob_data(self, digest: str) -> Path:
        """Where Distribution keeps a blob's bytes."""
        hexd = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"


class CountingProxy:
    """A TCP proxy to ``target`` counting bytes each way. After :meth:`hold`, each connection stops forwarding
    downstream data once it has sent that many bytes, until :meth:`release`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.down = 0
        self.up = 0
        self.hold_after: int | None = None
        self.held = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._generation = 0
        self._sock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        """Zero the counters; data held for connections opened before this is dropped, never counted."""
        with self._lock:
            self.down = self.up = 0
            self._generation += 1

    def hold(self, after: int) -> None:
        self.hold_after = after
        self.held.clear()
        self._open.clear()

    def release(self) -> None:
        with self._lock:
            self.hold_after = None
        self._open.set()

    def close(self) -> None:
        self.release()
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, downstream: bool) -> None:
        sent = 0  # this connection's downstream bytes: the hold budget is per connection
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if not downstream:
                    with self._lock:
                        self.up += len(data)
                    dst.sendall(data)
                    continue
                with self._lock:
                    limit = self.hold_after
                    now = len(data) if limit is None else max(0, min(len(data), limit - sent))
                    self.down += now
                    generation = self._generation
                if now:
                    dst.sendall(data[:now])
                    sent += now
                rest = data[now:]
                if rest:
                    self.held.set()
                    self._open.wait()
                    with self._lock:
                        if generation != self._generation:
                            break  # counters were reset meanwhile: this connection belongs to the past
                        self.down += len(rest)
                    dst.sendall(rest)
                    sent += len(rest)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()


def write_random_model(models: Path, name: str, size: int, seed: int) -> Manifest:
    """A model whose weights are ``size`` pseudo-random bytes, written straight into a store as pollama would."""
    import random

    store = Store(models)
    blob = store.blobs.write_bytes(random.Random(seed).randbytes(size))
    config = store.blobs.write_bytes(
        json.dumps({"model_format": "gguf", "model_family": "test", "architecture": "amd64", "os": "linux"}).encode()
    )
    manifest = Manifest.build(
        Layer(MEDIA_TYPE_CONFIG, config.digest, config.size), [Layer(MEDIA_TYPE_MODEL, blob.digest, blob.size)]
    )
    store.write_manifest(name, manifest)
    return manifest


# Module-scoped fixtures (each test module gets its own registry); the e2e and page conftests re-export them.
@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("registry")).start()
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def proxy(registry: Registry) -> Iterator[CountingProxy]:
    p = CountingProxy(registry.port)
    yield p
    p.close()
