"""The server's Prometheus metrics: one registry per server, the counters and histograms the inference path and
the HTTP layer feed, and a collector that reads the scheduler's state (queue, loaded models) at scrape time.

Each app gets its own ``CollectorRegistry`` rather than prometheus_client's global one, so several servers in
one process (the in-process tests) keep separate counts and never register a name twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pollama.runner.types import CacheStats
from pollama.scheduler import Loaded, Scheduler

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds. A small CPU model answers its first token in tens of milliseconds; a long prompt on a big model in
# minutes.
_TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_ITL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5)
_WAIT_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class ServerMetrics:
    """The metric families of one server and the registry ``GET /metrics`` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "pollama_http_requests",
            "HTTP requests answered, by method, route template and status (streams count when they end).",
            ["method", "route", "status"],
            registry=r,
        )
        self.ttft = Histogram(
            "pollama_time_to_first_token_seconds",
            "From the request's arrival to the first generated text, per model.",
            ["model"],
            buckets=_TTFT_BUCKETS,
            registry=r,
        )
        self.itl = Histogram(
            "pollama_inter_token_latency_seconds",
            "Between successive pieces of generated text (one token each, except where text is held back for a "
            "stop string or an incomplete character), per model.",
            ["model"],
            buckets=_ITL_BUCKETS,
            registry=r,
        )
        self.prompt_tokens = Counter(
            "pollama_prompt_tokens", "Prompt tokens evaluated, per model.", ["model"], registry=r
        )
        self.generated_tokens = Counter(
            "pollama_generated_tokens", "Tokens generated, per model.", ["model"], registry=r
        )
        self.queue_wait = Histogram(
            "pollama_queue_wait_seconds",
            "How long a generation waited for a runner slot, including any model load, per model.",
            ["model"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.pull_bytes = Counter("pollama_pull_bytes", "Bytes of model layers downloaded by pulls.", registry=r)

    def watch(self, scheduler: Scheduler) -> None:
        """Report ``scheduler``'s queue and loaded models on every scrape."""
        self.registry.register(SchedulerCollector(scheduler))

    def completion(self, model: str, start_ns: int, waited_ns: int) -> CompletionTimer:
        """Start timing one completion of ``model`` for a request that arrived at ``start_ns`` (monotonic)."""
        self.queue_wait.labels(model).observe(waited_ns / 1e9)
        return CompletionTimer(self, model, start_ns)

    def pull(self) -> PullCounter:
        """Count the bytes one pull downloads, from the progress it reports."""
        return PullCounter(self)

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)


class CompletionTimer:
    """One completion's token timings; ``token`` on each piece of text the runner streams, ``done`` at the end."""

    def __init__(self, metrics: ServerMetrics, model: str, start_ns: int) -> None:
        self._ttft = metrics.ttft.labels(model)
        self._itl = metrics.itl.labels(model)
        self._prompt = metrics.prompt_tokens.labels(model)
        self._generated = metrics.generated_tokens.labels(model)
        self._start = start_ns
        self._last: int | None = None

    def token(self) -> None:
        now = time.monotonic_ns()
        if self._last is None:
            self._ttft.observe((now - self._start) / 1e9)
        else:
            self._itl.observe((now - self._last) / 1e9)
        self._last = now

    def done(self, prompt_tokens: int, generated_tokens: int) -> None:
        self._prompt.inc(prompt_tokens)
        self._generated.inc(generated_tokens)


class PullCounter:
    """Adds each layer's growth in ``completed`` to ``pollama_pull_bytes_total``.

    A layer's first report is its starting point, not a download: a blob already in the store reports its whole
    size at once, and a resumed download starts from what the earlier attempt kept.
    """

    def __init__(self, metrics: ServerMetrics) -> None:
        self._bytes = metrics.pull_bytes
        self._seen: dict[str, int] = {}

    def progress(self, digest: str, completed: int) -> None:
        if not digest:
            return
        before = self._seen.get(digest)
        self._seen[digest] = completed
        if before is not None and completed > before:
            self._bytes.inc(completed - before)


class SchedulerCollector(Collector):
    """The scheduler's current state, read when Prometheus scrapes rather than kept in step by increments."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def collect(self) -> Iterable[Metric]:
        scheduler = self._scheduler
        yield GaugeMetricFamily(
            "pollama_queue_waiting", "Requests waiting for a runner slot or a model load.", value=scheduler.waiting
        )
        yield GaugeMetricFamily(
            "pollama_queue_limit", "Waiting requests allowed before 503 (OLLAMA_MAX_QUEUE).", value=scheduler.max_queue
        )
        loaded = scheduler.loaded()
        yield GaugeMetricFamily("pollama_models_loaded", "Models loaded in runners.", value=len(loaded))
        memory = GaugeMetricFamily(
            "pollama_model_memory_bytes", "Weights and KV cache of a loaded model (size in /api/ps).", labels=["model"]
        )
        load = GaugeMetricFamily(
            "pollama_model_load_seconds", "How long a loaded model took to load.", labels=["model"]
        )
        busy = GaugeMetricFamily(
            "pollama_model_requests_in_flight", "Requests holding a slot of a loaded model.", labels=["model"]
        )
        for entry in loaded:
            info = entry.runner.info
            memory.add_metric([entry.name], info.model_bytes + info.kv_bytes)
            load.add_metric([entry.name], entry.load_seconds)
            busy.add_metric([entry.name], entry.refs)
        yield memory
        yield load
        yield busy
        yield from _prompt_cache(loaded)


def _prompt_cache(loaded: list[Loaded]) -> Iterable[Metric]:
    """The host prompt cache of each loaded model, as its runner last reported it (after a completion)."""
    gauges = {
        "bytes": GaugeMetricFamily(
            "pollama_prompt_cache_bytes", "Host memory held by a model's prompt cache.", labels=["model"]
        ),
        "budget": GaugeMetricFamily(
            "pollama_prompt_cache_budget_bytes", "A model's prompt cache budget (OLLAMA_CACHE_RAM).", labels=["model"]
        ),
        "entries": GaugeMetricFamily(
            "pollama_prompt_cache_entries", "Sequences held by a model's prompt cache.", labels=["model"]
        ),
    }
    counters = {
        "hits": CounterMetricFamily(
            "pollama_prompt_cache_hits",
            "Prompts that started from a prefix restored from the prompt cache (since the model loaded).",
            labels=["model"],
        ),
        "misses": CounterMetricFamily(
            "pollama_prompt_cache_misses",
            "Prompts that looked in the prompt cache and found no prefix worth restoring.",
            labels=["model"],
        ),
        "hit_tokens": CounterMetricFamily(
            "pollama_prompt_cache_hit_tokens", "Prompt tokens restored from the prompt cache.", labels=["model"]
        ),
        "evictions": CounterMetricFamily(
            "pollama_prompt_cache_evictions",
            "Sequences dropped from the prompt cache to stay within its budget.",
            labels=["model"],
        ),
    }
    for entry in loaded:
        stats = getattr(entry.runner, "cache_stats", None)
        if not isinstance(stats, CacheStats):
            continue
        for key, gauge in gauges.items():
            gauge.add_metric([entry.name], getattr(stats, key))
        for key, counter in counters.items():
            counter.add_metric([entry.name], getattr(stats, key))
    yield from gauges.values()
    yield from counters.values()
