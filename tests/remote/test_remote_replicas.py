"""Replicas behind one remote model, against real ``llama-server`` processes: requests spread over them, a
conversation stays on the replica holding its cache (seen in the replica's own counters), a replica killed
mid-stream ends that stream with Ollama's error line and the next request is served by another, a replica that
comes back is used again, and the queue limit counts the slots of all replicas."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import ollama
import pytest
from e2e_helpers import Server
from remote_helpers import Upstream, wait_for

from pollama.errors import RUNNER_STOPPED, SERVER_BUSY

pytestmark = pytest.mark.e2e

MODEL = "qwen-remote"


def predicted(ups: list[Upstream]) -> list[float]:
    return [u.predicted() for u in ups]


def served_by(before: list[float], after: list[float]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if b > a]


def raw(server: Server, prompt: str, n: int = 4, model: str = MODEL) -> httpx.Response:
    body = {"model": model, "prompt": prompt, "raw": True, "stream": False, "options": {"num_predict": n}}
    return httpx.post(server.url + "/api/generate", json=body, timeout=300)


def test_idle_replicas_take_turns(remote_server: Server, upstreams: list[Upstream]) -> None:
    pair = upstreams[:2]
    used = set()
    for i in range(4):
        before = predicted(pair)
        # Raw prompts shorter than one prefix block: nothing to be affine to, so routing is by load alone.
        assert raw(remote_server, f"Number {i}:").status_code == 200
        used.update(served_by(before, predicted(pair)))
    assert used == {0, 1}


def test_concurrent_requests_spread(remote_server: Server, upstreams: list[Upstream]) -> None:
    pair = upstreams[:2]
    before = predicted(pair)
    client = ollama.Client(host=remote_server.url, timeout=300)

    def ask(i: int) -> str:
        msgs = [{"role": "user", "content": f"Write a short poem about the number {i}."}]
        return client.chat(MODEL, msgs, options={"temperature": 0, "num_predict": 24}).message.content

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(4)))
    assert all(answers)
    assert served_by(before, predicted(pair)) == [0, 1]


def test_conversation_stays_on_its_replica_and_hits_its_cache(remote_server: Server, upstreams: list[Upstream]) -> None:
    pair = upstreams[:2]
    client = ollama.Client(host=remote_server.url, timeout=300)
    opts = {"temperature": 0, "num_predict": 32}
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a patient tutor. Conversation id 7a1c. " * 4},
        {"role": "user", "content": "Explain what a prime number is, briefly."},
    ]
    home: int | None = None
    for turn in range(3):
        before = [u.metrics() for u in pair]
        r = client.chat(MODEL, msgs, options=opts)
        after = [u.metrics() for u in pair]
        served = [i for i in range(2) if after[i]["tokens_predicted_total"] > before[i]["tokens_predicted_total"]]
        assert len(served) == 1
        if home is None:
            home = served[0]
        assert served == [home], f"turn {turn} went to replica {served[0]}, the conversation lives on {home}"
        evaluated = after[home]["prompt_tokens_total"] - before[home]["prompt_tokens_total"]
        if turn > 0:
            # The replica's own counter: only the new part of the prompt was evaluated, the history came from
            # its cache.
            assert r.prompt_eval_count is not None
            assert evaluated < r.prompt_eval_count / 2, (evaluated, r.prompt_eval_count)
        msgs += [{"role": "assistant", "content": r.message.content}, {"role": "user", "content": "Another one?"}]


def _stream_until_killed(server: Server, ups: list[Upstream]) -> tuple[list[dict[str, Any]], int]:
    """Start a long streamed generation, kill the replica serving it after a few chunks; return the lines."""
    body = {
        "model": MODEL,
        "prompt": "Count from 1 to 500, one number per line:",
        "raw": True,
        "options": {"temperature": 0, "num_predict": 400},
    }
    lines: list[dict[str, Any]] = []
    victim = -1
    with httpx.stream("POST", server.url + "/api/generate", json=body, timeout=300) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line:
                continue
            lines.append(json.loads(line))
            if len(lines) == 5:
                busy = [i for i, u in enumerate(ups) if u.metrics().get("requests_processing", 0) > 0]
                assert len(busy) == 1
                victim = busy[0]
                ups[victim].kill()
    return lines, victim


def log_count(server: Server, text: str) -> int:
    return server.log.read_text().count(text)


def test_replica_killed_mid_stream_then_back(remote_server: Server, upstreams: list[Upstream]) -> None:
    pair = upstreams[:2]
    lines, victim = _stream_until_killed(remote_server, pair)
    back = f"replica {pair[victim].url} is up"
    ups_before = log_count(remote_server, back)
    try:
        # The stream ends with Ollama's error line, after the text already sent.
        assert lines[-1] == {"error": RUNNER_STOPPED}
        assert all("error" not in x for x in lines[:-1]) and not any(x.get("done") for x in lines)
        assert f"replica {pair[victim].url} taken out" in remote_server.log.read_text()
        survivor = pair[1 - victim]
        for i in range(3):
            before = survivor.predicted()
            r = raw(remote_server, f"Letter {i}:")
            assert r.status_code == 200, r.text
            assert survivor.predicted() > before
    finally:
        if not pair[victim].alive:
            pair[victim].start()
    # Back on the same port: a health check finds it and requests reach it again (a fresh process: its counter
    # starts at zero, so any predicted token is pollama's).
    wait_for(lambda: log_count(remote_server, back) > ups_before, 30, "the replica back")
    for i in range(4):
        assert raw(remote_server, f"Again {i}:").status_code == 200
    assert pair[victim].predicted() > 0


def test_failover_before_any_text_is_invisible(remote_server: Server, upstreams: list[Upstream]) -> None:
    victim = upstreams[0]
    out, back = f"replica {victim.url} taken out", f"replica {victim.url} is up"
    outs, ups = log_count(remote_server, out), log_count(remote_server, back)
    victim.kill()
    try:
        # Until the next health check pollama may still pick the dead replica: it fails to connect, so the
        # request moves to the other replica and the client never sees the failure.
        for i in range(4):
            r = raw(remote_server, f"Quick {i}:")
            assert r.status_code == 200, r.text
            assert r.json()["done"]
        wait_for(lambda: log_count(remote_server, out) > outs, 30, "the replica taken out")
    finally:
        victim.start()
    wait_for(lambda: log_count(remote_server, back) > ups, 30, "the replica back")


def test_all_replicas_down_is_a_clear_error(remote_server: Server, upstreams: list[Upstream]) -> None:
    # qwen-go has one replica.
    lone = upstreams[2]
    lone.kill()
    try:
        r = raw(remote_server, "Hi", model="qwen-go")
        assert r.status_code == 500
        assert (
            r.json()["error"]
            == 'no replica of remote model "qwen-go:latest" is answering (1 configured; see the server log)'
        )
    finally:
        lone.start()
    wait_for(lambda: raw(remote_server, "Hi", 1, "qwen-go").status_code == 200, 30, "qwen-go back")


def test_queue_limit_counts_all_replicas(start_server: Any, remotes_file: Any, upstreams: list[Upstream]) -> None:
    """qwen-queue: two replicas of one slot each. With OLLAMA_MAX_QUEUE=1, two requests run (one per replica),
    one waits, and any further one is refused with Ollama's 503."""
    server = start_server(OLLAMA_REMOTES=str(remotes_file), OLLAMA_MAX_QUEUE="1")
    pair = upstreams[:2]
    before = predicted(pair)
    assert raw(server, "Warm up:", 1, "qwen-queue").status_code == 200  # loaded, so the next ones only queue
    results: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        r = raw(server, f"Count to 100 slowly, number {i}:", 64, "qwen-queue")
        with lock:
            results.append(r.status_code)
            if r.status_code == 503:
                assert r.json() == {"error": SERVER_BUSY}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert sorted(results) == [200, 200, 200, 503, 503]
    assert served_by(before, predicted(pair)) == [0, 1]
