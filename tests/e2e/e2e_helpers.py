"""Shared pieces of the end-to-end tests: the model name, a handle on a running ``pollama serve`` and its start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

MODEL = "gemma3:270m"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    host: str
    proc: subprocess.Popen[bytes]
    log: Path

    def client(self, timeout: float = 300) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def runner_pids(self) -> list[int]:
        """Runner subprocesses of this server (children running ``pollama.runner``)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and b"pollama.runner" in cmdline:
                pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def spawn_server(models: Path, workdir: Path, env: dict[str, str], ready_timeout: float = 300) -> Server:
    """Start ``pollama serve`` on a free loopback port with store ``models``; its log and ``HOME`` go in ``workdir``.

    Returns once ``GET /`` answers; raises with the log if the server exits or does not answer in time.
    """
    host = f"127.0.0.1:{free_port()}"
    log = workdir / "serve.log"
    full_env = {
        **os.environ,
        # serve creates ~/.ollama/id_ed25519: keep tests out of the real home.
        "HOME": str(workdir / "home"),
        "OLLAMA_HOST": host,
        "OLLAMA_MODELS": str(models),
        "OLLAMA_CONTEXT_LENGTH": "2048",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pollama.cli.main", "serve"], env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(url=f"http://{host}", host=host, proc=proc, log=log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pollama serve exited: {log.read_text()}")
        try:
            if httpx.get(server.url, timeout=2).text == "Ollama is running":
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"pollama serve did not start: {log.read_text()}")
