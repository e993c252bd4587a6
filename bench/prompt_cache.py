"""Prompt-cache benchmark: pollama versus llama.cpp's ``llama-server`` (default ``--cache-ram``) on ``gemma3:270m``,
same threads, slots and context, both servers up at once and taking turns.

    python bench/prompt_cache.py [--runs 2] [--streams 4,8,16]

Measures, on both servers, interleaved (each chat turn goes to one server then the other, alternating which goes
first; the other phases alternate run by run), so a shared machine's slow and fast stretches fall on both alike:

1. **many chats**: 12 chats take turns round robin on 4 slots, five turns each (~170 tokens a turn, canned
   replies so both servers see byte-identical histories); the median time to first token of turns 3-5, when a
   returning chat's history has long been pushed out of the slots by the others;
2. **shared-prefix burst**: 8 concurrent requests sharing a ~1,000-token system prompt with different questions
   (a new system prompt per run); the median time to first token of each run;
3. **throughput**: single-stream decode tokens/s and aggregate tokens/s at each of ``--streams``, as
   ``bench/serve.py`` measures them (128 tokens each, greedy).

Reuses ``bench/serve.py``'s helpers (server processes, clients, the llama-server build and the model file). A
benchmark, not a test: the machine is shared, so it reports the other processes' load next to the figures and
never fails on them. Each ratio is given two ways: of the medians, and the median of the pairs' ratios (the steadier
on a machine whose speed drifts). Results go to ``.bench-cache/prompt-cache-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve as sb  # bench/serve.py, imported as a sibling script

CHATS = 12
TURNS = 5
SYSTEM_SENTENCES = 95  # ~1,000 tokens
BURST = 8


@dataclass
class Result:
    name: str
    command: str = ""
    ready_s: float | None = None
    chat_ttft_s: list[float] = field(default_factory=list)  # turns 3-5 of every chat
    chat_ttft_by_turn: dict[int, list[float]] = field(default_factory=dict)
    burst_ttft_s: list[float] = field(default_factory=list)
    burst_prompt_tokens: int | None = None
    single_tps: list[float] = field(default_factory=list)
    multi_tps: dict[int, list[float]] = field(default_factory=dict)
    others_busy: list[float] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {
            "chat_turns_3_5_ttft_ms": _ms(sb.median(self.chat_ttft_s)),
            "burst_ttft_ms": _ms(sb.median(self.burst_ttft_s)),
            "single_stream_tps": sb.median(self.single_tps),
        }
        for n, xs in sorted(self.multi_tps.items()):
            out[f"{n}_stream_tps"] = sb.median(xs)
        return out


def _ms(x: float | None) -> float | None:
    return None if x is None else x * 1000


def system_prompt(run: int) -> str:
    rng = random.Random(5000 + run)
    head = f"You are assistant number {run} of the harbour archive. Background notes follow. "
    return head + " ".join(sb._sentence(rng) for _ in range(SYSTEM_SENTENCES))


QUESTIONS = [
    "What is the first note about?",
    "Name two places mentioned above.",
    "Which object appears most often?",
    "Summarize the notes in one sentence.",
    "What happens in the evening?",
    "Is the river mentioned? Answer briefly.",
    "List three verbs used above.",
    "What would you title these notes?",
]


def stream_ttft(client: sb.Client, prompt: str, n_predict: int) -> float:
    """Send one raw (already rendered) prompt, streaming; seconds until the first generated text."""
    if isinstance(client, sb.PollamaClient):
        path = "/api/generate"
        body: dict[str, Any] = {
            "model": client.model,
            "prompt": prompt,
            "raw": True,
            "stream": True,
            "keep_alive": client.keep_alive,
            "options": {"temperature": 0.0, "seed": sb.SEED, "num_predict": n_predict},
        }
    else:
        path = "/completion"
        body = {
            "prompt": prompt,
            "n_predict": n_predict,
            "temperature": 0.0,
            "seed": sb.SEED,
            "cache_prompt": True,
            "stream": True,
        }
    start = time.perf_counter()
    ttft: float | None = None
    with client.http.stream("POST", path, json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.strip():
                continue
            if isinstance(client, sb.PollamaClient):
                payload = line
            elif line.startswith("data: "):
                payload = line[len("data: ") :]
            else:
                continue
            if payload.strip() == "[DONE]":
                break
            chunk = json.loads(payload)
            if "error" in chunk:
                raise RuntimeError(f"{client.name} error: {chunk['error']}")
            text = chunk.get("response") if isinstance(client, sb.PollamaClient) else chunk.get("content")
            if ttft is None and (text or chunk.get("done") or chunk.get("stop")):
                ttft = time.perf_counter() - start
    return ttft if ttft is not None else time.perf_counter() - start


Side = tuple[sb.Client, Result]


def order(sides: list[Side], k: int) -> list[Side]:
    """Who goes first alternates, so neither server always meets the machine right after the other's work."""
    return sides if k % 2 == 0 else sides[::-1]


def many_chats(sides: list[Side], args: argparse.Namespace, run: int) -> None:
    convs = [sb.build_conversation(run=100 * (run + 1) + c, turns=TURNS) for c in range(CHATS)]
    for turn in range(1, TURNS + 1):
        times: dict[str, list[float]] = {}
        for c in range(CHATS):
            prompt = sb.render_gemma(convs[c][: 2 * turn - 1])
            # Each chat's turn goes to both servers back to back: a pair measured under the same conditions.
            for client, result in order(sides, c + turn + run):
                t = stream_ttft(client, prompt, args.chat_predict)
                times.setdefault(result.name, []).append(t)
                result.chat_ttft_by_turn.setdefault(turn, []).append(t)
                if turn >= 3:
                    result.chat_ttft_s.append(t)
        medians = ", ".join(f"{name} {statistics.median(ts) * 1000:.0f} ms" for name, ts in times.items())
        sb.log(f"chats run {run + 1} turn {turn}: median TTFT {medians}")


def burst(client: sb.Client, result: Result, args: argparse.Namespace, run: int) -> None:
    system = system_prompt(run)
    prompts = [sb.render_gemma([{"role": "user", "content": system + "\n\n" + q}]) for q in QUESTIONS[:BURST]]
    times: list[float] = [0.0] * len(prompts)
    barrier = threading.Barrier(len(prompts))
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            barrier.wait()
            times[i] = stream_ttft(client, prompts[i], args.burst_predict)
        except BaseException as e:  # reported from the main thread below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    result.burst_ttft_s.append(statistics.median(times))
    sb.log(
        f"{client.name}: burst run {run + 1}: median TTFT {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )


def throughput(sides: list[Side], args: argparse.Namespace, sessions: list[int]) -> None:
    prompts = [sb.render_gemma([{"role": "user", "content": p}]) for p in sb.THROUGHPUT_PROMPTS]
    for i in range(args.throughput_runs):
        for client, result in order(sides, i):
            result.others_busy.append(sb.settle(args, sessions) or 0.0)
            g = client.generate(prompts[0], args.n_predict)
            result.single_tps.append(g.decode_tps)
            sb.log(f"{client.name}: single stream run {i + 1}: {g.decode_tps:.1f} tok/s")
    for n in args.stream_counts:
        for i in range(args.throughput_runs):
            for client, result in order(sides, i + n):
                result.others_busy.append(sb.settle(args, sessions) or 0.0)
                gens, wall = sb.concurrent_generate(client, [prompts[k % len(prompts)] for k in range(n)], args)
                tokens = sum(g.tokens for g in gens)
                result.multi_tps.setdefault(n, []).append(tokens / wall)
                sb.log(f"{client.name}: {n} streams run {i + 1}: {tokens / wall:.1f} tok/s aggregate")


def measure(sides: list[Side], args: argparse.Namespace, sessions: list[int]) -> None:
    """Every phase on both servers, interleaved request by request (chats) or run by run (the rest), so slow
    and fast stretches of a shared machine fall on both alike."""
    for client, _ in sides:
        client.generate(sb.render_gemma([{"role": "user", "content": "Hello"}]), 8)  # load, fault weights in
    for run in range(args.runs):
        busy = sb.settle(args, sessions) or 0.0  # the chat turns of both servers follow one wait
        for _, result in sides:
            result.others_busy.append(busy)
        many_chats(sides, args, run)
    for run in range(args.runs):
        for client, result in order(sides, run):
            result.others_busy.append(sb.settle(args, sessions) or 0.0)
            burst(client, result, args, run)
    if args.throughput_runs:
        throughput(sides, args, sessions)


@dataclass
class Server:
    process: sb.ServerProcess
    client: sb.Client
    result: Result
    ready: Callable[[], bool]


def llama_server(binary: Path, model: Path, args: argparse.Namespace, stamp: str) -> Server:
    port = sb.free_port()
    # fmt: off
    cmd = [
        str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
        "-t", str(args.threads), "-tb", str(args.threads),
        "-c", str(args.ctx * args.parallel), "-np", str(args.parallel), "--kv-unified", "--no-webui",
    ]
    # fmt: on
    client = sb.LlamaServerClient(f"http://127.0.0.1:{port}")
    log_path = sb.CACHE_DIR / "logs" / f"pc-llama-server-{stamp}.log"
    process = sb.ServerProcess(client.name, cmd, dict(os.environ), log_path)
    return Server(process, client, Result(client.name, shlex.join(cmd)), lambda: client.http.get("/health").is_success)


def pollama_server(args: argparse.Namespace, models: str, stamp: str) -> Server:
    port = sb.free_port()
    cmd = shlex.split(args.pollama_cmd) if args.pollama_cmd else [sys.executable, "-m", "pollama.cli.main", "serve"]
    env = dict(os.environ)
    src = str(sb.REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(x for x in (src, env.get("PYTHONPATH", "")) if x)
    env.update(
        {
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_NUM_PARALLEL": str(args.parallel),
            "OLLAMA_CONTEXT_LENGTH": str(args.ctx),
            "OLLAMA_MODELS": models,  # a fresh store: pollama imports the built-in gemma3:270m into it
            "OLLAMA_KEEP_ALIVE": "30m",
        }
    )
    if args.pollama_cache_ram is not None:
        env["OLLAMA_CACHE_RAM"] = str(args.pollama_cache_ram)
    client = sb.PollamaClient(f"http://127.0.0.1:{port}", sb.POLLAMA_MODEL)
    log_path = sb.CACHE_DIR / "logs" / f"pc-pollama-{stamp}.log"
    process = sb.ServerProcess(client.name, cmd, env, log_path)
    return Server(
        process, client, Result(client.name, shlex.join(cmd)), lambda: "Ollama is running" in client.http.get("/").text
    )


def run_all(servers: list[Server], args: argparse.Namespace) -> None:
    """Wait for every server, then measure them side by side; a failure is recorded on both results."""
    try:
        for s in servers:
            s.result.ready_s = s.process.wait_ready(s.ready, args.ready_timeout)
        measure([(s.client, s.result) for s in servers], args, [s.process.proc.pid for s in servers])
    except (RuntimeError, httpx.HTTPError, ValueError, KeyError) as exc:
        for s in servers:
            s.result.error = f"{type(exc).__name__}: {exc}\n{s.process.log_tail()}"
        sb.log(f"failed: {type(exc).__name__}: {exc}")
    finally:
        for s in servers:
            s.client.close()
            s.process.stop()


def paired(p: list[float], ls: list[float]) -> float | None:
    """Median of pollama/llama-server over measurements taken as pairs."""
    ratios = [a / b for a, b in zip(p, ls, strict=False) if b > 0]
    return statistics.median(ratios) if ratios else None


def _fmt(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def pairs(r: Result) -> dict[str, list[float]]:
    """The raw measurements behind each summary key, in the order both servers took them."""
    out = {"chat_turns_3_5_ttft_ms": r.chat_ttft_s, "burst_ttft_ms": r.burst_ttft_s, "single_stream_tps": r.single_tps}
    for n, xs in sorted(r.multi_tps.items()):
        out[f"{n}_stream_tps"] = xs
    return out


def report(llama: Result, pollama: Result, args: argparse.Namespace, info: dict[str, Any]) -> dict[str, Any]:
    ls, ps = llama.summary(), pollama.summary()
    print()
    print(f"pollama vs llama-server (--cache-ram default) — {sb.POLLAMA_MODEL}, llama.cpp {info['llama_cpp_python']}")
    print(
        f"settings: threads {args.threads}, {args.parallel} slots, ctx {args.ctx} per slot; {CHATS} chats x {TURNS} "
        f"turns; burst of {BURST} sharing a ~1,000-token system prompt; {args.runs} runs; both servers up, "
        "taking turns"
    )
    header = f"{'metric':<26}{'llama-server':>14}{'pollama':>10}{'ratio':>8}{'paired':>8}   target"
    print(header)
    print("-" * len(header))
    ratios: dict[str, float | None] = {}
    paired_ratios: dict[str, float | None] = {}
    lp, pp = pairs(llama), pairs(pollama)
    for key in ls:
        lower_better = key.endswith("_ms")
        lv, pv = ls[key], ps.get(key)
        ratio = pv / lv if lv and pv is not None else None
        ratios[key] = ratio
        paired_ratios[key] = paired(pp.get(key, []), lp.get(key, []))
        target = "<= 1.0x" if lower_better else ">= 1.0x"
        cells = [_fmt(lv, 0 if lower_better else 1), _fmt(pv, 0 if lower_better else 1)]
        rs = [(_fmt(x, 2) + "x") if x is not None else "n/a" for x in (ratio, paired_ratios[key])]
        print(f"{key:<26}{cells[0]:>14}{cells[1]:>10}{rs[0]:>8}{rs[1]:>8}   {target}")
    busy = llama.others_busy + pollama.others_busy
    if busy:
        print(
            f"other processes kept {statistics.median(busy):.0%} of the CPU busy (median of samples before each "
            f"phase; max {max(busy):.0%})"
        )
    for r in (llama, pollama):
        if r.error:
            print(f"{r.name}: error: {r.error.splitlines()[0]}")
    print("ratio: of the medians; paired: median of pollama/llama-server over measurements taken back to back")
    print("a benchmark on a shared machine: figures vary run to run; nothing here is a pass/fail test")
    return {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "settings": {
            "threads": args.threads,
            "parallel": args.parallel,
            "ctx_per_slot": args.ctx,
            "runs": args.runs,
            "streams": args.stream_counts,
        },
        "llama_server": {**asdict(llama), "summary": ls},
        "pollama": {**asdict(pollama), "summary": ps},
        "ratios_pollama_over_llama_server": ratios,
        "paired_ratios_pollama_over_llama_server": paired_ratios,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=1, help="repetitions of each phase (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ctx", type=int, default=4096, help="context per slot (default: %(default)s)")
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--throughput-runs", type=int, default=1, help="repetitions of each throughput figure")
    p.add_argument("--streams", default="4,8,16", help="concurrent streams for throughput (default: %(default)s)")
    p.add_argument("--n-predict", type=int, default=128)
    p.add_argument("--chat-predict", type=int, default=4, help="tokens generated per chat turn")
    p.add_argument("--burst-predict", type=int, default=16, help="tokens generated per burst request")
    p.add_argument("--pollama-cmd", default=None, help="command starting pollama (default: this checkout's)")
    p.add_argument("--pollama-cache-ram", type=int, default=None, help="OLLAMA_CACHE_RAM for pollama (MiB)")
    p.add_argument("--llama-server", type=Path, default=None, help="llama-server binary (default: the cached build)")
    p.add_argument("--skip-llama-server", action="store_true")
    p.add_argument("--skip-pollama", action="store_true")
    p.add_argument("--quiet-wait", type=float, default=0.0)
    p.add_argument("--quiet-busy", type=float, default=0.25)
    p.add_argument("--busy-sample", type=float, default=0.5)
    p.add_argument("--ready-timeout", type=float, default=300)
    p.add_argument("--output", type=Path, default=sb.CACHE_DIR / "prompt-cache-latest.json")
    args = p.parse_args(argv)
    args.stream_counts = [int(x) for x in args.streams.split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sb.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    info = sb.machine_info()
    version = sb.llama_cpp_python_version()
    info["llama_cpp_python"] = version
    model = sb.ensure_model()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    llama = Result(name="llama-server", error="skipped")
    pollama = Result(name="pollama", error="skipped")
    with tempfile.TemporaryDirectory(prefix="pollama-bench-models-") as models:
        servers: list[Server] = []
        try:
            if not args.skip_llama_server:
                binary = args.llama_server or sb.ensure_llama_server(version, 2, skip_build=False)
                servers.append(llama_server(binary, model, args, stamp))
                llama = servers[-1].result
            if not args.skip_pollama:
                servers.append(pollama_server(args, models, stamp))
                pollama = servers[-1].result
        except OSError as exc:
            for s in servers:
                s.process.stop()
            print(f"could not start a server: {exc}", file=sys.stderr)
            return 1
        run_all(servers, args)
    info["loadavg_end"] = list(os.getloadavg())
    results = report(llama, pollama, args, info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
