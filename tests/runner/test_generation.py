"""Single-request generation through a real runner process: determinism, seeds, limits, stop strings, UTF-8,
tokenization and the grammar hook."""

from __future__ import annotations

from runner_helpers import Loop, chat, collect

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.runner import CompletionRequest, SamplingOptions

GREEDY = SamplingOptions(temperature=0)


def test_greedy_output_is_deterministic(aio: Loop, runner: LlamaCppRunner) -> None:
    req = CompletionRequest(prompt=chat("Name three colors."), sampling=GREEDY, num_predict=24)
    a, done_a = aio.run(collect(runner, req))
    b, done_b = aio.run(collect(runner, req))
    assert "".join(a) == "".join(b) != ""
    assert done_a.context == done_b.context
    assert done_a.done_reason in ("stop", "length")


def test_same_seed_same_text_different_seed_different_text(aio: Loop, runner: LlamaCppRunner) -> None:
    def req(seed: int) -> CompletionRequest:
        opts = SamplingOptions(temperature=1.0, top_k=0, top_p=1.0, seed=seed)
        return CompletionRequest(prompt=chat("Write a short poem about the sea."), sampling=opts, num_predict=24)

    first = "".join(aio.run(collect(runner, req(42)))[0])
    again = "".join(aio.run(collect(runner, req(42)))[0])
    other = "".join(aio.run(collect(runner, req(4242)))[0])
    assert first == again
    assert first != other


def test_num_predict_limits_generation(aio: Loop, runner: LlamaCppRunner) -> None:
    prompt = chat("Tell me a long story about a dragon.")
    chunks, done = aio.run(collect(runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=5)))
    prompt_tokens = aio.run(runner.tokenize(prompt, add_special=True))
    assert done.done_reason == "length"
    assert done.eval_count == 5
    assert done.prompt_eval_count == len(prompt_tokens)
    assert done.context[: len(prompt_tokens)] == prompt_tokens
    assert len(done.context) == len(prompt_tokens) + 5
    assert aio.run(runner.detokenize(done.context[len(prompt_tokens) :])) == "".join(chunks)
    assert done.prompt_eval_duration > 0 and done.eval_duration > 0


def test_stop_string_is_never_emitted(aio: Loop, runner: LlamaCppRunner) -> None:
    prompt = "Monday, Tuesday, Wednesday,"
    full = "".join(aio.run(collect(runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=40)))[0])
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]
    req = CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=40, stop=[stop])
    chunks, done = aio.run(collect(runner, req))
    text = "".join(chunks)
    assert stop not in text
    assert done.done_reason == "stop"
    assert text == full[: full.index(stop)]


def test_utf8_chunks_are_whole_characters(aio: Loop, runner: LlamaCppRunner) -> None:
    prompt = "中文：北京是中国的首都。上海是"
    chunks, _ = aio.run(collect(runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=32)))
    text = "".join(chunks)
    assert any(ord(c) > 0x2E80 for c in text), text
    for chunk in chunks:
        assert "\ufffd" not in chunk
        chunk.encode("utf-8")


def test_tokenize_detokenize_round_trip(aio: Loop, runner: LlamaCppRunner) -> None:
    plain = aio.run(runner.tokenize("Hello, world! 你好"))
    special = aio.run(runner.tokenize("Hello, world! 你好", add_special=True))
    assert special[1:] == plain and len(special) == len(plain) + 1
    assert aio.run(runner.detokenize(plain)) == "Hello, world! 你好"
    turn = aio.run(runner.tokenize("<start_of_turn>user"))
    assert aio.run(runner.detokenize(turn)) == "<start_of_turn>user"


def test_grammar_constrains_output_and_eog_ends_with_stop(aio: Loop, runner: LlamaCppRunner) -> None:
    # The test model is the base (not instruction-tuned) gemma3, which rarely ends a turn by itself; a grammar
    # that only allows "yes" or "no" forces the end-of-turn token right after.
    req = CompletionRequest(
        prompt=chat("Is the sky blue? Answer in one word."),
        sampling=GREEDY,
        num_predict=8,
        grammar='root ::= ("yes" | "no")',
    )
    chunks, done = aio.run(collect(runner, req))
    assert "".join(chunks) in ("yes", "no")
    assert done.done_reason == "stop"
    # The end-of-generation token counts as evaluated (as in llama-server) but is neither text nor context.
    generated = done.context[done.prompt_eval_count :]
    assert aio.run(runner.detokenize(generated)) == "".join(chunks)
    assert done.eval_count == len(generated) + 1


def test_info(runner: LlamaCppRunner) -> None:
    info = runner.info
    assert info.n_ctx_train >= 512 and info.n_vocab > 1000
    assert info.model_bytes > 100_000_000 and info.kv_bytes > 0
    assert runner.alive and runner.pid > 0


def test_a_token_repeated_more_than_30_times_stops_generation(aio: Loop, runner: LlamaCppRunner) -> None:
    req = CompletionRequest(prompt="a a a a a a a a a a a a a a a a", sampling=GREEDY, num_predict=100)
    chunks, done = aio.run(collect(runner, req))
    assert done.done_reason == "stop"
    assert "".join(chunks).split() == ["a"] * 31
    assert done.eval_count == 32


def test_tokenize_is_served_during_generation(aio: Loop, runner: LlamaCppRunner) -> None:
    async def scenario() -> tuple[list[int], str]:
        stream = runner.completion(CompletionRequest(prompt="1, 2, 3,", sampling=GREEDY, num_predict=64))
        await anext(stream)
        tokens = await runner.tokenize("hello world")
        text = await runner.detokenize(tokens)
        await stream.aclose()
        return tokens, text

    tokens, text = aio.run(scenario())
    assert tokens and text == "hello world"


def test_num_predict_zero_generates_nothing(aio: Loop, runner: LlamaCppRunner) -> None:
    chunks, done = aio.run(collect(runner, CompletionRequest(prompt="Hello", sampling=GREEDY, num_predict=0)))
    assert chunks == [] and done.eval_count == 0 and done.done_reason == "length"
    assert done.context == aio.run(runner.tokenize("Hello", add_special=True))
