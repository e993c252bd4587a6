"""Bugs the fuzz runs found in the HTTP layer, each pinned by a request that used to fail (in process, on the fake
runner; the fuzzers themselves are tests/fuzz and tests/e2e/test_fuzz_openapi.py)."""

from __future__ import annotations

import json

import anyio
import pytest
from app_harness import TINY, Start

pytestmark = pytest.mark.anyio

MSG = [{"role": "user", "content": "hello there"}]


@pytest.mark.parametrize("stream", [False, True])
async def test_more_choices_than_slots(start: Start, stream: bool) -> None:
    """``n`` (or prompts × ``n``) above OLLAMA_NUM_PARALLEL waited forever: every choice's first token was awaited
    at once while the first choices held every slot."""
    async with start(OLLAMA_NUM_PARALLEL="2") as srv:
        bodies = {
            "/v1/chat/completions": {"model": TINY, "messages": MSG, "n": 5, "max_tokens": 3, "stream": stream},
            "/v1/completions": {"model": TINY, "prompt": ["a b c", "d e f", "g h i"], "n": 2, "stream": stream},
        }
        for path, body in bodies.items():
            # A guard, not a measure: without the fix these requests never end.
            with anyio.fail_after(60):
                r = await srv.http.post(path, json=body)
            assert r.status_code == 200
            if stream:
                events = [json.loads(d) for d in r.text.split("data: ")[1:] if not d.startswith("[DONE]")]
                finished = {c["index"] for e in events for c in e["choices"] if c["finish_reason"]}
            else:
                finished = {c["index"] for c in r.json()["choices"] if c["finish_reason"]}
            assert finished == set(range(5 if "chat" in path else 6))
