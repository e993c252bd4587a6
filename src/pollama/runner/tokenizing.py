"""Tokenizing texts of any size in the runner without holding it hostage: in bounded chunks with a cancellation
check between them, counting only as far as a limit, and for a completion prompt that cannot fit, tokenizing
only the head and tail that survive truncation (Ollama tokenizes the whole prompt, then keeps ``num_keep``
tokens and the most recent ones: a 50 MB prompt kept its runner busy for most of a minute at 3.8 GB).

A text of at most ``CHUNK_CHARS`` is tokenized in one call, exactly as before. A longer one is cut at word
boundaries; a tokenizer may merge or split differently across a cut, so counts of such texts can differ from
a whole-text count by a token per cut. That only matters where the difference decides something, and it
cannot: a text long enough to be chunked is hundreds of times longer than any context it might have to fit,
and a prompt that does fit is tokenized again in one call. No llama_cpp import: the tokenizer is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

Tokenize = Callable[[str, bool], list[int]]
"""``(text, add_special) -> token ids``: the model's tokenizer (special tokens in the text are parsed)."""

CHUNK_CHARS = 256 * 1024
# How far past the nominal cut to look for a word boundary before cutting mid-word.
_BOUNDARY_SEARCH = 4096
# Tokens tokenized beyond what is kept from a window, so that the kept ones are far from its cut edge.
_MARGIN = 64


class Cancelled(Exception):
    """The request was cancelled (its client went away) while its text was being tokenized."""


def _cut(text: str, pos: int) -> int:
    """A cut at or after ``pos``: before a whitespace character that follows a non-whitespace one, so no word
    is split (and most tokenizers start a new token there anyway)."""
    end = min(len(text), pos + _BOUNDARY_SEARCH)
    for i in range(pos, end):
        if text[i].isspace() and not text[i - 1].isspace():
            return i
    return pos


def _cut_back(text: str, pos: int) -> int:
    """A cut at or before ``pos`` chosen like ``_cut``, searching backwards."""
    for i in range(pos, max(0, pos - _BOUNDARY_SEARCH), -1):
        if text[i].isspace() and not text[i - 1].isspace():
            return i
    return pos


def chunks(text: str, size: int = CHUNK_CHARS, first: int | None = None) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters, cut at word boundaries where there is one nearby; the
    whole text if it is no longer than ``size``. Otherwise pieces start at ``first`` characters and double up
    to ``size`` (so a count that stops early has not tokenized much more than it needed)."""
    if len(text) <= size:
        yield text
        return
    start = 0
    step = min(first or size, size)
    while len(text) - start > step:
        end = _cut(text, start + step)
        yield text[start:end]
        start = end
        step = min(2 * step, size)
    yield text[start:]


def count(
    tokenize: Tokenize,
    text: str,
    *,
    add_special: bool,
    cancelled: Callable[[], bool],
    limit: int | None = None,
    size: int = CHUNK_CHARS,
) -> int:
    """The number of tokens in ``text``; once it passes ``limit`` the count stops there and returns what it
    reached (some number above ``limit``). Raises ``Cancelled`` between chunks once ``cancelled()``."""
    n = 0
    # Most tokens are several characters: starting at 4 per token of the limit rarely needs a second piece.
    first = None if limit is None else max(4 * (limit + _MARGIN), 4096)
    for i, piece in enumerate(chunks(text, size, first)):
        if cancelled():
            raise Cancelled
        n += len(tokenize(piece, add_special and i == 0))
        if limit is not None and n > limit:
            break
    return n


def tokens(tokenize: Tokenize, text: str, *, add_special: bool, cancelled: Callable[[], bool]) -> list[int]:
    """All of ``text``'s tokens, chunk by chunk, checking ``cancelled()`` between chunks."""
    out: list[int] = []
    for i, piece in enumerate(chunks(text)):
        if cancelled():
            raise Cancelled
        out += tokenize(piece, add_special and i == 0)
    return out


def _head(tokenize: Tokenize, text: str, n: int, cancelled: Callable[[], bool]) -> list[int]:
    """The first ``n`` tokens of ``text`` (special tokens added), from the shortest prefix that has them."""
    size = max(4 * (n + _MARGIN), 1024)
    while True:
        if cancelled():
            raise Cancelled
        end = len(text) if size >= len(text) else _cut(text, size)
        toks = tokenize(text[:end], True)
        if len(toks) >= n + _MARGIN or end == len(text):
            return toks[:n]
        size *= 2


def _tail(tokenize: Tokenize, text: str, n: int, cancelled: Callable[[], bool]) -> list[int]:
    """The last ``n`` tokens of ``text``, from the shortest suffix that has them."""
    if n <= 0:
        return []
    size = max(4 * (n + _MARGIN), 1024)
    while True:
        if cancelled():
            raise Cancelled
        start = 0 if size >= len(text) else _cut_back(text, len(text) - size)
        toks = tokenize(text[start:], start == 0)
        if len(toks) >= n + _MARGIN or start == 0:
            return toks[-n:]
        size *= 2


def fitted_head(tokenize: Tokenize, text: str, limit: int) -> list[int]:
    """What an input cut to its first ``limit`` tokens needs (embeddings): all of ``text``'s tokens (special
    tokens added) when it has few enough, else those of a prefix with more than ``limit``, ending as the whole
    text's do (with the special tokens the tokenizer adds at the end)."""
    if len(text) <= CHUNK_CHARS:
        return tokenize(text, True)
    size = max(4 * (limit + _MARGIN), 4096)
    while True:
        end = len(text) if size >= len(text) else _cut(text, size)
        toks = tokenize(text[:end], True)
        if len(toks) > limit + _MARGIN or end == len(text):
            return toks
        size *= 2


def prompt_tokens(
    tokenize: Tokenize,
    text: str,
    *,
    num_ctx: int,
    num_keep: int,
    shift: bool,
    cancelled: Callable[[], bool],
) -> list[int] | None:
    """A completion prompt's tokens (special tokens added), as the engine will use them. ``None`` when the
    prompt cannot fit ``num_ctx`` and may not be shifted (the caller answers that the prompt is too long).

    A prompt that does not fit (a sequence keeps one cell for the first generated token) is cut as the engine
    cuts it, like Ollama: the first ``num_keep`` tokens (all it can when negative) and the most recent half of
    the rest of the context. Only those are tokenized, so the cost is bounded by the context, not the text.
    """
    if len(text) <= CHUNK_CHARS:
        return tokenize(text, True)
    n = count(tokenize, text, add_special=True, cancelled=cancelled, limit=num_ctx - 1)
    if n < num_ctx:
        # It fits after all: tokenize it whole, exactly (bounded, since it fits).
        if cancelled():
            raise Cancelled
        return tokenize(text, True)
    if not shift:
        return None
    keep = num_ctx - 2 if num_keep < 0 else max(0, min(num_keep, num_ctx - 2))
    tail = (num_ctx - keep) // 2
    return _head(tokenize, text, keep, cancelled) + _tail(tokenize, text, tail, cancelled)
