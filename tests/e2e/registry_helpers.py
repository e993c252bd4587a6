"""A real OCI registry for the tests (Debian's ``docker-registry``, Distribution 2.8) and a byte-counting proxy.

The registry is installed with apt when missing (CI runs on a fresh Debian/Ubuntu as root) and started on a
free loopback port with its own storage directory. The proxy sits between pollama and the registry so a test
can count the bytes the registry actually served, and hold the stream after a budget to catch a pull mid-way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
from e2e_helpers import free_port

REGISTRY_BIN = "docker-registry"


def ensure_docker_registry() -> str:
    path = shutil.which(REGISTRY_BIN)
    if path:
        return path
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "docker-registry"], check=True, env=env, stdout=subprocess.DEVNULL
    )
    path = shutil.which(REGISTRY_BIN)
    assert path, "docker-registry not installed"
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
        binary = ensure_docker_registry()
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
    """A TCP proxy to ``target`` counting bytes each way; ``hold_after`` stops forwarding downstream data once
    that many bytes went down, until :meth:`release`."""

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
        self._sock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.down = self.up = 0

    def hold(self, after: int) -> None:
        self.hold_after = after
        self.held.clear()
        self._open.clear()

    def release(self) -> None:
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
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, downstream: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if downstream:
                    with self._lock:
                        limit = self.hold_after
                        if limit is not None and self.down + len(data) > limit:
                            data_now, data = data[: max(limit - self.down, 0)], data[max(limit - self.down, 0) :]
                        else:
                            data_now, data = data, b""
                        self.down += len(data_now)
                    if data_now:
                        dst.sendall(data_now)
                    if data:
                        self.held.set()
                        self._open.wait()
                        with self._lock:
                            self.down += len(data)
                        dst.sendall(data)
                else:
                    with self._lock:
                        self.up += len(data)
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()
