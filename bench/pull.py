"""Pull benchmark: pollama's ``/api/pull`` versus ``curl`` fetching the same blob from the same registry.

One command (``python bench/pull.py``):

1. starts Debian's ``docker-registry`` (installed with apt when missing) on a free loopback port;
2. starts ``pollama serve`` with a temporary store (it imports the built-in ``gemma3:270m``) and pushes that
   model to the registry, then deletes it locally so every pull below really downloads the 253 MB blob;
3. per repetition: ``curl -o <file>`` of the model blob URL (one stream, written to a file in the same
   filesystem), then a full ``/api/pull`` (manifest, all blobs, sha256 verification, manifest write) after
   deleting the previous pull, and prints MB/s for both and the ratio pollama/curl (target ≥ 0.80).

It reports, it never fails on a figure: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_RATIO = 0.80
BUILTIN = "gemma3:270m"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ensure_tool(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL)
        path = shutil.which(binary)
    assert path, f"{binary} not found"
    return path


# One client for every request: building an httpx client loads a CA bundle (~20 ms), which a timed pull must
# not include (curl's own start-up is a few milliseconds).
_client = httpx.Client(timeout=None)


def wait_http(url: str, ok: str | None = None, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = _client.get(url, timeout=2)
            if r.status_code == 200 and (ok is None or r.text == ok):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def stream_ndjson(url: str, body: dict[str, object]) -> list[dict[str, object]]:
    with _client.stream("POST", url, json=body) as r:
        lines = [json.loads(line) for line in r.iter_lines() if line]
    if r.status_code != 200 or lines[-1].get("status") != "success":
        raise RuntimeError(f"{url}: {r.status_code} {lines[-3:]}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    registry_bin = ensure_tool("docker-registry", "docker-registry")
    curl = ensure_tool("curl", "curl")
    work = Path(tempfile.mkdtemp(prefix="pollama-bench-pull-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        reg_port = free_port()
        (work / "config.yml").write_text(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {work / 'registry'}\n"
            f"http:\n  addr: 127.0.0.1:{reg_port}\n"
        )
        procs.append(subprocess.Popen([registry_bin, "serve", str(work / "config.yml")], stderr=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{reg_port}/v2/")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_MODELS": str(work / "models"),
            "HOME": str(work / "home"),
        }
        log = (work / "serve.log").open("wb")
        procs.append(
            subprocess.Popen([sys.executable, "-m", "pollama.cli.main", "serve"], env=env, stdout=log, stderr=log)
        )
        print("starting pollama (imports the built-in model on first start)...", file=sys.stderr)
        wait_http(url, "Ollama is running")

        name = f"127.0.0.1:{reg_port}/library/gemma3:270m"
        with httpx.Client(base_url=url, timeout=None) as c:
            r = c.post("/api/copy", json={"source": BUILTIN, "destination": name})
            if r.status_code != 200:  # /api/copy not there: copy the manifest file directly
                src = work / "models/manifests/registry.ollama.ai/library/gemma3/270m"
                dst = work / f"models/manifests/127.0.0.1:{reg_port}/library/gemma3/270m"
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
        stream_ndjson(f"{url}/api/push", {"model": name, "insecure": True})
        manifest = json.loads((work / f"models/manifests/127.0.0.1:{reg_port}/library/gemma3/270m").read_text())
        blob = max(manifest["layers"], key=lambda layer: layer["size"])
        size, digest = int(blob["size"]), blob["digest"]
        total = sum(int(layer["size"]) for layer in manifest["layers"]) + int(manifest["config"]["size"])
        blob_url = f"http://127.0.0.1:{reg_port}/v2/library/gemma3/blobs/{digest}"

        def delete_local() -> None:
            # Remove both names so the blob is unreferenced and goes with them.
            for rel in ("registry.ollama.ai/library/gemma3/270m", f"127.0.0.1:{reg_port}/library/gemma3/270m"):
                (work / "models/manifests" / rel).unlink(missing_ok=True)
            for f in (work / "models/blobs").iterdir():
                f.unlink()

        delete_local()
        # Warm-up (not counted): first-request imports in the server, registry file cache.
        stream_ndjson(f"{url}/api/pull", {"model": name, "insecure": True})
        delete_local()
        curl_rates, pollama_rates = [], []
        load_before = os.getloadavg()
        for run in range(1, args.runs + 1):
            out = work / "curl.out"
            t0 = time.perf_counter()
            subprocess.run([curl, "-sSf", "-o", str(out), blob_url], check=True)
            dt = time.perf_counter() - t0
            assert out.stat().st_size == size
            out.unlink()
            curl_rates.append(size / dt / 1e6)

            t0 = time.perf_counter()
            stream_ndjson(f"{url}/api/pull", {"model": name, "insecure": True})
            dt = time.perf_counter() - t0
            pollama_rates.append(total / dt / 1e6)
            delete_local()
            print(
                f"run {run}: curl {curl_rates[-1]:7.1f} MB/s   pollama {pollama_rates[-1]:7.1f} MB/s   "
                f"ratio {pollama_rates[-1] / curl_rates[-1]:.2f}",
                file=sys.stderr,
            )
        c_med, p_med = statistics.median(curl_rates), statistics.median(pollama_rates)
        print(f"blob {digest[:19]} {size / 1e6:.1f} MB; whole model {total / 1e6:.1f} MB; {args.runs} runs (median)")
        print(f"curl (blob only)          {c_med:8.1f} MB/s")
        print(f"pollama /api/pull (model) {p_med:8.1f} MB/s")
        print(f"ratio pollama/curl        {p_med / c_med:8.2f}   (target >= {TARGET_RATIO:.2f})")
        ratios = [p / c for p, c in zip(pollama_rates, curl_rates, strict=True)]
        print(
            f"per-run ratios            {' '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f})"
        )
        load = "/".join(f"{x:.1f}" for x in load_before), "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average (1/5/15 min) {load[0]} before, {load[1]} after, on {os.cpu_count()} cores")
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
