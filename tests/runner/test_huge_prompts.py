"""Huge texts on the real runner (issue 10): a prompt far past the context costs what its context costs and is
cut as a whole-text tokenization would be cut, and a count whose caller leaves stops in the runner."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from runner_helpers import Loop

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.errors import BadRequest, PromptTooLong
from pollama.runner import CompletionRequest, Done

# About 2 MB: eight chunks of the runner's tokenizer, hundreds of times the 128-token context.
HUGE = "The quick brown fox jumps over the lazy dog. " * 45_000


async def prompt_of(runner: LlamaCppRunner, text: str, shift: bool = True) -> list[int]:
    async for item in runner.completion(CompletionRequest(prompt=text, num_predict=0, num_keep=4, shift=shift)):
        if isinstance(item, Done):
            return item.context
    raise AssertionError("no Done")


def test_a_huge_prompt_is_cut_like_the_whole_of_it(aio: Loop, small_runner: LlamaCppRunner) -> None:
    whole = aio.run(small_runner.tokenize(HUGE, add_special=True))
    assert len(whole) > 400_000
    # The engine's cut of a prompt that does not fit 128 tokens: 4 kept, then the last (128 - 4) // 2.
    expected = whole[:4] + whole[-62:]
    assert aio.run(prompt_of(small_runner, HUGE)) == expected


def test_a_huge_prompt_without_shift_is_too_long(aio: Loop, small_runner: LlamaCppRunner) -> None:
    async def run() -> None:
        async for _ in small_runner.completion(CompletionRequest(prompt=HUGE, num_predict=1, shift=False)):
            pass

    try:
        aio.run(run())
    except PromptTooLong:
        pass
    else:
        raise AssertionError("not refused")


def test_counting_stops_at_a_limit_and_when_its_caller_leaves(aio: Loop, small_runner: LlamaCppRunner) -> None:
    text = HUGE * 8

    async def leave_a_count() -> int:
        assert await small_runner.count_tokens(text, limit=128) > 128
        task = asyncio.create_task(small_runner.count_tokens(text))
        await asyncio.sleep(1.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # The runner answers the next request (it is not tokenizing 16 MB for a caller that has gone).
        return await small_runner.count_tokens("one two three")

    assert aio.run(leave_a_count()) == 3
    assert any("cancelled while its text was being tokenized" in line for line in small_runner.stderr_tail)


def test_a_huge_embedding_input_is_cut_like_its_head(aio: Loop, small_runner: LlamaCppRunner) -> None:
    with pytest.raises(BadRequest, match=r"^the input length exceeds the context length$"):
        aio.run(small_runner.embed([HUGE], truncate=False))
    cut = aio.run(small_runner.embed([HUGE, HUGE[:4000]]))
    assert cut.counts[0] == cut.counts[1] <= 128
    assert np.allclose(cut.vectors[0], cut.vectors[1])
