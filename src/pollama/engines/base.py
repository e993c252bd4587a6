"""The ``Runner`` protocol: what the scheduler and the use-cases need of a loaded model, whatever serves it.

The local llama.cpp runner (``engines.llamacpp``) implements it; so can a remote engine or a test double.
A runner streams a completion as ``Chunk`` items and one final ``Done``; its failures are domain errors
(``pollama.errors``): ``BadRequest``/``PromptTooLong`` for a request it refuses, ``RunnerStopped`` when it dies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, runtime_checkable

from pollama.runner.embed_protocol import EmbedResult
from pollama.runner.types import Chunk, CompletionRequest, Done, LoadSpec, RunnerInfo

__all__ = [
    "Chunk",
    "CompletionRequest",
    "CountsTokens",
    "Done",
    "EmbedResult",
    "LoadSpec",
    "Loader",
    "Runner",
    "RunnerInfo",
]


class Runner(Protocol):
    """One loaded model serving many concurrent requests."""

    @property
    def info(self) -> RunnerInfo:
        """Sizes and limits of the loaded model (context, memory, vocabulary)."""
        ...

    @property
    def alive(self) -> bool:
        """False once the runner has stopped, for whatever reason."""
        ...

    def completion(self, req: CompletionRequest) -> AsyncIterator[Chunk | Done]:
        """Stream one generation. Closing the iterator early cancels it.

        Raises:
            BadRequest: the runner refuses the request (``PromptTooLong`` when it does not fit).
            RunnerStopped: the runner died while serving it.
        """
        ...

    async def tokenize(self, text: str, add_special: bool = False) -> list[int]: ...

    async def embed(self, inputs: list[str], truncate: bool = True) -> EmbedResult:
        """The pooled, unnormalised vector of each input (one batch for all of them), fitted to the context.

        Raises:
            BadRequest: an input is longer than the context and ``truncate`` is off.
            RunnerStopped: the runner died while serving it.
        """
        ...

    async def detokenize(self, tokens: list[int]) -> str: ...

    async def close(self) -> None:
        """Stop the runner and free what it holds."""
        ...

    def add_exit_callback(self, cb: Callable[[Runner], None]) -> None:
        """Call ``cb`` once when the runner stops (at once if it already has)."""
        ...


@runtime_checkable
class CountsTokens(Protocol):
    """A runner that can count a text's tokens without sending them back, and stop counting past a limit (so
    checking whether a huge prompt fits costs no more than the context it has to fit). Optional: without it,
    counting is ``len(await runner.tokenize(text))``."""

    async def count_tokens(self, text: str, limit: int | None = None) -> int: ...


Loader = Callable[[LoadSpec], Awaitable[Runner]]
"""Starts a runner with a model loaded: the scheduler's only way to make one."""
