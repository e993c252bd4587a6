"""``/api/generate`` and ``/api/chat`` over a fake runner: NDJSON streams and ``stream: false`` answers, the final
objects' field order and omitempty, what reaches the runner (prompt, sampling, stop, ``num_predict``, ``shift``),
option layering and reloads, ``context`` round trips, ``_debug_render_only`` and default thinking."""

from __future__ import annotations

import re
from typing import Any

import pytest
from app_harness import JSON, NDJSON, THINKER, TINY, Served, Start, ndjson
from fake_runner import EVAL_NS_PER_TOKEN, N_CTX_TRAIN, PROMPT_NS_PER_TOKEN, words

from pollama.api.options import SamplingOptions

pytestmark = pytest.mark.anyio

CREATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
METRICS = [
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
]
PROMPT = "The quick brown fox"


def rendered(*turns: tuple[str, str]) -> str:
    """``TINY_TEMPLATE`` applied to a conversation."""
    return "".join(f"<{role}>{content}</{role}>" for role, content in turns) + "<assistant>"


def chat_body(content: str = PROMPT, **extra: Any) -> dict[str, Any]:
    return {"model": TINY, "messages": [{"role": "user", "content": content}], **extra}


def check_metrics(final: dict[str, Any], prompt: str, output: str) -> None:
    n_prompt, n_eval = len(prompt), len(words(output))
    assert final["prompt_eval_count"] == n_prompt
    assert final["prompt_eval_duration"] == PROMPT_NS_PER_TOKEN * n_prompt
    assert final["eval_count"] == n_eval
    assert final["eval_duration"] == EVAL_NS_PER_TOKEN * n_eval
    for key in ("total_duration", "load_duration"):
        assert type(final[key]) is int and final[key] > 0
    assert final["total_duration"] >= final["load_duration"]


async def test_generate_streams_ndjson(srv: Served) -> None:
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": PROMPT})
    assert (r.status_code, r.headers["content-type"]) == (200, NDJSON)
    *chunks, final = ndjson(r)
    prompt = rendered(("user", PROMPT))
    assert [c["response"] for c in chunks] == words(prompt)
    for chunk in chunks:
        assert list(chunk) == ["model", "created_at", "response", "done"]
        assert chunk["model"] == TINY and chunk["done"] is False
        assert CREATED_AT.fullmatch(chunk["created_at"])
    assert list(final) == ["model", "created_at", "response", "done", "done_reason", "context", *METRICS]
    assert (final["model"], final["response"], final["done"], final["done_reason"]) == (TINY, "", True, "stop")
    assert CREATED_AT.fullmatch(final["created_at"])
    assert final["context"] == [ord(c) for c in prompt + prompt]
    check_metrics(final, prompt, prompt)
    (req,) = srv.engine.requests
    assert req.prompt == prompt


async def test_generate_without_stream_is_one_object_of_the_whole_text(srv: Served) -> None:
    streamed = ndjson(await srv.http.post("/api/generate", json={"model": TINY, "prompt": PROMPT}))
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": PROMPT, "stream": False})
    assert (r.status_code, r.headers["content-type"]) == (200, JSON)
    assert not r.text.endswith("\n")
    body = r.json()
    assert list(body) == ["model", "created_at", "response", "done", "done_reason", "context", *METRICS]
    assert body["response"] == "".join(c["response"] for c in streamed)
    assert body["context"] == streamed[-1]["context"]
    check_metrics(body, rendered(("user", PROMPT)), body["response"])


async def test_raw_generate_sends_the_prompt_as_is_and_returns_no_context(srv: Served) -> None:
    body = (
        await srv.http.post("/api/generate", json={"model": TINY, "prompt": PROMPT, "raw": True, "stream": False})
    ).json()
    assert body["response"] == PROMPT
    assert "context" not in body
    assert list(body) == ["model", "created_at", "response", "done", "done_reason", *METRICS]
    assert srv.engine.requests[0].prompt == PROMPT


async def test_context_is_detokenized_in_front_of_the_next_prompt(srv: Served) -> None:
    first = (await srv.http.post("/api/generate", json={"model": TINY, "prompt": "one", "stream": False})).json()
    await srv.http.post("/api/generate", json={"model": TINY, "prompt": "two", "context": first["context"]})
    earlier = rendered(("user", "one"))
    assert srv.engine.requests[1].prompt == earlier + earlier + rendered(("user", "two"))


async def test_generate_system_and_template_fields(srv: Served) -> None:
    await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "system": "Be brief."})
    await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "template": "Q: {{ .Prompt }} A:"})
    assert [r.prompt for r in srv.engine.requests] == [rendered(("system", "Be brief."), ("user", "hi")), "Q: hi A:"]


async def test_chat_streams_ndjson(srv: Served) -> None:
    r = await srv.http.post("/api/chat", json=chat_body())
    assert (r.status_code, r.headers["content-type"]) == (200, NDJSON)
    *chunks, final = ndjson(r)
    prompt = rendered(("user", PROMPT))
    for chunk in chunks:
        assert list(chunk) == ["model", "created_at", "message", "done"]
        assert list(chunk["message"]) == ["role", "content"]
        assert chunk["message"]["role"] == "assistant" and chunk["done"] is False
    assert [c["message"]["content"] for c in chunks] == words(prompt)
    assert list(final) == ["model", "created_at", "message", "done", "done_reason", *METRICS]
    assert final["message"] == {"role": "assistant", "content": ""}
    assert (final["done"], final["done_reason"]) == (True, "stop")
    check_metrics(final, prompt, prompt)


async def test_chat_without_stream_is_one_object_of_the_whole_message(srv: Served) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": PROMPT},
    ]
    r = await srv.http.post("/api/chat", json={"model": TINY, "messages": messages, "stream": False})
    assert (r.status_code, r.headers["content-type"]) == (200, JSON)
    body = r.json()
    prompt = rendered(("system", "Be brief."), ("user", "hi"), ("assistant", "hello"), ("user", PROMPT))
    assert list(body) == ["model", "created_at", "message", "done", "done_reason", *METRICS]
    assert body["message"] == {"role": "assistant", "content": prompt}
    check_metrics(body, prompt, prompt)
    assert srv.engine.requests[0].prompt == prompt


async def test_num_predict_ends_with_length(srv: Served) -> None:
    body = (
        await srv.http.post(
            "/api/generate",
            json={"model": TINY, "prompt": PROMPT, "raw": True, "stream": False, "options": {"num_predict": 2}},
        )
    ).json()
    assert (body["response"], body["done_reason"], body["eval_count"]) == ("The quick", "length", 2)


@pytest.mark.parametrize(
    ("options", "response"),
    [({"stop": ["brown"]}, "The quick "), ({}, "The quick brown fox"), ({"stop": ["quick", "The"]}, "")],
)
async def test_stop_strings_end_with_stop(srv: Served, options: dict[str, Any], response: str) -> None:
    r = await srv.http.post(
        "/api/generate", json={"model": TINY, "prompt": PROMPT, "raw": True, "stream": False, "options": options}
    )
    body = r.json()
    assert (body["response"], body["done_reason"]) == (response, "stop")
    assert srv.engine.requests[0].stop == options.get("stop", ["<end>"])


async def test_model_stop_applies_unless_the_request_sets_its_own(srv: Served) -> None:
    srv.engine.reply = lambda prompt: "one two <end> three"
    first = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "x", "raw": True, "stream": False})
    second = await srv.http.post(
        "/api/generate",
        json={"model": TINY, "prompt": "x", "raw": True, "stream": False, "options": {"stop": ["two"]}},
    )
    assert first.json()["response"] == "one two "
    assert second.json()["response"] == "one "
    assert [r.stop for r in srv.engine.requests] == [["<end>"], ["two"]]


async def test_options_layer_defaults_then_model_params_then_request(srv: Served) -> None:
    await srv.http.post("/api/chat", json=chat_body())
    await srv.http.post(
        "/api/chat",
        json=chat_body(
            options={"temperature": 0.1, "top_p": 0.5, "repeat_penalty": 1.1, "num_keep": 8, "seed": None},
            shift=False,
        ),
    )
    model_only, layered = srv.engine.requests
    assert model_only.sampling == SamplingOptions(temperature=0.5, top_k=20, seed=42)
    assert (model_only.num_keep, model_only.shift, model_only.grammar) == (4, True, None)
    assert layered.sampling == SamplingOptions(temperature=0.1, top_k=20, top_p=0.5, repeat_penalty=1.1, seed=42)
    assert (layered.num_keep, layered.shift, layered.stop) == (8, False, ["<end>"])


async def test_unknown_and_legacy_options_are_ignored(srv: Served) -> None:
    r = await srv.http.post(
        "/api/generate",
        json={"model": TINY, "prompt": "hi", "stream": False, "options": {"mirostat": 2, "bogus": "x", "top_k": 5}},
    )
    assert r.status_code == 200
    assert srv.engine.requests[0].sampling.top_k == 5


@pytest.mark.parametrize(
    ("env", "options", "num_predict"),
    [
        ({}, {}, 40960),
        ({}, {"num_predict": -1}, 40960),
        ({"OLLAMA_CONTEXT_LENGTH": "2048"}, {}, 20480),
        ({}, {"num_ctx": 1000}, 10000),
        ({}, {"num_predict": 5}, 5),
        ({}, {"num_predict": 0}, 0),
        ({}, {"num_predict": 10**6}, 40960),
        ({}, {"num_predict": -7}, 40960),
    ],
)
async def test_num_predict_defaults_to_ten_times_num_ctx(
    start: Start, env: dict[str, str], options: dict[str, Any], num_predict: int
) -> None:
    async with start(**env) as srv:
        await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "options": options})
        assert srv.engine.requests[0].num_predict == num_predict


async def test_runner_is_reused_while_load_options_stay_the_same(srv: Served) -> None:
    for body in (
        {"model": TINY, "prompt": "a"},
        {"model": TINY, "prompt": "b", "options": {"temperature": 0, "num_predict": 3}},
        {"model": TINY, "prompt": "c", "options": {"num_ctx": 4096}},
    ):
        assert (await srv.http.post("/api/generate", json=body)).status_code == 200
    (runner,) = srv.engine.runners
    assert (runner.spec.num_ctx, runner.spec.num_parallel, runner.spec.num_batch) == (4096, 4, 512)
    stored = srv.services.store.resolve(TINY)
    assert stored is not None and runner.spec.model_path == str(stored.model_path)


async def test_num_ctx_change_reloads_with_a_new_load_spec(srv: Served) -> None:
    await srv.http.post("/api/generate", json={"model": TINY, "prompt": "a"})
    await srv.http.post("/api/chat", json=chat_body(options={"num_ctx": 2048, "num_batch": 64, "num_thread": 2}))
    first, second = srv.engine.runners
    assert first.closed and not second.closed
    assert (first.spec.num_ctx, second.spec.num_ctx) == (4096, 2048)
    assert (second.spec.num_batch, second.spec.num_thread) == (64, 2)
    (entry,) = (await srv.http.get("/api/ps")).json()["models"]
    assert entry["context_length"] == 2048


@pytest.mark.parametrize(("num_ctx", "loaded"), [(100_000, N_CTX_TRAIN), (1, 4)])
async def test_num_ctx_is_clamped_to_the_model(srv: Served, num_ctx: int, loaded: int) -> None:
    await srv.http.post("/api/generate", json={"model": TINY, "options": {"num_ctx": num_ctx}})
    assert srv.engine.specs[0].num_ctx == loaded


async def test_num_parallel_reaches_the_load_spec(start: Start) -> None:
    async with start(OLLAMA_NUM_PARALLEL="2") as srv:
        await srv.http.post("/api/generate", json={"model": TINY})
        assert srv.engine.specs[0].num_parallel == 2


async def test_debug_render_only_answers_the_prompt_without_generating(srv: Served) -> None:
    r = await srv.http.post("/api/generate", json={"model": TINY, "prompt": "hi", "_debug_render_only": True})
    assert r.status_code == 200
    (body,) = ndjson(r) if r.headers["content-type"] == NDJSON else [r.json()]
    assert list(body) == ["model", "created_at", "response", "done", "_debug_info"]
    assert (body["response"], body["done"]) == ("", False)
    assert body["_debug_info"] == {"rendered_template": rendered(("user", "hi"))}

    raw = await srv.http.post(
        "/api/generate", json={"model": TINY, "prompt": "hi", "raw": True, "_debug_render_only": True, "stream": False}
    )
    assert raw.json()["_debug_info"] == {"rendered_template": "hi"}

    r = await srv.http.post("/api/chat", json=chat_body("hi", _debug_render_only=True, stream=False))
    body = r.json()
    assert list(body) == ["model", "created_at", "message", "done", "_debug_info"]
    assert (body["message"], body["done"]) == ({"role": "", "content": ""}, False)
    assert body["_debug_info"] == {"rendered_template": rendered(("user", "hi"))}
    assert srv.engine.requests == []
    assert len(srv.engine.runners) == 1  # Ollama loads the model to render (it counts tokens with it)


async def test_debug_render_only_is_one_json_object_when_streaming(srv: Served) -> None:
    r = await srv.http.post("/api/chat", json=chat_body("hi", _debug_render_only=True))
    assert r.headers["content-type"] == JSON
    assert not r.text.endswith("\n")


@pytest.mark.parametrize(
    ("think", "tail"),
    [(None, "<assistant><think>"), (True, "<assistant><think>"), (False, "<assistant>"), ("low", "<assistant><think>")],
)
async def test_thinking_model_thinks_unless_told_not_to(srv: Served, think: object, tail: str) -> None:
    body: dict[str, Any] = {"model": THINKER, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    if think is not None:
        body["think"] = think
    r = await srv.http.post("/api/chat", json={**body, "_debug_render_only": True})
    assert r.status_code == 200
    assert r.json()["_debug_info"]["rendered_template"] == "<user>hi</user>" + tail
