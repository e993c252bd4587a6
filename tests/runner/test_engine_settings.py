"""The engine settings of OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE and OLLAMA_LOAD_TIMEOUT applied by a
real runner on the gemma GGUF."""

from __future__ import annotations

import pytest
from runner_helpers import Loop, chat, collect

from pollama.api.options import SamplingOptions
from pollama.engines.llamacpp import LlamaCppRunner
from pollama.errors import RunnerLoadFailed
from pollama.runner import CompletionRequest, LoadSpec


def test_q8_0_kv_cache_with_flash_attention_generates_in_about_half_the_memory(
    aio: Loop, gemma_path: str, runner: LlamaCppRunner
) -> None:
    spec = LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=4, flash_attention=True, kv_cache_type="q8_0")
    q8 = aio.run(LlamaCppRunner.start(spec))
    try:
        req = CompletionRequest(
            prompt=chat("Name three colors."), sampling=SamplingOptions(temperature=0), num_predict=16
        )
        chunks, done = aio.run(collect(q8, req))
        assert len("".join(chunks).split()) >= 3
        assert done.done_reason in ("stop", "length") and done.eval_count > 0
        # q8_0 stores 32 values in 34 bytes against f16's 64: 17/32 of the f16 cache of the same shape.
        assert runner.spec.kv_cache_type == "f16"
        assert (runner.info.n_ctx, runner.info.n_parallel) == (q8.info.n_ctx, q8.info.n_parallel)
        assert q8.info.kv_bytes * 32 == runner.info.kv_bytes * 17
    finally:
        aio.run(q8.close())


def test_load_timeout_fails_the_load_with_a_clear_error(aio: Loop, gemma_path: str) -> None:
    # A millisecond is far less than a Python process needs just to import llama.cpp.
    spec = LoadSpec(model_path=gemma_path, num_ctx=256, num_parallel=1, load_timeout=0.001)
    with pytest.raises(RunnerLoadFailed) as exc:
        aio.run(LlamaCppRunner.start(spec))
    assert "timed out waiting for llama runner to start after 0.001s (OLLAMA_LOAD_TIMEOUT)" in exc.value.message
