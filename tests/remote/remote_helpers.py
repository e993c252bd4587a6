"""Shared pieces of the remote-model tests: a restartable ``llama-server`` upstream, the remote models file they
are described by, and a polling helper."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
QWEN = "qwen2.5-coder:0.5b"
CTX = 4096  # two slots of 2048 tokens each
HEALTH_INTERVAL = 0.5


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def llama_server_binary() -> Path:
    """The cached build; made by ``scripts/build-llama-server`` (tens of minutes cold, so never from a test)."""
    bench = load_module("remote_bench_serve", ROOT / "bench" / "serve.py")
    version = bench.llama_cpp_python_version()
    try:
        return Path(bench.ensure_llama_server(version, jobs=2, skip_build=True))
    except SystemExit as err:
        pytest.fail(f"{err} (run scripts/build-llama-server)")


@dataclass
class Upstream:
    """One llama-server process on a fixed loopback port (restartable on the same port)."""

    binary: Path
    gguf: Path
    port: int
    log: Path
    args: tuple[str, ...] = ("-c", str(CTX), "-np", "2", "--jinja")
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [str(self.binary), "-m", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += [*self.args, "-t", "1", "-tb", "1", "--metrics", "--no-webui"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"llama-server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metrics(self) -> dict[str, float]:
        """llama-server's Prometheus counters (``llamacpp:`` names, without the prefix)."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        out = {}
        for m in re.finditer(r"^llamacpp:(\w+) ([0-9.eE+-]+)$", text, re.M):
            out[m.group(1)] = float(m.group(2))
        return out

    def predicted(self) -> float:
        return self.metrics().get("tokens_predicted_total", 0.0)


def qwen_template(models_dir: Path) -> tuple[str, dict[str, object]]:
    """The built-in model's Go template and parameters, as its Modelfile gives them."""
    from pollama.store.store import Store

    record = Store(models_dir).resolve(QWEN)
    assert record is not None and record.template is not None
    return record.template, dict(record.params)


# A template with a thinking block (as in tests/e2e/test_instruct.py), so the thinking parser runs on a remote.
THINKING_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}"
    "{{- if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n{{ if .Think }}<think>\n{{ end }}"
)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def remotes_toml(upstreams: list[Upstream], embedder: Upstream, models_dir: Path) -> str:
    """The remote models: ``qwen-remote`` (two replicas, the upstream's own Jinja template), ``qwen-go`` (one
    replica, the built-in's Go template and parameters given here as a Modelfile would), ``qwen-queue`` (two
    replicas of one slot each, for the queue limit), ``qwen-generic`` (the same replica as ``qwen-go`` spoken to
    as a generic OpenAI server), ``qwen-thinks`` (a template with a thinking block) and ``minilm-remote``
    (embeddings)."""
    template, params = qwen_template(models_dir)
    stops = [*params.get("stop", []), "<|im_end|>", "<|endoftext|>"]  # type: ignore[misc]
    stop = ", ".join(_toml_str(s) for s in dict.fromkeys(stops))
    r0, r1, r2 = (u.url for u in upstreams)
    return f"""
[defaults]
engine = "llama-server"
health_interval = {HEALTH_INTERVAL}
parallel = 2

[[models]]
name = "qwen-remote"
model = "qwen"
upstreams = ["{r0}", "{r1}"]

[[models]]
name = "qwen-go"
upstreams = ["{r2}/v1"]
template = {_toml_str(template)}
parameters = {{ stop = [{stop}], temperature = 0 }}

[[models]]
name = "qwen-queue"
upstreams = [{{ url = "{r0}", parallel = 1 }}, {{ url = "{r1}", parallel = 1 }}]

[[models]]
name = "qwen-generic"
engine = "openai"
upstreams = ["{r2}"]
template = {_toml_str(template)}

[[models]]
name = "qwen-thinks"
upstreams = ["{r2}"]
template = {_toml_str(THINKING_TEMPLATE)}

[[models]]
name = "minilm-remote"
upstreams = ["{embedder.url}"]
capabilities = ["embedding"]
"""


def wait_for(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
