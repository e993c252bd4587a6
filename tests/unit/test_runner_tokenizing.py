"""Tokenizing huge texts in the runner (issue 10): bounded chunks, counts that stop past a limit, completion
prompts that only tokenize what survives truncation, and cancellation between chunks. Model-free: a word
tokenizer whose token ids are the numbers in the words stands in for the model's."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pollama.errors import PROMPT_TOO_LONG
from pollama.runner import protocol as p
from pollama.runner.embedding import InputTooLong, fit_tokens
from pollama.runner.serve import Tokenizer
from pollama.runner.tokenizing import CHUNK_CHARS, Cancelled, chunks, count, fitted_head, prompt_tokens, tokens

BOS = -1
WORDS = 200_000  # about 1.3 MB of text, several chunks


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


class WordTokenizer:
    """Token ``i`` for the word ``w<i>``, BOS first when asked; records how many characters it was given."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, text: str, add_special: bool) -> list[int]:
        self.calls.append(len(text))
        return ([BOS] if add_special else []) + [int(w) for w in re.findall(r"w(\d+)", text)]


def never() -> bool:
    return False


def engine_truncation(prompt: list[int], num_ctx: int, num_keep: int) -> list[int]:
    """What the engine (runner/engine.py ``_admit``) does with a whole tokenized prompt that does not fit."""
    keep = len(prompt) if num_keep < 0 else num_keep
    keep = max(0, min(keep, len(prompt), num_ctx - 2))
    tail = (num_ctx - keep) // 2
    return prompt[:keep] + prompt[len(prompt) - tail :]


def test_chunks_cut_between_words_and_rejoin() -> None:
    text = words(WORDS)
    pieces = list(chunks(text))
    assert len(pieces) > 3
    assert "".join(pieces) == text
    assert all(piece[0] == " " and piece[1] == "w" for piece in pieces[1:])


def test_a_text_within_one_chunk_is_tokenized_in_one_call() -> None:
    tok = WordTokenizer()
    text = words(1000)
    assert tokens(tok, text, add_special=True, cancelled=never) == tok(text, True)
    assert prompt_tokens(tok, text, num_ctx=10, num_keep=4, shift=True, cancelled=never) == [BOS, *range(1000)]
    assert tok.calls == [len(text)] * 3


@pytest.mark.parametrize("num_keep", [0, 4, 100, -1])
@pytest.mark.parametrize("num_ctx", [2048, 4096])
def test_a_prompt_too_long_is_cut_as_the_engine_cuts_the_whole(num_ctx: int, num_keep: int) -> None:
    tok = WordTokenizer()
    text = words(WORDS)
    got = prompt_tokens(tok, text, num_ctx=num_ctx, num_keep=num_keep, shift=True, cancelled=never)
    assert got == engine_truncation([BOS, *range(WORDS)], num_ctx, num_keep)
    # Only the head and tail were tokenized: a few times the context, not the 1.3 MB text.
    assert sum(tok.calls) < 100 * num_ctx < len(text)


def test_a_prompt_too_long_without_shift_is_refused_after_counting_only_the_context() -> None:
    tok = WordTokenizer()
    assert prompt_tokens(tok, words(WORDS), num_ctx=2048, num_keep=4, shift=False, cancelled=never) is None
    assert sum(tok.calls) < 100 * 2048


def test_a_long_text_that_fits_is_tokenized_whole() -> None:
    tok = WordTokenizer()
    text = words(WORDS)
    got = prompt_tokens(tok, text, num_ctx=WORDS + 2, num_keep=4, shift=False, cancelled=never)
    assert got == [BOS, *range(WORDS)]
    assert tok.calls[-1] == len(text)


def test_count_stops_past_the_limit() -> None:
    tok = WordTokenizer()
    text = words(WORDS)
    n = count(tok, text, add_special=False, cancelled=never, limit=500)
    assert n > 500
    assert sum(tok.calls) < len(text) // 10
    assert count(WordTokenizer(), text, add_special=False, cancelled=never) == WORDS
    assert count(WordTokenizer(), text, add_special=True, cancelled=never) == WORDS + 1


def test_cancellation_is_seen_between_chunks() -> None:
    tok = WordTokenizer()
    with pytest.raises(Cancelled):
        tokens(tok, words(WORDS), add_special=False, cancelled=lambda: len(tok.calls) >= 1)
    assert len(tok.calls) == 1
    assert tok.calls[0] < CHUNK_CHARS + 10


class BlockingModel:
    """A model whose first tokenize call waits until released, as a long tokenization would."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.tok = WordTokenizer()

    def tokenize(self, text: str, add_special: bool) -> list[int]:
        if not self.started.is_set():
            self.started.set()
            self.release.wait(10)
        return self.tok(text, add_special)


class Sink:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.done = threading.Event()

    def send(self, frames: list[bytes]) -> None:
        for f in frames:
            self.frames.append(p.decode(f[p.HEADER.size :]))
        self.done.set()


class FakeEngine:
    num_ctx = 2048

    def __init__(self) -> None:
        self.submitted: list[int] = []
        self.got = threading.Event()

    def submit(self, req: Any) -> None:
        self.submitted.append(req.id)
        self.got.set()


def completion(req_id: int, prompt: str, shift: bool = True) -> dict[str, Any]:
    return {
        "op": "completion", "id": req_id, "prompt": prompt, "sampling": {}, "num_predict": 1, "stop": [],
        "num_keep": 4, "shift": shift,
    }  # fmt: skip


def tokenizer() -> tuple[Tokenizer, BlockingModel, Sink, FakeEngine]:
    model, sink, engine = BlockingModel(), Sink(), FakeEngine()
    return Tokenizer(sink, model, engine), model, sink, engine  # type: ignore[arg-type]


def test_a_count_cancelled_while_tokenizing_is_dropped_at_the_next_chunk() -> None:
    tk, model, sink, _ = tokenizer()
    tk.put(1, {"op": "count", "id": 1, "text": words(WORDS), "add_special": False, "limit": None})
    assert model.started.wait(10)
    tk.cancel(1)
    model.release.set()
    tk.put(2, {"op": "count", "id": 2, "text": "w1 w2", "add_special": False, "limit": None})
    assert sink.done.wait(10)
    tk.shutdown()
    # The cancelled count stopped after its first chunk and never answered; the next request was answered.
    assert len(model.tok.calls) == 2
    assert sink.frames == [{"op": "count", "id": 2, "count": 2}]


def test_a_completion_reaches_the_engine_unless_cancelled_first() -> None:
    tk, model, sink, engine = tokenizer()
    tk.put(1, completion(1, "w0 w1"))
    assert model.started.wait(10)
    tk.cancel(1)
    model.release.set()
    tk.put(2, completion(2, "w3 w4"))
    assert engine.got.wait(10)
    tk.shutdown()
    assert engine.submitted == [2]
    assert sink.frames == []


def test_a_completion_too_long_without_shift_is_answered_by_the_tokenizer() -> None:
    tk, model, sink, engine = tokenizer()
    model.release.set()
    tk.put(7, completion(7, words(WORDS), shift=False))
    assert sink.done.wait(10)
    tk.shutdown()
    assert sink.frames == [{"op": "error", "id": 7, "kind": "prompt_too_long", "message": PROMPT_TOO_LONG}]
    assert engine.submitted == []


EOS = -2


def with_eos(tok: WordTokenizer) -> Callable[[str, bool], list[int]]:
    """A BERT-like tokenizer: BOS first and a separator last when special tokens are added."""

    def tokenize(text: str, add_special: bool) -> list[int]:
        return tok(text, add_special) + ([EOS] if add_special else [])

    return tokenize


@pytest.mark.parametrize("keep_last", [False, True])
@pytest.mark.parametrize("truncate", [False, True])
def test_an_embedding_input_fits_as_its_whole_tokenization_would(keep_last: bool, truncate: bool) -> None:
    tok = WordTokenizer()
    text = words(WORDS)
    whole = with_eos(WordTokenizer())(text, True)
    expected: list[int] | type[InputTooLong]
    try:
        expected = fit_tokens(whole, 512, truncate, keep_last)
    except InputTooLong:
        expected = InputTooLong
    try:
        got: list[int] | type[InputTooLong] = fit_tokens(
            fitted_head(with_eos(tok), text, 512), 512, truncate, keep_last
        )
    except InputTooLong:
        got = InputTooLong
    assert got == expected
    assert sum(tok.calls) < 50 * 512  # only a head of the 1.3 MB text was tokenized


def test_a_long_embedding_input_that_fits_is_tokenized_whole() -> None:
    text = words(WORDS)
    assert fitted_head(with_eos(WordTokenizer()), text, WORDS + 2) == [BOS, *range(WORDS), EOS]
