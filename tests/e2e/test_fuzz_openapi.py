"""schemathesis against pollama's own ``/openapi.json`` on a live server: generated requests, valid and invalid,
for every documented operation; bounded (a fixed number of examples per operation and mode, derandomized).

A request fails when the answer is a 5xx other than the option-type 500 Ollama also gives (or a 503 with
``Retry-After``), when its status or media type is not documented, when its body does not match the documented
schema, or when a line of an NDJSON stream or an SSE event is not valid JSON of the documented shape.

Generated bodies are steered only where a random value would leave the machine or take minutes: a third of the
model names in running operations become the real model, with a tiny generation and no load-time options; pull,
push and create's ``from`` go to a closed loopback port instead of the public registry.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from e2e_helpers import MODEL, Server
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from openapi_conformance import conformance

EXAMPLES_PER_MODE = 12
"""Per operation and generation mode (valid, invalid); with the examples, about 500 requests in all."""

EMBEDDER = "all-minilm"
DEAD_REGISTRY = "127.0.0.1:9/"
RUNS = {
    "/api/generate",
    "/api/chat",
    "/api/embed",
    "/api/embeddings",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/messages",
    "/v1/messages/count_tokens",
}
LOAD_OPTIONS = ("num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread")
# The option-type 500s Ollama gives too (``pollama.api.options``).
OPTION_500 = re.compile(r'option "[^"]*" must be of')


def _steer(path: str, body: Any, local: set[str]) -> None:
    """Keep a generated body on this machine and quick (see the module docstring); ``local`` are the models
    in the store."""
    if not isinstance(body, dict):
        return
    model = body.get("model")
    if path in ("/api/pull", "/api/push"):
        for key in ("model", "name"):  # name: the deprecated spelling, read when model is empty
            if isinstance(body.get(key), str):
                body[key] = DEAD_REGISTRY + body[key]
    if path == "/api/create" and isinstance(body.get("from"), str) and body["from"] not in local:
        body["from"] = DEAD_REGISTRY + body["from"]
    if path not in RUNS or not isinstance(model, str) or len(model) % 3:
        return
    body["model"] = EMBEDDER if "embed" in path else MODEL
    body.pop("keep_alive", None)
    options = body.get("options")
    if isinstance(options, dict):
        for key in LOAD_OPTIONS:
            options.pop(key, None)
        options["num_predict"] = 1
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        body[key] = 1
    if path == "/api/generate" or path == "/api/chat":
        body["options"] = options if isinstance(options, dict) else {"num_predict": 1}


def _server_error(path: str, status: int, headers: dict[str, list[str]], content: bytes) -> str | None:
    if status < 500:
        return None
    text = content.decode("utf-8", "replace")
    if status == 500 and OPTION_500.search(text):
        return None
    if status == 500 and path in ("/api/pull", "/api/push") and DEAD_REGISTRY.rstrip("/") in text:
        # The registry this run sends them to is not there: Ollama's 500 for a failed registry (or for pushing a
        # model that is not in the store), with stream false.
        return None
    if status == 503 and "retry-after" in headers:
        return None
    return f"server error {status}: {text[:300]}"


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.by_operation: collections.Counter[str] = collections.Counter()
        self.samples: dict[str, str] = {}
        self.failures: list[str] = []


def _run_case(server: Server, doc: dict[str, Any], case: Any, tally: Tally, local: set[str]) -> None:
    _steer(case.operation.path, case.body, local)
    where = f"{case.method} {case.operation.path} body={str(case.body)[:300]!r}"
    try:
        response = case.call(base_url=server.url, timeout=120)
    except Exception:
        tally.failures.append(f"{where}: no answer\n{traceback.format_exc(limit=1)}")
        return
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    key = f"{case.operation.label} {response.status_code}"
    tally.by_operation[key] += 1
    tally.samples.setdefault(key, response.content[:150].decode("utf-8", "replace"))
    problem = _server_error(case.operation.path, response.status_code, response.headers, response.content)
    if problem is None:
        content_type = (response.headers.get("content-type") or [None])[0]
        found = conformance(doc, case.operation.path, case.method, response.status_code, content_type, response.content)
        problem = "; ".join(found) or None
    if problem is None:
        try:
            case.validate_response(response, checks=[content_type_conformance, response_schema_conformance])
        except BaseException as err:  # schemathesis reports with a FailureGroup, a BaseExceptionGroup
            if not isinstance(err, Exception) and not isinstance(err, BaseExceptionGroup):
                raise
            problem = f"schemathesis: {err}"[:600]
    if problem is not None:
        tally.failures.append(f"{where}\n  {problem}")


def test_schemathesis_finds_nothing(start_server: Callable[..., Server], models_dir: Path, tmp_path: Path) -> None:
    # Generated requests create, copy and delete models (the schema's model names are among their values): the
    # server gets its own store, a hard-linked copy of the shared one (the store replaces files, never rewrites
    # them, so the shared one cannot change).
    own = tmp_path / "models"
    shutil.copytree(models_dir, own, copy_function=os.link)
    server = start_server(OLLAMA_MODELS=str(own))
    doc = httpx.get(server.url + "/openapi.json", timeout=30).json()
    local = {m["name"] for m in httpx.get(server.url + "/api/tags", timeout=30).json()["models"]}
    local |= {name.removesuffix(":latest") for name in local}
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    missing = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops} - labels
    # schemathesis leaves out the operation that serves the schema it was loaded from.
    assert missing == {"GET /openapi.json"}, missing
    # First the document's own examples, in document order (create, then copy, then delete the copy).
    for operation in operations:
        for strategy in operation.get_strategies_from_examples():

            @settings(max_examples=1, derandomize=True, database=None, deadline=None, phases=[Phase.generate])
            @given(case=strategy)
            def example(case: Any) -> None:
                _run_case(server, doc, case, tally, local)

            example()
    examples = tally.requests
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_MODE,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                _run_case(server, doc, case, tally, local)

            try:
                run()
            except Exception as err:  # a strategy that cannot generate (a negative body for a body-less op)
                if "Unsatisfiable" not in type(err).__name__ and "unsatisfiable" not in str(err).lower():
                    raise
    summary = {
        "examples": examples,
        "requests": tally.requests,
        "failures": len(tally.failures),
        "statuses": dict(tally.statuses),
    }
    print("schemathesis:", json.dumps(summary, sort_keys=True))
    for key, count in sorted(tally.by_operation.items()):
        print(f"  {key}: {count}  e.g. {tally.samples[key]!r}")
    assert server.proc.poll() is None
    assert httpx.get(server.url, timeout=30).text == "Ollama is running"
    assert tally.requests > 10 * len(operations)
    assert not tally.failures, "\n".join(tally.failures[:20]) + f"\n({len(tally.failures)} failures)"
