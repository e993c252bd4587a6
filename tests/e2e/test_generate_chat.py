"""Generate and chat against a real model, through the official ``ollama`` client and raw HTTP."""

from __future__ import annotations

import json
import re

import ollama
import pytest
from e2e_helpers import MODEL, Server

CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
GREEDY = {"temperature": 0, "num_predict": 24}


def test_generate_non_stream_fields(server: Server) -> None:
    with server.client() as c:
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "Say hello.", "stream": False, "options": GREEDY})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert list(body)[:5] == ["model", "created_at", "response", "done", "done_reason"]
    assert body["model"] == MODEL
    assert CREATED_AT.match(body["created_at"])
    assert body["done"] is True
    assert body["done_reason"] in ("stop", "length")
    assert body["response"].strip()
    assert all(isinstance(t, int) for t in body["context"]) and len(body["context"]) > body["prompt_eval_count"]
    for key in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(body[key], int) and body[key] > 0, key
    assert body["total_duration"] >= body["eval_duration"]
    assert 0 < body["eval_count"] <= 24
    assert body["prompt_eval_count"] > 5


def test_generate_stream_is_ndjson(server: Server) -> None:
    with (
        server.client() as c,
        c.stream("POST", "/api/generate", json={"model": MODEL, "prompt": "Count: 1, 2, 3,", "options": GREEDY}) as r,
    ):
        assert r.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in r.iter_lines() if line]
    *content, last = lines
    assert len(content) > 1
    assert all(not chunk["done"] and chunk["response"] for chunk in content)
    assert all("context" not in chunk and "eval_count" not in chunk for chunk in content)
    assert last["done"] is True and last["response"] == ""
    text = "".join(chunk["response"] for chunk in content)
    assert last["done_reason"] == "length" and last["eval_count"] == GREEDY["num_predict"]
    # Each sampled token streams as one chunk unless its text is held back (an incomplete UTF-8 character, or
    # what may begin the model's stop string "<end_of_turn>"); this answer has neither, so the counts match.
    assert text.isascii() and "<" not in text, text
    assert len(content) == last["eval_count"]
    with server.client() as c:
        whole = c.post(
            "/api/generate", json={"model": MODEL, "prompt": "Count: 1, 2, 3,", "options": GREEDY, "stream": False}
        ).json()
    assert whole["response"] == text  # greedy: streamed and non-streamed agree


def test_num_predict_and_length(server: Server) -> None:
    with server.client() as c:
        body = c.post(
            "/api/generate",
            json={"model": MODEL, "prompt": "Write a long story.", "stream": False, "options": {"num_predict": 5}},
        ).json()
    assert body["eval_count"] == 5
    assert body["done_reason"] == "length"


def test_seed_reproducible(server: Server) -> None:
    def run(seed: int) -> str:
        with server.client() as c:
            return str(
                c.post(
                    "/api/generate",
                    json={
                        "model": MODEL,
                        "prompt": "Invent a name for a cat.",
                        "stream": False,
                        "options": {"seed": seed, "temperature": 1.5, "num_predict": 16},
                    },
                ).json()["response"]
            )

    assert run(42) == run(42)
    assert len({run(1), run(2), run(3)}) > 1


def test_stop_string_is_never_emitted(server: Server) -> None:
    opts = {"temperature": 0, "num_predict": 40}
    with server.client() as c:
        free = c.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": "List the numbers 1 to 10, comma separated.",
                "stream": False,
                "options": opts,
            },
        ).json()
        assert "5" in free["response"]
        stopped = c.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": "List the numbers 1 to 10, comma separated.",
                "stream": False,
                "options": {**opts, "stop": ["5"]},
            },
        ).json()
    assert "5" not in stopped["response"]
    assert free["response"].startswith(stopped["response"])
    assert stopped["done_reason"] == "stop"


def test_raw_generate_has_no_context(server: Server) -> None:
    prompt = "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
    with server.client() as c:
        body = c.post(
            "/api/generate", json={"model": MODEL, "prompt": prompt, "raw": True, "stream": False, "options": GREEDY}
        ).json()
    assert body["response"]
    assert "context" not in body


def test_context_continues_conversation(server: Server) -> None:
    with server.client() as c:
        first = c.post(
            "/api/generate", json={"model": MODEL, "prompt": "My name is Ada.", "stream": False, "options": GREEDY}
        ).json()
        second = c.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": "What is my name?",
                "context": first["context"],
                "stream": False,
                "options": GREEDY,
            },
        ).json()
    assert second["prompt_eval_count"] > len(first["context"])
    assert first["context"][0] != 2  # no BOS: the context goes back in front of the next prompt
    assert second["context"][: len(first["context"])] == first["context"]


def test_debug_render_only(server: Server) -> None:
    with server.client() as c:
        body = c.post(
            "/api/chat",
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": "Hi"}],
                "_debug_render_only": True,
                "stream": False,
            },
        ).json()
    assert body["_debug_info"]["rendered_template"] == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"


def test_official_client_generate_and_chat(server: Server) -> None:
    client = ollama.Client(host=server.url)
    gen = client.generate(model=MODEL, prompt="Why is the sky blue?", options=GREEDY)
    assert gen.done and gen.response and gen.eval_count and gen.context
    chunks = list(client.generate(model=MODEL, prompt="Why is the sky blue?", options=GREEDY, stream=True))
    assert chunks[-1].done and "".join(c.response for c in chunks) == gen.response

    messages = [{"role": "user", "content": "Name a color."}]
    chat = client.chat(model=MODEL, messages=messages, options=GREEDY)
    assert chat.message.role == "assistant" and chat.message.content and chat.done_reason in ("stop", "length")
    streamed = list(client.chat(model=MODEL, messages=messages, options=GREEDY, stream=True))
    assert streamed[-1].done and "".join(c.message.content for c in streamed) == chat.message.content


def test_chat_multi_turn_prompt_grows_with_history(server: Server) -> None:
    # Whether the runner reuses the cached prefix is not visible in Ollama's API; tests/runner checks it.
    client = ollama.Client(host=server.url)
    history = [{"role": "user", "content": "Tell me a fact about the moon."}]
    first = client.chat(model=MODEL, messages=history, options=GREEDY)
    history += [{"role": "assistant", "content": first.message.content}, {"role": "user", "content": "Another one."}]
    second = client.chat(model=MODEL, messages=history, options=GREEDY)
    assert second.message.content
    assert second.prompt_eval_count > first.prompt_eval_count


@pytest.mark.parametrize("endpoint", ["/api/generate", "/api/chat"])
def test_unicode_streams_whole_characters(server: Server, endpoint: str) -> None:
    payload: dict[str, object] = {"model": MODEL, "options": {"temperature": 0, "num_predict": 48}, "stream": True}
    text = "Write three emoji and the Chinese word for cat: 猫 🐱"
    if endpoint == "/api/generate":
        payload["prompt"] = text
    else:
        payload["messages"] = [{"role": "user", "content": text}]
    with server.client() as c, c.stream("POST", endpoint, json=payload) as r:
        raw = [line for line in r.iter_lines() if line]
    for line in raw:
        chunk = json.loads(line)
        piece = chunk.get("response") if endpoint == "/api/generate" else chunk["message"]["content"]
        assert "\ufffd" not in piece
