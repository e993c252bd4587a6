"""Every input of issue 10's second paragraph against a live server: each gets its 4xx with Go's Ollama's message
(or Ollama's answer where it has one), and the server keeps answering after each. The in-process versions,
over a fake runner, are in tests/server/test_http_hostile.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from e2e_helpers import MODEL, Server

NUM_CTX = 2048
SMALL = {"num_predict": 3, "num_ctx": NUM_CTX, "temperature": 0}


def still_answers(c: httpx.Client) -> None:
    assert c.get("/").text == "Ollama is running"
    r = c.post("/api/generate", json={"model": MODEL, "prompt": "Say hi.", "stream": False, "options": SMALL})
    assert r.status_code == 200, r.text
    assert r.json()["done"] is True


def generate(extra: str, prompt: str = "hi") -> bytes:
    return f'{{"model": "{MODEL}", "prompt": "{prompt}", "stream": false, {extra}}}'.encode()


DEPTH = 100_000
REFUSED = [
    (generate('"keep_alive": ""'), 'time: invalid duration ""'),
    (
        generate('"options": {"num_predict": 1e400}'),
        "json: cannot unmarshal number 1e400 into Go struct field GenerateRequest.options of type float64",
    ),
    (
        b'{"model": "' + MODEL.encode() + b'", "prompt": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
        "invalid character '[' exceeded max depth",
    ),
    (generate('"options": {"temperature": NaN}'), "invalid character 'N' looking for beginning of value"),
    (generate('"options": {"temperature": Infinity}'), "invalid character 'I' looking for beginning of value"),
]


@pytest.fixture(scope="module")
def hostile_server(start_server: Callable[..., Server]) -> Server:
    return start_server(OLLAMA_NUM_PARALLEL="2")


def test_hostile_inputs_get_4xx_and_the_server_keeps_answering(hostile_server: Server) -> None:
    with hostile_server.client() as c:
        still_answers(c)
        for body, message in REFUSED:
            r = c.post("/api/generate", content=body)
            assert (r.status_code, r.json()) == (400, {"error": message}), body[:80]
            still_answers(c)

        # A lone surrogate becomes U+FFFD, as Go's decoder makes it, and the prompt is answered.
        r = c.post("/api/generate", content=generate(f'"options": {json.dumps(SMALL)}', prompt="a\\ud800b"))
        assert r.status_code == 200, r.text
        assert r.json()["done"] is True

        # Create with an invalid name and a base that is not there: the name is refused before any pull.
        r = c.post("/api/create", json={"model": "bad name!!", "from": "nobody/missing:latest"})
        assert (r.status_code, r.json()) == (400, {"error": "invalid model name"})
        still_answers(c)

    log = hostile_server.log.read_text()
    assert "Traceback" not in log, log
    assert "pulling" not in log.lower()


def test_clients_that_leave_and_huge_requests(hostile_server: Server) -> None:
    huge = "The quick brown fox jumps over the lazy dog. " * (50 * 1024 * 1024 // 45)  # 50 MB
    with hostile_server.client() as c:
        # stream:false clients that leave mid-generation, once with a short prompt and once with a 50 MB one.
        for prompt in ("Count to one thousand.", huge):
            body = {
                "model": MODEL,
                "prompt": prompt,
                "stream": False,
                # Greedy: the same long count on every machine, so the client always leaves mid-generation.
                "options": {"num_predict": 500, "num_ctx": NUM_CTX, "temperature": 0, "seed": 1},
            }
            # The client waits half a second for an answer (sending the 50 MB may take longer), then leaves.
            leave = httpx.Timeout(120, read=0.5)
            with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=hostile_server.url, timeout=leave) as leaving:
                leaving.post("/api/generate", json=body)
            still_answers(c)

        # A 50 MB chat message: Ollama's answer, the prompt cut to the context (its start kept, the rest from the
        # end), then generation.
        messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": huge}]
        r = c.post("/api/chat", json={"model": MODEL, "messages": messages, "stream": False, "options": SMALL})
        assert r.status_code == 200, r.text
        assert r.json()["done"] is True
        assert 0 < r.json()["prompt_eval_count"] < NUM_CTX
        still_answers(c)

        # A 10,000-message chat: truncated to the last messages that fit, then answered.
        messages = [
            {"role": "user" if k % 2 == 0 else "assistant", "content": f"Message {k}: the weather is fine today."}
            for k in range(10_000)
        ]
        messages[-1] = {"role": "user", "content": "What was the last message number?"}
        r = c.post("/api/chat", json={"model": MODEL, "messages": messages, "stream": False, "options": SMALL})
        assert r.status_code == 200, r.text
        assert r.json()["done"] is True
        assert 0 < r.json()["prompt_eval_count"] <= NUM_CTX
        still_answers(c)

    log = hostile_server.log.read_text()
    assert "Traceback" not in log, log
    assert "InvalidStateError" not in log
