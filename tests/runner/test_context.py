"""KV cache management: prefix reuse across requests, context shift, and prompts longer than the context."""

from __future__ import annotations

import pytest
from runner_helpers import Loop, chat, collect

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.errors import PromptTooLong
from pollama.runner import CompletionRequest, SamplingOptions

GREEDY = SamplingOptions(temperature=0)
PROMPT_TOO_LONG = (
    "the prompt is longer than the context length currently available to the model; shorten the prompt, "
    "adjust the context length in settings, or use a model with a longer context length"
)


def test_cached_tokens_is_the_prefix_shared_with_the_slot(aio: Loop, fresh_runner: LlamaCppRunner) -> None:
    runner = fresh_runner
    first = chat("My name is Ada and I like chess. Remember that.")
    second = first + "Noted.<end_of_turn>\n" + chat("What is my name?")
    unrelated = "Unrelated text."
    first_tokens, second_tokens, unrelated_tokens = (
        aio.run(runner.tokenize(text, add_special=True)) for text in (first, second, unrelated)
    )
    assert second_tokens[: len(first_tokens)] == first_tokens
    assert unrelated_tokens[0] == second_tokens[0] and unrelated_tokens[1] != second_tokens[1]  # BOS only

    def cached(prompt: str) -> int:
        # With one token to predict, the slot ends up holding exactly the prompt: the sampled token is
        # reported but never evaluated.
        _, done = aio.run(collect(runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=1)))
        return done.cached_tokens

    assert cached(first) == 0  # a fresh runner's only slot is empty
    assert cached(second) == len(first_tokens)
    assert cached(unrelated) == 1
    assert cached(second) == 1


def test_prefix_reuse_gives_cold_output(aio: Loop, fresh_runner: LlamaCppRunner) -> None:
    runner = fresh_runner
    first = chat("My name is Ada and I like chess. Remember that.")
    answer, done1 = aio.run(collect(runner, CompletionRequest(prompt=first, sampling=GREEDY, num_predict=16)))
    second = first + "".join(answer) + "<end_of_turn>\n" + chat("What is my name?")
    warm, done2 = aio.run(collect(runner, CompletionRequest(prompt=second, sampling=GREEDY, num_predict=16)))
    assert done1.cached_tokens == 0
    assert done2.cached_tokens >= done1.prompt_eval_count
    assert done2.prompt_eval_count == len(aio.run(runner.tokenize(second, add_special=True)))

    # Evict the slot's cache with an unrelated prompt, then run the same second prompt cold.
    aio.run(collect(runner, CompletionRequest(prompt="Unrelated text.", sampling=GREEDY, num_predict=2)))
    cold, done3 = aio.run(collect(runner, CompletionRequest(prompt=second, sampling=GREEDY, num_predict=16)))
    assert done3.cached_tokens == 1  # the BOS token
    assert "".join(warm) == "".join(cold)


COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,"


def test_context_shift_lets_generation_exceed_num_ctx(aio: Loop, small_runner: LlamaCppRunner) -> None:
    req = CompletionRequest(prompt=COUNTING, sampling=GREEDY, num_predict=150, shift=True)
    chunks, done = aio.run(collect(small_runner, req))
    assert done.done_reason == "length", "".join(chunks)
    assert done.eval_count == 150
    assert done.prompt_eval_count + done.eval_count > small_runner.spec.num_ctx


def test_without_shift_a_full_context_ends_with_length(aio: Loop, small_runner: LlamaCppRunner) -> None:
    req = CompletionRequest(prompt=COUNTING, sampling=GREEDY, num_predict=200, shift=False)
    chunks, done = aio.run(collect(small_runner, req))
    assert done.done_reason == "length", "".join(chunks)
    assert done.prompt_eval_count + done.eval_count == small_runner.spec.num_ctx


def test_num_predict_minus_two_fills_the_context(aio: Loop, small_runner: LlamaCppRunner) -> None:
    chunks, done = aio.run(collect(small_runner, CompletionRequest(prompt=COUNTING, sampling=GREEDY, num_predict=-2)))
    assert done.done_reason == "length", "".join(chunks)
    assert done.prompt_eval_count + done.eval_count == small_runner.spec.num_ctx


def test_long_prompt_without_shift_is_rejected(aio: Loop, small_runner: LlamaCppRunner) -> None:
    prompt = " ".join(str(i) for i in range(400))
    with pytest.raises(PromptTooLong) as exc:
        aio.run(collect(small_runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=4, shift=False)))
    assert exc.value.message == PROMPT_TOO_LONG
    assert small_runner.alive


def test_long_prompt_with_shift_is_truncated(aio: Loop, small_runner: LlamaCppRunner) -> None:
    prompt = " ".join(str(i) for i in range(400))
    _, done = aio.run(collect(small_runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=4)))
    n_ctx = small_runner.spec.num_ctx
    assert done.prompt_eval_count < n_ctx
    assert done.eval_count == 4 and done.done_reason == "length"
    full = aio.run(small_runner.tokenize(prompt, add_special=True))
    # The first num_keep tokens and the most recent tokens are kept.
    assert done.context[:4] == full[:4]
    tail = done.prompt_eval_count - 4
    assert done.context[4 : done.prompt_eval_count] == full[-tail:]
