"""Request bodies per engine dialect and the parsing of streamed events, in process."""

from __future__ import annotations

import math

import pytest

from pollama.api.options import SamplingOptions
from pollama.engines.remote_wire import StreamState, completion_body, parse_logprobs
from pollama.errors import BadRequest
from pollama.runner.types import CompletionRequest

REQ = CompletionRequest(
    prompt="p",
    sampling=SamplingOptions(temperature=0.0, top_k=0, seed=7),
    num_predict=32,
    stop=["\n\n"],
    num_keep=5,
    logprobs=True,
    top_logprobs=2,
    logit_bias=((13, -math.inf), (42, 2.5)),
)


def test_llama_server_body() -> None:
    req = CompletionRequest(**{**REQ.__dict__, "grammar": "root ::= x", "grammar_triggers": ("<tool_call>()",)})
    body = completion_body("llama-server", "m", req)
    assert body["prompt"] == "p" and body["stream"] is True and body["n_predict"] == 32
    assert body["temperature"] == 0.0 and body["seed"] == 7 and body["stop"] == ["\n\n"] and body["n_keep"] == 5
    assert body["grammar"] == "root ::= x" and body["grammar_lazy"] is True
    assert body["grammar_triggers"] == [{"type": 2, "value": "<tool_call>()"}]
    assert body["n_probs"] == 2 and body["logit_bias"] == [[13, False], [42, 2.5]]
    assert body["cache_prompt"] is True and "max_tokens" not in body


def test_vllm_body() -> None:
    body = completion_body("vllm", "org/m", CompletionRequest(**{**REQ.__dict__, "grammar": "root ::= x"}))
    assert body["model"] == "org/m" and body["max_tokens"] == 32 and body["top_k"] == -1
    assert body["structured_outputs"] == {"grammar": "root ::= x"} and body["logprobs"] == 2
    assert body["logit_bias"] == {"13": -100.0, "42": 2.5}
    assert body["stream_options"] == {"include_usage": True}
    # vLLM has no lazy grammar: a tool-call grammar is left out rather than forcing every answer into a call.
    lazy = completion_body("vllm", "m", CompletionRequest(prompt="p", grammar="g", grammar_triggers=("x",)))
    assert "structured_outputs" not in lazy
    # Until the context is full: null, vLLM's "the room left after the prompt" (absent would mean 16 tokens).
    assert completion_body("vllm", "m", CompletionRequest(prompt="p", num_predict=-2))["max_tokens"] is None
    long = CompletionRequest(prompt="p", num_predict=40960)
    assert completion_body("vllm", "m", long, context=4096)["max_tokens"] is None
    assert completion_body("vllm", "m", long)["max_tokens"] == 40960  # context unknown: as asked
    assert completion_body("openai", "m", long, context=4096)["max_tokens"] == 40960


def test_generic_engine_refuses_format() -> None:
    with pytest.raises(BadRequest, match='"m" cannot constrain its output'):
        completion_body("openai", "m", CompletionRequest(prompt="p", grammar="root ::= x"))


def test_llama_server_stream() -> None:
    s = StreamState(top_logprobs=1)
    lp = {
        "id": 1,
        "token": "Hi",
        "bytes": [72, 105],
        "logprob": -0.5,
        "top_logprobs": [{"token": "Hi", "logprob": -0.5}],
    }
    c = s.feed({"choices": [{"text": "Hi", "logprobs": {"content": [lp]}, "finish_reason": None}]})
    assert c is not None and c.text == "Hi" and c.logprobs[0].token.bytes == (72, 105)
    assert c.logprobs[0].top_logprobs[0].token == "Hi"
    assert s.feed({"choices": [{"text": "", "finish_reason": None}]}) is None
    s.feed(
        {
            "choices": [{"text": "", "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 4},
            "timings": {"prompt_n": 10, "cache_n": 20, "prompt_ms": 5.0, "predicted_n": 4, "predicted_ms": 40.0},
        }
    )
    d = s.done()
    assert (d.done_reason, d.prompt_eval_count, d.cached_tokens, d.eval_count) == ("stop", 30, 20, 4)
    assert d.prompt_eval_duration == 5_000_000 and d.eval_duration == 40_000_000


def test_vllm_stream_legacy_logprobs_and_usage_chunk() -> None:
    s = StreamState(top_logprobs=2)
    c = s.feed(
        {
            "choices": [
                {
                    "text": "ab",
                    "logprobs": {
                        "tokens": ["a", "b"],
                        "token_logprobs": [-1.0, -2.0],
                        "top_logprobs": [{"a": -1.0, "c": -3.0, "d": -0.5}, None],
                    },
                    "finish_reason": None,
                }
            ]
        }
    )
    assert c is not None and [lp.token.token for lp in c.logprobs] == ["a", "b"]
    assert [t.token for t in c.logprobs[0].top_logprobs] == ["d", "a"]
    s.feed({"choices": [{"text": "", "finish_reason": "length", "stop_reason": None}]})
    s.feed(
        {
            "choices": [],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 3}},
        }
    )
    d = s.done()
    assert (d.done_reason, d.prompt_eval_count, d.eval_count, d.cached_tokens) == ("length", 7, 2, 3)


def test_stop_sequence_is_reported_when_the_engine_says_which() -> None:
    s = StreamState()
    s.feed({"choices": [{"text": "x", "finish_reason": "stop", "stop_reason": "END"}]})
    assert s.done().stop_sequence == "END"


def test_malformed_logprobs_are_ignored() -> None:
    assert parse_logprobs(None, 0) == [] and parse_logprobs({"content": "x"}, 0) == []
