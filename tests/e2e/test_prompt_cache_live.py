"""The prompt cache through a live server: a chat pushed out of the only slot by others comes back from host
memory, the figures show in ``/metrics`` and the debug log, a model unloaded by ``keep_alive`` starts its next
runner with the cache warm, and deleting the model removes what its runner left."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e_helpers import MODEL, Server
from prometheus_client.parser import text_string_to_metric_families

NOTES = " ".join(f"Note {i}: the harbour lantern number {i} was lit at {i % 12 + 1} o'clock." for i in range(30))


def scrape(server: Server) -> dict[str, float]:
    with server.client() as http:
        text = http.get("/metrics").text
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("pollama_prompt_cache") and s.labels.get("model") == MODEL
    }


def chat(server: Server, messages: list[dict[str, str]], keep_alive: Any = "5m") -> str:
    body = {
        "model": MODEL,
        "messages": messages,
        "stream": False,
        "keep_alive": keep_alive,
        "options": {"num_predict": 8, "temperature": 0},
    }
    with server.client() as http:
        r = http.post("/api/chat", json=body)
    assert r.status_code == 200, r.text
    content: str = r.json()["message"]["content"]
    return content


def test_a_returning_chat_is_served_from_host_memory(start_server: Callable[..., Server]) -> None:
    server = start_server(OLLAMA_NUM_PARALLEL="1", OLLAMA_CACHE_RAM="64", OLLAMA_DEBUG="1")
    first = [{"role": "user", "content": "Read these notes. " + NOTES}]
    reply = chat(server, first)
    for other in ("What is the capital of France?", "Name three colours."):
        chat(server, [{"role": "user", "content": other + " " + NOTES[:200]}])
    before = scrape(server)
    chat(server, [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "Which came last?"}])
    after = scrape(server)
    assert after["pollama_prompt_cache_hits_total"] == before["pollama_prompt_cache_hits_total"] + 1
    assert after["pollama_prompt_cache_hit_tokens_total"] - before["pollama_prompt_cache_hit_tokens_total"] > 300
    assert 0 < after["pollama_prompt_cache_bytes"] <= after["pollama_prompt_cache_budget_bytes"] == 64 << 20
    assert after["pollama_prompt_cache_entries"] >= 1
    assert "prompt cache: restored" in server.log.read_text()


def test_the_first_request_after_a_keep_alive_reload_is_warm(start_server: Callable[..., Server]) -> None:
    server = start_server(OLLAMA_NUM_PARALLEL="1", OLLAMA_CACHE_RAM="64", OLLAMA_DEBUG="1")
    first = [{"role": "user", "content": "Remember these notes. " + NOTES}]
    # keep_alive 0: the model unloads as soon as the answer is out, and its runner leaves its cache behind.
    reply = chat(server, first, keep_alive=0)
    deadline = time.monotonic() + 60
    with server.client() as http:
        while http.get("/api/ps").json()["models"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert http.get("/api/ps").json()["models"] == []
    chat(server, [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "Which came first?"}])
    after = scrape(server)
    # The new runner's first request: restored, not evaluated from scratch.
    assert after["pollama_prompt_cache_hits_total"] == 1
    assert after["pollama_prompt_cache_hit_tokens_total"] > 300
    assert "prompt cache: loaded 1 snapshots" in server.log.read_text()


def test_deleting_a_model_removes_the_cache_its_runner_left(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    from test_create import create_lines, tiny_gguf, upload

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # The server keeps the files for the next runner in a directory of its own under TMPDIR.
    server = start_server(OLLAMA_NUM_PARALLEL="1", OLLAMA_CACHE_RAM="64", TMPDIR=str(tmp))
    digest = upload(server, tiny_gguf(tmp_path / "pc.gguf", seed=11))
    status, _ = create_lines(server, {"model": "pc-del", "files": {"m.gguf": digest}, "stream": False})
    assert status == 200
    body = {"model": "pc-del", "prompt": "ab" * 40, "raw": True, "stream": False, "keep_alive": 0}
    with server.client() as http:
        assert http.post("/api/generate", json={**body, "options": {"num_predict": 2}}).status_code == 200
        deadline = time.monotonic() + 60
        while http.get("/api/ps").json()["models"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(tmp.glob("pollama-prompt-cache-*/*.cache")) != []
        assert http.request("DELETE", "/api/delete", json={"model": "pc-del"}).status_code == 200
    assert list(tmp.glob("pollama-prompt-cache-*/*.cache")) == []
