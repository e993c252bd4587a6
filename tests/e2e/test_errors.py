"""Errors only the real engine can raise. Every error answered before a model runs is tested in-process, over a
fake runner, in ``tests/server/test_http_errors.py``."""

from __future__ import annotations

from e2e_helpers import MODEL, Server


def test_prompt_longer_than_context_without_shift(server: Server) -> None:
    long_prompt = "word " * 3000
    with server.client() as c:
        r = c.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": long_prompt,
                "raw": True,
                "shift": False,
                "stream": False,
                "options": {"num_ctx": 2048},
            },
        )
    assert r.status_code == 400
    assert r.json()["error"].startswith("the prompt is longer than the context length currently available to the model")
