"""Helpers shared by the runner tests: prompt formatting, collecting a stream, and a session event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.runner import Chunk, CompletionRequest, Done

T = TypeVar("T")


def chat(text: str) -> str:
    return f"<start_of_turn>user\n{text}<end_of_turn>\n<start_of_turn>model\n"


async def collect(runner: LlamaCppRunner, req: CompletionRequest) -> tuple[list[str], Done]:
    chunks: list[str] = []
    async for item in runner.completion(req):
        if isinstance(item, Chunk):
            chunks.append(item.text)
        else:
            return chunks, item
    raise AssertionError("completion ended without Done")


class Loop:
    """Runs test coroutines on one event loop kept for the whole session, so runners outlive a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))
