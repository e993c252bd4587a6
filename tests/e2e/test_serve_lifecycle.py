"""Loading, unloading, keep_alive, reloads, concurrency, the queue limit, disconnects and runner crashes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime

import httpx
import ollama
from e2e_helpers import MODEL, Server

LONG = {"temperature": 0, "num_predict": 100000}


def _ps(server: Server) -> list[dict[str, object]]:
    with server.client() as c:
        models: list[dict[str, object]] = c.get("/api/ps").json()["models"]
        return models


def test_load_ps_and_unload(start_server: Callable[..., Server]) -> None:
    server = start_server()
    assert _ps(server) == []
    with server.client() as c:
        loaded = c.post("/api/generate", json={"model": MODEL}).json()
    assert loaded["done"] is True and loaded["done_reason"] == "load" and loaded["response"] == ""
    assert list(loaded) == ["model", "created_at", "response", "done", "done_reason"]
    (entry,) = _ps(server)
    assert entry["name"] == MODEL and entry["model"] == MODEL
    assert entry["context_length"] == 2048
    assert isinstance(entry["size"], int) and entry["size"] > 200_000_000
    assert entry["size_vram"] == 0
    expires = datetime.fromisoformat(str(entry["expires_at"]))
    assert 200 < expires.timestamp() - time.time() <= 301  # default keep_alive 5m
    assert len(server.runner_pids()) == 1

    with server.client() as c:
        unloaded = c.post("/api/chat", json={"model": MODEL, "keep_alive": 0}).json()
    assert unloaded["done_reason"] == "unload" and unloaded["message"] == {"role": "assistant", "content": ""}
    assert _ps(server) == []
    deadline = time.monotonic() + 30
    while server.runner_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.runner_pids() == []


def test_keep_alive_values(start_server: Callable[..., Server]) -> None:
    server = start_server()
    client = ollama.Client(host=server.url)
    client.generate(model=MODEL, prompt="", keep_alive=-1)
    (entry,) = _ps(server)
    assert datetime.fromisoformat(str(entry["expires_at"])).year > 2200
    client.generate(model=MODEL, prompt="", keep_alive="1h")
    (entry,) = _ps(server)
    assert 3500 < datetime.fromisoformat(str(entry["expires_at"])).timestamp() - time.time() <= 3601
    # A request without keep_alive keeps the loaded model's duration.
    client.generate(model=MODEL, prompt="hi", options={"num_predict": 1})
    (entry,) = _ps(server)
    assert datetime.fromisoformat(str(entry["expires_at"])).timestamp() - time.time() > 3500
    # keep_alive 0 with a prompt answers, then unloads.
    out = client.generate(model=MODEL, prompt="hi", options={"num_predict": 2}, keep_alive=0)
    assert out.done
    deadline = time.monotonic() + 30
    while _ps(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ps(server) == []


def test_keep_alive_expiry_unloads(start_server: Callable[..., Server]) -> None:
    server = start_server()
    with server.client() as c:
        c.post("/api/generate", json={"model": MODEL, "keep_alive": "1s"})
    assert len(_ps(server)) == 1
    deadline = time.monotonic() + 60
    while _ps(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ps(server) == []


def test_reload_when_num_ctx_changes(start_server: Callable[..., Server]) -> None:
    server = start_server()
    with server.client() as c:
        c.post("/api/generate", json={"model": MODEL, "options": {"num_ctx": 1024}})
        (first,) = _ps(server)
        pid = server.runner_pids()
        c.post("/api/generate", json={"model": MODEL, "options": {"num_ctx": 1536}})
        (second,) = _ps(server)
    assert (first["context_length"], second["context_length"]) == (1024, 1536)
    assert server.runner_pids() != pid


def test_four_concurrent_streams_run_together(server: Server) -> None:
    firsts: list[float] = []
    ends: list[float] = []
    texts: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        payload = {
            "model": MODEL,
            "prompt": f"Tell story number {i}.",
            "options": {"temperature": 0, "num_predict": 48},
        }
        parts = []
        with httpx.stream("POST", f"{server.url}/api/generate", json=payload, timeout=300) as r:
            for line in r.iter_lines():
                if not line:
                    continue
                chunk = json.loads(line)
                with lock:
                    if not parts:
                        firsts.append(time.monotonic())
                parts.append(chunk["response"])
                assert "error" not in chunk
        with lock:
            ends.append(time.monotonic())
            texts.append("".join(parts))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(texts) == 4 and all(texts)
    # With 4 slots, every stream has started before any has finished.
    assert max(firsts) < min(ends)


def test_queue_limit_returns_503(start_server: Callable[..., Server]) -> None:
    server = start_server(OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1")
    with server.client() as c:
        c.post("/api/generate", json={"model": MODEL})
    statuses: list[tuple[int, str]] = []
    lock = threading.Lock()
    answered = threading.Semaphore(0)
    holding = threading.Event()
    stop = threading.Event()

    def hold() -> None:
        with httpx.stream(
            "POST",
            f"{server.url}/api/generate",
            json={"model": MODEL, "prompt": "Go on forever.", "options": LONG},
            timeout=300,
        ) as r:
            for _ in r.iter_lines():
                holding.set()
                if stop.is_set():
                    break

    def queued() -> None:
        r = httpx.post(
            f"{server.url}/api/generate",
            json={"model": MODEL, "prompt": "hi", "stream": False, "options": {"num_predict": 2}},
            timeout=300,
        )
        with lock:
            statuses.append((r.status_code, r.text))
        answered.release()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(120), "the holding request never streamed"
    # The only slot is taken: of three more requests, the queue takes one and the other two are turned away.
    waiters = [threading.Thread(target=queued) for _ in range(3)]
    for t in waiters:
        t.start()
    for _ in range(2):
        assert answered.acquire(timeout=120), statuses
    stop.set()
    holder.join()
    for t in waiters:
        t.join()
    busy = [s for s in statuses if s[0] == 503]
    assert len(busy) == 2 and [s[0] for s in statuses][-1] == 200, statuses
    assert json.loads(busy[0][1]) == {"error": "server busy, please try again.  maximum pending requests exceeded"}


def test_disconnect_frees_the_slot(start_server: Callable[..., Server]) -> None:
    server = start_server(OLLAMA_NUM_PARALLEL="1")
    with httpx.stream(
        "POST",
        f"{server.url}/api/generate",
        json={"model": MODEL, "prompt": "Go on forever.", "options": LONG},
        timeout=300,
    ) as r:
        for line in r.iter_lines():
            if line:
                break
    # The only slot must be free again: this would wait for 100000 tokens otherwise.
    with server.client(timeout=120) as c:
        body = c.post(
            "/api/generate", json={"model": MODEL, "prompt": "hi", "stream": False, "options": {"num_predict": 3}}
        ).json()
    assert body["done"] is True and body["eval_count"] == 3


def test_killed_runner_fails_request_and_recovers(start_server: Callable[..., Server]) -> None:
    server = start_server()
    lines: list[dict[str, object]] = []
    with httpx.stream(
        "POST",
        f"{server.url}/api/generate",
        json={"model": MODEL, "prompt": "Go on forever.", "options": LONG},
        timeout=300,
    ) as r:
        for line in r.iter_lines():
            if not line:
                continue
            lines.append(json.loads(line))
            if len(lines) == 3:
                (pid,) = server.runner_pids()
                os.kill(pid, signal.SIGKILL)
    assert r.status_code == 200
    assert str(lines[-1]["error"]).startswith(
        "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, "
        "check ollama server logs for details"
    )
    assert server.proc.poll() is None
    with server.client() as c:
        again = c.post(
            "/api/generate", json={"model": MODEL, "prompt": "hi", "stream": False, "options": {"num_predict": 3}}
        )
    assert again.status_code == 200 and again.json()["eval_count"] == 3
