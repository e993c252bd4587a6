"""Output control inside a real runner: grammars checked token by token (eager and lazy), log probabilities
of every sampled token, and logit biases."""

from __future__ import annotations

import math
import re

import pytest
from runner_helpers import Loop, chat

from pollama.api.responses import Logprob
from pollama.engines.llamacpp import LlamaCppRunner
from pollama.errors import BadRequest
from pollama.runner import Chunk, CompletionRequest, Done, SamplingOptions

GREEDY = SamplingOptions(temperature=0)


async def collect_logprobs(runner: LlamaCppRunner, req: CompletionRequest) -> tuple[str, list[Logprob], Done]:
    text: list[str] = []
    logprobs: list[Logprob] = []
    async for item in runner.completion(req):
        if isinstance(item, Chunk):
            text.append(item.text)
            logprobs += item.logprobs
        else:
            return "".join(text), logprobs, item
    raise AssertionError("completion ended without Done")


def test_grammar_holds_at_any_temperature(aio: Loop, runner: LlamaCppRunner) -> None:
    # Sampling hot, nearly every token the chain picks is refused by the grammar and resampled under it: the
    # output must still be in the language.
    grammar = 'root ::= "[" [0-9]+ ("," [0-9]+)* "]"'
    for seed in range(3):
        req = CompletionRequest(
            prompt=chat("List some numbers."),
            sampling=SamplingOptions(temperature=1.5, seed=seed),
            num_predict=12,
            grammar=grammar,
        )
        text, _, done = aio.run(collect_logprobs(runner, req))
        if done.done_reason == "stop":
            assert re.fullmatch(r"\[[0-9]+(,[0-9]+)*\]", text), text
        else:  # cut by num_predict: a prefix of a sentence of the grammar
            assert re.fullmatch(r"\[([0-9]+(,[0-9]+)*,?)?", text), text


def test_lazy_grammar_is_free_until_its_trigger(aio: Loop, runner: LlamaCppRunner) -> None:
    prompt = "Monday, Tuesday, Wednesday,"
    free = CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=8)
    unconstrained, _, _ = aio.run(collect_logprobs(runner, free))
    # A trigger that never matches leaves the output exactly as without a grammar.
    lazy = CompletionRequest(
        prompt=prompt, sampling=GREEDY, num_predict=8, grammar='root ::= "never"', grammar_triggers=("@@@",)
    )
    assert aio.run(collect_logprobs(runner, lazy))[0] == unconstrained
    # A trigger on the first word: from there on the grammar decides the rest.
    first = unconstrained.split()[0]
    grammar = f'root ::= "{first}" " FORCED"'
    triggered = CompletionRequest(
        prompt=prompt,
        sampling=GREEDY,
        num_predict=8,
        grammar=grammar,
        grammar_triggers=(f"[\\s\\S]*?({first}[\\s\\S]*)",),
    )
    text, _, done = aio.run(collect_logprobs(runner, triggered))
    assert text.endswith(f"{first} FORCED"), text
    assert done.done_reason == "stop"


def test_logprobs_one_per_token_and_greedy_is_the_top_choice(aio: Loop, runner: LlamaCppRunner) -> None:
    req = CompletionRequest(
        prompt=chat("Name three colors."), sampling=GREEDY, num_predict=10, logprobs=True, top_logprobs=3
    )
    text, logprobs, done = aio.run(collect_logprobs(runner, req))
    assert len(logprobs) == done.eval_count
    assert "".join(lp.token.token for lp in logprobs) == text
    for lp in logprobs:
        assert lp.token.logprob <= 0
        assert len(lp.top_logprobs) == 3
        values = [t.logprob for t in lp.top_logprobs]
        assert values == sorted(values, reverse=True)
        # Greedy picks the most likely token: it is the first alternative, with the same log probability.
        assert lp.top_logprobs[0].token == lp.token.token
        assert math.isclose(lp.top_logprobs[0].logprob, lp.token.logprob)
        assert bytes(lp.token.bytes).decode("utf-8", "replace") == lp.token.token


def test_logprobs_without_alternatives_and_none_unless_asked(aio: Loop, runner: LlamaCppRunner) -> None:
    base = {"prompt": chat("Say hello."), "sampling": GREEDY, "num_predict": 6}
    text, logprobs, done = aio.run(collect_logprobs(runner, CompletionRequest(**base, logprobs=True)))  # type: ignore[arg-type]
    assert len(logprobs) == done.eval_count and all(lp.top_logprobs == () for lp in logprobs)
    plain, none, _ = aio.run(collect_logprobs(runner, CompletionRequest(**base)))  # type: ignore[arg-type]
    assert none == [] and plain == text


def test_logit_bias_bans_and_favours_tokens(aio: Loop, runner: LlamaCppRunner) -> None:
    prompt = chat("Name three colors.")
    plain, _, done = aio.run(collect_logprobs(runner, CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=6)))
    first = done.context[done.prompt_eval_count]
    banned = CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=6, logit_bias=((first, float("-inf")),))
    _, _, done_banned = aio.run(collect_logprobs(runner, banned))
    assert first not in done_banned.context[done_banned.prompt_eval_count :]
    # A large positive bias makes an unlikely token the greedy choice.
    favoured_id = aio.run(runner.tokenize(" zebra"))[0]
    favoured = CompletionRequest(prompt=prompt, sampling=GREEDY, num_predict=1, logit_bias=((favoured_id, 100.0),))
    _, _, done_favoured = aio.run(collect_logprobs(runner, favoured))
    assert done_favoured.context[done_favoured.prompt_eval_count :] == [favoured_id]
    assert plain


def test_logit_bias_outside_the_vocabulary_is_a_bad_request(aio: Loop, runner: LlamaCppRunner) -> None:
    req = CompletionRequest(prompt="hi", sampling=GREEDY, num_predict=2, logit_bias=((10**9, 1.0),))
    with pytest.raises(BadRequest, match="outside the vocabulary"):
        aio.run(collect_logprobs(runner, req))
