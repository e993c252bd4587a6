"""``GET /metrics``: Prometheus text that parses, requests counted by route template and status, token counts
and latency histograms per model from the inference path, and the scheduler's state read at scrape time."""

from __future__ import annotations

import httpx
import pytest
from app_harness import TINY, Served, Start, ndjson
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.anyio

MODEL = f"{TINY}:latest"
"""The label a loaded model gets: its name as /api/ps shows it."""

Labels = tuple[tuple[str, str], ...]


async def scrape(srv: Served) -> dict[tuple[str, Labels], float]:
    """Every sample of ``/metrics``, by name and sorted labels."""
    r = await srv.http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def requests(samples: dict[tuple[str, Labels], float], method: str, route: str, status: int) -> float:
    key = ("pollama_http_requests_total", (("method", method), ("route", route), ("status", str(status))))
    return samples.get(key, 0.0)


def chat_body(stream: bool) -> dict[str, object]:
    return {"model": TINY, "messages": [{"role": "user", "content": "one two three four"}], "stream": stream}


async def test_a_chat_is_counted_with_its_tokens_and_latencies(srv: Served) -> None:
    r = await srv.http.post("/api/chat", json=chat_body(stream=False))
    assert r.status_code == 200
    final = r.json()
    streamed = ndjson(await srv.http.post("/api/chat", json=chat_body(stream=True)))
    assert streamed[-1]["done"] is True

    samples = await scrape(srv)
    model = (("model", MODEL),)
    assert requests(samples, "POST", "/api/chat", 200) == 2
    assert samples[("pollama_prompt_tokens_total", model)] == 2 * final["prompt_eval_count"]
    assert samples[("pollama_generated_tokens_total", model)] == 2 * final["eval_count"]
    assert final["eval_count"] > 1
    assert samples[("pollama_time_to_first_token_seconds_count", model)] == 2
    assert samples[("pollama_time_to_first_token_seconds_sum", model)] > 0
    # Every chunk of the fake runner is one token: each after the first is one inter-token gap.
    assert samples[("pollama_inter_token_latency_seconds_count", model)] == 2 * (final["eval_count"] - 1)
    assert samples[("pollama_queue_wait_seconds_count", model)] == 2


async def test_loaded_models_queue_and_memory_are_read_at_scrape_time(srv: Served) -> None:
    before = await scrape(srv)
    assert before[("pollama_models_loaded", ())] == 0
    assert before[("pollama_queue_waiting", ())] == 0
    assert ("pollama_model_memory_bytes", (("model", MODEL),)) not in before

    assert (await srv.http.post("/api/chat", json=chat_body(stream=False))).status_code == 200
    ps = (await srv.http.get("/api/ps")).json()["models"]
    after = await scrape(srv)
    assert after[("pollama_models_loaded", ())] == 1
    assert after[("pollama_model_memory_bytes", (("model", MODEL),))] == ps[0]["size"]
    assert after[("pollama_model_load_seconds", (("model", MODEL),))] >= 0
    assert after[("pollama_model_requests_in_flight", (("model", MODEL),))] == 0
    assert after[("pollama_queue_limit", ())] == srv.services.scheduler.max_queue

    assert (await srv.http.post("/api/generate", json={"model": TINY, "keep_alive": 0})).status_code == 200
    unloaded = await scrape(srv)
    assert unloaded[("pollama_models_loaded", ())] == 0
    assert ("pollama_model_memory_bytes", (("model", MODEL),)) not in unloaded


async def test_requests_are_labelled_by_route_template_and_status(srv: Served) -> None:
    assert (await srv.http.post("/api/chat", json={"model": "nope", "messages": []})).status_code == 404
    assert (await srv.http.head("/api/blobs/sha256:" + "0" * 64)).status_code == 404
    assert (await srv.http.get("/api/chat")).status_code == 405
    assert (await srv.http.get("/no/such/path/1")).status_code == 404
    assert (await srv.http.get("/no/such/path/2")).status_code == 404

    samples = await scrape(srv)
    assert requests(samples, "POST", "/api/chat", 404) == 1
    assert requests(samples, "HEAD", "/api/blobs/{digest}", 404) == 1
    assert requests(samples, "GET", "/api/chat", 405) == 1
    assert requests(samples, "GET", "unmatched", 404) == 2
    assert not any("sha256:" in value for (_, labels) in samples for _, value in labels)


async def test_a_refused_host_is_counted(srv: Served) -> None:
    r = await srv.http.get("/api/tags", headers={"Host": "evil.example"})
    assert r.status_code == 403
    assert requests(await scrape(srv), "GET", "/api/tags", 403) == 1


async def test_each_app_keeps_its_own_counts(start: Start) -> None:
    async with start() as one, start() as two:
        assert (await one.http.post("/api/chat", json=chat_body(stream=False))).status_code == 200
        assert requests(await scrape(one), "POST", "/api/chat", 200) == 1
        assert requests(await scrape(two), "POST", "/api/chat", 200) == 0


async def test_metrics_is_served_to_a_plain_client(srv: Served) -> None:
    r = await srv.http.get("/metrics")
    assert "# TYPE pollama_http_requests_total counter" in r.text
    assert "# TYPE pollama_time_to_first_token_seconds histogram" in r.text
    assert isinstance(r, httpx.Response)
