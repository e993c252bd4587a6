"""``GET /metrics`` on a live server after real generations through llama.cpp: the request counter, tokens per
model agreeing with the responses' own counts, a TTFT observation, and the loaded model's memory as /api/ps."""

from __future__ import annotations

from e2e_helpers import MODEL, Server
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: Server) -> Samples:
    with server.client() as http:
        r = http.get("/metrics")
    assert r.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_count_a_real_chat(server: Server) -> None:
    chat = ("pollama_http_requests_total", (("method", "POST"), ("route", "/api/chat"), ("status", "200")))
    label = (("model", MODEL),)
    before = scrape(server)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Say hi."}], "stream": False}
    body["options"] = {"num_predict": 8, "seed": 1}
    with server.client() as http:
        final = http.post("/api/chat", json=body).json()
        ps = http.get("/api/ps").json()["models"]
    after = scrape(server)

    def delta(key: tuple[str, tuple[tuple[str, str], ...]]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta(chat) == 1
    assert delta(("pollama_prompt_tokens_total", label)) == final["prompt_eval_count"]
    assert delta(("pollama_generated_tokens_total", label)) == final["eval_count"]
    assert delta(("pollama_time_to_first_token_seconds_count", label)) == 1
    assert delta(("pollama_time_to_first_token_seconds_sum", label)) > 0
    assert delta(("pollama_inter_token_latency_seconds_count", label)) >= 1
    size = next(m["size"] for m in ps if m["name"] == MODEL)
    assert after[("pollama_model_memory_bytes", label)] == size
    assert after[("pollama_models_loaded", ())] >= 1
