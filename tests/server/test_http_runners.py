"""Runners behind the HTTP API: load and unload answers, ``keep_alive: 0``, a runner that refuses a request or
dies (before the first chunk: a status; after it: an ``{"error": ...}`` line), recovery after a crash, parallel
slots, and the ``OLLAMA_MAX_QUEUE`` limit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from app_harness import JSON, NDJSON, TINY, Served, Start, ndjson

from pollama.errors import (
    PROMPT_TOO_LONG,
    RUNNER_STOPPED,
    SERVER_BUSY,
    BadRequest,
    PollamaError,
    PromptTooLong,
    RunnerStopped,
)

pytestmark = pytest.mark.anyio

GENERATE = {"model": TINY, "prompt": "one two three four", "raw": True}
CHAT = {"model": TINY, "messages": [{"role": "user", "content": "one two three four"}]}


def single(r: httpx.Response) -> dict[str, Any]:
    """The one object of a load or unload answer, whether it came as JSON or as one NDJSON line."""
    assert r.status_code == 200
    (body,) = ndjson(r) if r.headers["content-type"] == NDJSON else [r.json()]
    return body


async def ps_names(srv: Served) -> list[str]:
    return [m["name"] for m in (await srv.http.get("/api/ps")).json()["models"]]


async def test_empty_prompt_loads_the_model(srv: Served) -> None:
    body = single(await srv.http.post("/api/generate", json={"model": TINY}))
    assert list(body) == ["model", "created_at", "response", "done", "done_reason"]
    assert (body["model"], body["response"], body["done"], body["done_reason"]) == (TINY, "", True, "load")
    chat = single(await srv.http.post("/api/chat", json={"model": TINY, "messages": []}))
    assert list(chat) == ["model", "created_at", "message", "done", "done_reason"]
    assert (chat["message"], chat["done"], chat["done_reason"]) == ({"role": "assistant", "content": ""}, True, "load")
    assert len(srv.engine.runners) == 1 and srv.engine.requests == []
    assert await ps_names(srv) == [f"{TINY}:latest"]


@pytest.mark.parametrize("path", ["/api/generate", "/api/chat"])
async def test_keep_alive_zero_without_prompt_unloads(srv: Served, path: str) -> None:
    await srv.http.post("/api/generate", json={"model": TINY})
    body = single(await srv.http.post(path, json={"model": TINY, "keep_alive": 0}))
    if path == "/api/chat":
        assert list(body) == ["model", "created_at", "message", "done", "done_reason"]
        assert body["message"] == {"role": "assistant", "content": ""}
    else:
        assert list(body) == ["model", "created_at", "response", "done", "done_reason"]
        assert body["response"] == ""
    assert (body["model"], body["done"], body["done_reason"]) == (TINY, True, "unload")
    (runner,) = srv.engine.runners
    assert runner.closed
    assert await ps_names(srv) == []


async def test_unload_of_a_model_that_is_not_loaded_loads_nothing(srv: Served) -> None:
    body = single(await srv.http.post("/api/generate", json={"model": TINY, "keep_alive": "0s"}))
    assert body["done_reason"] == "unload"
    assert srv.engine.runners == []


@pytest.mark.parametrize("body", [{"model": TINY}, {"model": TINY, "keep_alive": 0}])
async def test_load_and_unload_answers_are_one_json_object(srv: Served, body: dict[str, Any]) -> None:
    r = await srv.http.post("/api/generate", json=body)
    assert r.headers["content-type"] == JSON
    assert not r.text.endswith("\n")


async def test_keep_alive_zero_with_a_prompt_answers_then_unloads(srv: Served) -> None:
    body = (await srv.http.post("/api/generate", json={**GENERATE, "keep_alive": 0, "stream": False})).json()
    assert body["response"] == "one two three four"
    (runner,) = srv.engine.runners
    await runner.stopped.wait()
    assert runner.closed
    assert await ps_names(srv) == []


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (PromptTooLong(), 400, PROMPT_TOO_LONG),
        (BadRequest('invalid format: "xml"; expected "json" or a valid JSON Schema object'), 400, None),
        (RunnerStopped(), 500, RUNNER_STOPPED),
    ],
)
async def test_runner_failure_before_the_first_chunk_is_the_status(
    srv: Served, stream: bool, error: PollamaError, status: int, message: str | None
) -> None:
    srv.engine.fail = error
    for path, body in (("/api/generate", GENERATE), ("/api/chat", CHAT)):
        r = await srv.http.post(path, json={**body, "stream": stream})
        assert r.status_code == status
        assert r.headers["content-type"].startswith("application/json")
        assert r.json() == {"error": message or error.message}


@pytest.mark.parametrize("path", ["/api/generate", "/api/chat"])
async def test_runner_dying_mid_stream_ends_with_an_error_line(srv: Served, path: str) -> None:
    srv.engine.die_after = 2
    r = await srv.http.post(path, json=GENERATE if path == "/api/generate" else CHAT)
    assert (r.status_code, r.headers["content-type"]) == (200, NDJSON)
    lines = ndjson(r)
    assert len(lines) == 3
    assert all(line["done"] is False for line in lines[:2])
    assert lines[2] == {"error": RUNNER_STOPPED}
    (runner,) = srv.engine.runners
    assert not runner.alive
    assert await ps_names(srv) == []


async def test_runner_dying_without_stream_is_a_500(srv: Served) -> None:
    srv.engine.die_after = 2
    r = await srv.http.post("/api/chat", json={**CHAT, "stream": False})
    assert (r.status_code, r.headers["content-type"], r.json()) == (500, JSON, {"error": RUNNER_STOPPED})


async def test_next_request_after_a_crash_loads_a_new_runner(srv: Served) -> None:
    srv.engine.die_after = 1
    await srv.http.post("/api/generate", json=GENERATE)
    srv.engine.die_after = None
    r = await srv.http.post("/api/generate", json={**GENERATE, "stream": False})
    assert (r.status_code, r.json()["response"]) == (200, "one two three four")
    crashed, fresh = srv.engine.runners
    assert not crashed.alive and fresh.alive
    assert crashed.spec == fresh.spec
    assert await ps_names(srv) == [f"{TINY}:latest"]


async def test_a_crash_fails_every_request_in_flight(srv: Served) -> None:
    srv.engine.completion_gate = asyncio.Event()
    tasks = [asyncio.ensure_future(srv.http.post("/api/generate", json=GENERATE)) for _ in range(3)]
    await srv.engine.wait_for_requests(3)
    (runner,) = srv.engine.runners
    runner.die()
    for response in await asyncio.gather(*tasks):
        assert (response.status_code, response.json()) == (500, {"error": RUNNER_STOPPED})


async def test_requests_share_the_runners_parallel_slots(start: Start) -> None:
    async with start(OLLAMA_NUM_PARALLEL="2") as srv:
        gate = srv.engine.completion_gate = asyncio.Event()
        tasks = [asyncio.ensure_future(srv.http.post("/api/generate", json=GENERATE)) for _ in range(2)]
        await srv.engine.wait_for_requests(2)
        gate.set()
        responses = await asyncio.gather(*tasks)
        assert [r.status_code for r in responses] == [200, 200]
        assert len(srv.engine.runners) == 1


async def test_queue_limit_answers_503(start: Start) -> None:
    async with start(OLLAMA_MAX_QUEUE="1") as srv:
        gate = srv.engine.load_gate = asyncio.Event()
        loading = asyncio.ensure_future(srv.http.post("/api/generate", json={**GENERATE, "stream": False}))
        await srv.engine.loading.wait()
        for path, body in (("/api/generate", GENERATE), ("/api/chat", CHAT)):
            busy = await srv.http.post(path, json=body)
            assert (busy.status_code, busy.headers["content-type"]) == (503, JSON)
            assert busy.text == f'{{"error":"{SERVER_BUSY}"}}'
        gate.set()
        assert (await loading).status_code == 200
        assert (await srv.http.post("/api/generate", json=GENERATE)).status_code == 200
