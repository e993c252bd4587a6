"""Structured outputs benchmark: what enforcing a JSON Schema costs, and whether the answers validate.

Starts `pollama serve` (a temporary model store, into which the built-in models are imported) and measures,
on the built-in instruct model `qwen2.5-coder:0.5b`:

1. decode tokens/s of the same request with a nested JSON Schema in `format` and without one, alternating
   runs so that load on the machine hits both alike; the figure is the ratio of medians (target >= 0.9);
2. validity: N seeded generations (temperature 0.8, 4 concurrent clients) with the schema; each answer must
   parse and validate with `jsonschema` (target N/N).

A benchmark, not a test: it prints figures and never fails on one. Usage:

    python bench/structured.py [--runs 7] [--samples 200] [--host 127.0.0.1:PORT to use a running server]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jsonschema

MODEL = "qwen2.5-coder:0.5b"
PROMPT = "Invent a team of three people with their names, ages, jobs and skills. Answer in JSON."
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "team": {"type": "string"},
        "people": {
            "type": "array",
            "minItems": 1,
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 30},
                    "age": {"type": "integer", "minimum": 18, "maximum": 99},
                    "role": {"enum": ["engineer", "designer", "manager", "doctor"]},
                    "skills": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                },
                "required": ["name", "age", "role", "skills"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["team", "people"],
    "additionalProperties": False,
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server() -> tuple[subprocess.Popen[bytes], str, tempfile.TemporaryDirectory[str]]:
    tmp = tempfile.TemporaryDirectory(prefix="pollama-bench-")
    host = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "OLLAMA_HOST": host, "OLLAMA_MODELS": os.path.join(tmp.name, "models"), "HOME": tmp.name}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pollama.cli.main", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{host}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).text == "Ollama is running":
                return proc, url, tmp
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("pollama serve did not start")


def generate(client: httpx.Client, *, schema: bool, seed: int, temperature: float, num_predict: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": False,
        "options": {"temperature": temperature, "seed": seed, "num_predict": num_predict},
    }
    if schema:
        body["format"] = SCHEMA
    r = client.post("/api/chat", json=body)
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def rate(resp: dict[str, Any]) -> float:
    return float(resp["eval_count"]) / resp["eval_duration"] * 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="decode-rate runs per variant (medians reported)")
    ap.add_argument("--samples", type=int, default=200, help="seeded generations checked for validity")
    ap.add_argument("--host", help="use a running server at this address instead of starting one")
    args = ap.parse_args()

    proc = tmp = None
    if args.host:
        url = args.host if args.host.startswith("http") else f"http://{args.host}"
    else:
        log("starting pollama serve ...")
        proc, url, tmp = start_server()
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            log("warm-up (loads the model)")
            generate(client, schema=False, seed=0, temperature=0, num_predict=8)
            free: list[float] = []
            constrained: list[float] = []
            for run in range(args.runs):
                # Greedy both ways, alternating, so the two variants see the same machine load.
                free.append(rate(generate(client, schema=False, seed=run, temperature=0, num_predict=128)))
                constrained.append(rate(generate(client, schema=True, seed=run, temperature=0, num_predict=128)))
                log(f"run {run + 1}: free {free[-1]:.1f} tok/s, schema {constrained[-1]:.1f} tok/s")

            def check(seed: int) -> bool:
                resp = generate(client, schema=True, seed=seed, temperature=0.8, num_predict=400)
                try:
                    jsonschema.validate(json.loads(resp["message"]["content"]), SCHEMA)
                except (ValueError, jsonschema.ValidationError):
                    return False
                return True

            log(f"validity over {args.samples} seeded generations ...")
            with ThreadPoolExecutor(4) as pool:
                valid = sum(pool.map(check, range(args.samples)))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if tmp is not None:
            tmp.cleanup()

    f, c = statistics.median(free), statistics.median(constrained)
    print(f"model {MODEL}, {args.runs} runs, greedy, 128 tokens")
    print(f"decode tok/s unconstrained  {f:7.1f}")
    print(f"decode tok/s JSON Schema    {c:7.1f}")
    print(f"ratio schema/unconstrained  {c / f:7.2f}   (target >= 0.90)")
    print(f"valid answers               {valid}/{args.samples}   (target {args.samples}/{args.samples})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
