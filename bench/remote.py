"""Remote-engine benchmark: what pollama adds in front of an OpenAI-compatible engine, and what replicas give.

One command (``python bench/remote.py``):

1. finds (or builds) the benchmark's ``llama-server`` and the ``gemma3:270m`` GGUF (``bench/serve.py``);
2. starts two ``llama-server`` replicas (1 thread each, 4 slots) and one ``pollama serve`` whose remote models
   file names ``one`` (replica A) and ``two`` (replicas A and B), both with the template ``{{ .Prompt }}`` so the
   upstream receives exactly the client's prompt;
3. overhead: the same streaming ``/v1/completions`` client, straight to replica A and through pollama to replica
   A (model ``one``) in alternating pairs (the order flips every pair), same prompt and greedy decoding, so both
   produce the same tokens: time to first token and decode tokens/s, measured at the client (decode: from the
   first to the last token). Each pair waits (up to ``--quiet-wait`` s) for the rest of the machine to go quiet
   and records how busy it was, then wakes both paths with an untimed request; the figures are medians of the
   per-pair differences;
4. scaling: ``--streams`` concurrent streams straight to replica A, then through pollama to ``one`` and to
   ``two``: aggregate tokens/s.

It prints a table and writes ``.bench-cache/remote-latest.json``. A benchmark, not a test: it never fails on a
figure (the machine is shared and noisy); it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/serve.py: the llama-server build, the model, process handling.
import serve

PROMPT = "Count from 1 to 1000, writing every number as digits, separated by commas: 1, 2, 3,"
TARGET_DECODE_LOSS = 0.03
TARGET_TTFT_ADDED_MS = 5.0


@dataclass
class Stream:
    ttft_s: float
    decode_tps: float | None
    tokens: int
    wall_s: float


def stream_completion(base: str, model: str, max_tokens: int, prompt: str = PROMPT) -> Stream:
    """One streamed ``/v1/completions`` call, timed at the client."""
    body = {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": serve.SEED,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    start = time.perf_counter()
    first = last = None
    usage: dict[str, Any] = {}
    with httpx.Client(timeout=600) as http, http.stream("POST", base + "/v1/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            payload = line[6:]
            if payload.strip() == "[DONE]":
                break
            event = json.loads(payload)
            if event.get("usage"):
                usage = event["usage"]
            choices = event.get("choices") or []
            if choices and choices[0].get("text"):
                now = time.perf_counter()
                first = first or now
                last = now
    end = time.perf_counter()
    tokens = int(usage.get("completion_tokens", 0))
    decode = (tokens - 1) / (last - first) if first and last and last > first and tokens > 1 else None
    return Stream(ttft_s=(first or end) - start, decode_tps=decode, tokens=tokens, wall_s=end - start)


def aggregate(base: str, model: str, streams: int, max_tokens: int) -> float:
    """Tokens/s over all of ``streams`` concurrent streams (each with its own prompt)."""
    prompts = [f"{p} Continue for a long time." for p in serve.THROUGHPUT_PROMPTS]
    start = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        done = list(
            pool.map(lambda i: stream_completion(base, model, max_tokens, prompts[i % len(prompts)]), range(streams))
        )
    return sum(s.tokens for s in done) / (time.perf_counter() - start)


def start_llama_server(
    binary: Path, model: Path, args: argparse.Namespace, name: str
) -> tuple[serve.ServerProcess, str]:
    port = serve.free_port()
    cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-t", "1", "-tb", "1"]
    cmd += ["-c", str(args.ctx * args.parallel), "-np", str(args.parallel), "--no-webui"]
    proc = serve.ServerProcess(name, cmd, dict(os.environ), serve.CACHE_DIR / "logs" / f"remote-{name}.log")
    url = f"http://127.0.0.1:{port}"
    proc.wait_ready(lambda: httpx.get(url + "/health", timeout=5).status_code == 200, 300)
    return proc, url


def remotes_file(a: str, b: str, parallel: int, path: Path) -> None:
    common = f'engine = "llama-server"\ntemplate = "{{{{ .Prompt }}}}"\nparallel = {parallel}\n'
    path.write_text(
        f'[[models]]\nname = "one"\nupstreams = ["{a}"]\n{common}\n'
        f'[[models]]\nname = "two"\nupstreams = ["{a}", "{b}"]\n{common}'
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (from /proc)."""
    rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def quiet(args: argparse.Namespace) -> float | None:
    """Wait (up to --quiet-wait s) until other work keeps at most --quiet-busy of the cores busy; the last sample."""
    deadline = time.monotonic() + args.quiet_wait
    busy = serve.cpu_busy(0.5)
    while busy is not None and busy > args.quiet_busy and time.monotonic() < deadline:
        busy = serve.cpu_busy(0.5)
    return busy


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=15, help="direct/through-pollama pairs (default 15)")
    p.add_argument("--quiet-wait", type=float, default=20.0, help="seconds to wait for a quiet machine per pair")
    p.add_argument("--quiet-busy", type=float, default=0.3, help="'quiet': at most this fraction of cores busy")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--streams", type=int, default=4, help="concurrent streams for the scaling run (default 4)")
    p.add_argument("--agg-runs", type=int, default=3, help="rounds of the scaling run (default 3)")
    p.add_argument("--ctx", type=int, default=1024, help="context per slot")
    p.add_argument("--parallel", type=int, default=4, help="slots per replica")
    p.add_argument("--skip-build", action="store_true")
    args = p.parse_args(argv)

    binary = serve.ensure_llama_server(serve.llama_cpp_python_version(), 2, args.skip_build)
    model = serve.ensure_model()
    info = serve.machine_info()
    servers: list[serve.ServerProcess] = []
    try:
        ra, a = start_llama_server(binary, model, args, "replica-a")
        servers.append(ra)
        rb, b = start_llama_server(binary, model, args, "replica-b")
        servers.append(rb)
        work = Path(tempfile.mkdtemp(prefix="pollama-bench-remote-"))
        remotes_file(a, b, args.parallel, work / "remotes.toml")
        port = serve.free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env |= {
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_REMOTES": str(work / "remotes.toml"),
            # A store kept between runs: the built-in models are imported into it once.
            "OLLAMA_MODELS": str(serve.CACHE_DIR / "remote-models"),
            "OLLAMA_KEEP_ALIVE": "30m",
            "HOME": str(work),
        }
        cmd = [sys.executable, "-m", "pollama.cli.main", "serve"]
        pollama = serve.ServerProcess("pollama", cmd, env, serve.CACHE_DIR / "logs" / "remote-pollama.log")
        servers.append(pollama)
        pollama.wait_ready(lambda: "Ollama is running" in httpx.get(base, timeout=5).text, 600)

        for target, name in ((a, "x"), (base, "one"), (base, "two")):
            stream_completion(target, name, 8)  # warm: load, prompt cached upstream
        direct: list[Stream] = []
        through: list[Stream] = []
        busy: list[float | None] = []
        pollama_cpu = 0.0
        for i in range(args.runs):
            busy.append(quiet(args))
            # The first request after an idle spell is slow on both paths (the processes were descheduled):
            # wake both, untimed, so the pair compares the paths and not who went first.
            stream_completion(a, "x", 2)
            stream_completion(base, "one", 2)
            if i % 2:
                cpu0 = cpu_seconds(pollama.proc.pid)
                through.append(stream_completion(base, "one", args.max_tokens))
                pollama_cpu += cpu_seconds(pollama.proc.pid) - cpu0
                direct.append(stream_completion(a, "x", args.max_tokens))
            else:
                direct.append(stream_completion(a, "x", args.max_tokens))
                cpu0 = cpu_seconds(pollama.proc.pid)
                through.append(stream_completion(base, "one", args.max_tokens))
                pollama_cpu += cpu_seconds(pollama.proc.pid) - cpu0
            serve.log(
                f"run {i + 1}: direct ttft {direct[-1].ttft_s * 1000:.1f} ms {direct[-1].decode_tps or 0:.1f} tok/s; "
                f"pollama ttft {through[-1].ttft_s * 1000:.1f} ms {through[-1].decode_tps or 0:.1f} tok/s"
            )
        rounds: list[tuple[float, float, float]] = []
        for i in range(args.agg_runs):
            figures = []
            for target, name in ((a, "x"), (base, "one"), (base, "two")):
                quiet(args)
                figures.append(aggregate(target, name, args.streams, args.max_tokens))
            rounds.append((figures[0], figures[1], figures[2]))
            serve.log(
                f"aggregate round {i + 1}: straight to A {figures[0]:.1f}, through pollama to A {figures[1]:.1f}, "
                f"to A and B {figures[2]:.1f} tok/s"
            )
        straight = statistics.median(r[0] for r in rounds)
        one = statistics.median(r[1] for r in rounds)
        two = statistics.median(r[2] for r in rounds)
    finally:
        for s in reversed(servers):
            s.stop()

    d_ttft = median([s.ttft_s * 1000 for s in direct])
    t_ttft = median([s.ttft_s * 1000 for s in through])
    d_tps = median([s.decode_tps for s in direct if s.decode_tps])
    t_tps = median([s.decode_tps for s in through if s.decode_tps])
    # Paired: each pair ran back to back under the same load, so its difference cancels most of the noise.
    added = median([(t.ttft_s - d.ttft_s) * 1000 for d, t in zip(direct, through, strict=True)])
    loss = median(
        [1 - t.decode_tps / d.decode_tps for d, t in zip(direct, through, strict=True) if d.decode_tps and t.decode_tps]
    )
    result = {
        "busy_before_pairs": busy,
        "machine": info,
        "args": vars(args),
        "direct": [asdict(s) for s in direct],
        "through_pollama": [asdict(s) for s in through],
        "ttft_ms": {"direct": d_ttft, "pollama": t_ttft},
        "decode_tps": {"direct": d_tps, "pollama": t_tps},
        "aggregate_tps": {"direct_one_replica": straight, "one_replica": one, "two_replicas": two},
        "aggregate_rounds": rounds,
    }
    result["ttft_added_ms"], result["decode_loss"] = added, loss
    # CPU time is not disturbed by other work the way wall-clock time is: what pollama spends per token is its
    # cost in front of an engine whatever the machine's load.
    tokens = sum(s.tokens for s in through)
    result["pollama_cpu_ms_per_token"] = cpu_ms = 1000 * pollama_cpu / tokens if tokens else None
    print(f"{'':32}{'direct':>12}{'via pollama':>14}")
    print(f"{'TTFT, median (ms)':32}{d_ttft or 0:>12.1f}{t_ttft or 0:>14.1f}   paired added {added or 0:+.1f} ms")
    print(f"{'decode, median (tok/s)':32}{d_tps or 0:>12.1f}{t_tps or 0:>14.1f}   paired loss {(loss or 0):+.1%}")
    print(f"aggregate, {args.streams} streams: straight to 1 replica {straight:.1f} tok/s; through pollama")
    print(f"  to 1 replica {one:.1f} tok/s, to 2 replicas {two:.1f} tok/s")
    print(f"  scaling x{two / one:.2f} (targets: TTFT +<{TARGET_TTFT_ADDED_MS} ms, decode -<{TARGET_DECODE_LOSS:.0%})")
    if cpu_ms is not None:
        print(f"pollama's own CPU per generated token: {cpu_ms:.2f} ms ({tokens} tokens over {args.runs} requests)")
    known = [b for b in busy if b is not None]
    if known:
        print(f"other load before the pairs: median {statistics.median(known):.0%} of all cores busy")
    serve.CACHE_DIR.mkdir(exist_ok=True)
    (serve.CACHE_DIR / "remote-latest.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
