"""Several requests on one runner: batched decoding gives the same results as serial decoding, and closing a
stream frees its slot."""

from __future__ import annotations

import asyncio

from runner_helpers import Loop, chat, collect

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.runner import Chunk, CompletionRequest, SamplingOptions

GREEDY = SamplingOptions(temperature=0)
# Prompts the (base) test model continues with confidence. Four sequences decoding together go through other
# matmul kernels than one alone, so logits differ in the last bits; near-ties would flip greedy picks and make
# this test about float rounding instead of about sequences staying apart.
PROMPTS = [
    "1, 2, 3, 4, 5, 6, 7,",
    "A B C D E F G",
    "Monday, Tuesday, Wednesday,",
    "January, February, March, April,",
]


def test_concurrent_greedy_matches_serial(aio: Loop, runner: LlamaCppRunner) -> None:
    reqs = [CompletionRequest(prompt=q, sampling=GREEDY, num_predict=12) for q in PROMPTS]
    serial = ["".join(aio.run(collect(runner, r))[0]) for r in reqs]

    async def together() -> list[str]:
        results = await asyncio.gather(*(collect(runner, r) for r in reqs))
        return ["".join(chunks) for chunks, _ in results]

    assert aio.run(together()) == serial


def test_closing_streams_frees_slots(aio: Loop, runner: LlamaCppRunner) -> None:
    long = SamplingOptions(temperature=1.0, seed=7)

    async def scenario() -> str:
        streams = [
            runner.completion(CompletionRequest(prompt=chat(f"Tell a very long story #{i}."), sampling=long))
            for i in range(4)
        ]
        for s in streams:
            item = await anext(s)
            assert isinstance(item, Chunk)
        for s in streams:
            await s.aclose()
        # With all four slots taken, this request only runs if the cancels freed them.
        req = CompletionRequest(prompt=chat("Say hi."), sampling=GREEDY, num_predict=4)
        chunks, done = await collect(runner, req)
        assert done.eval_count <= 4
        return "".join(chunks)

    assert aio.run(scenario(), timeout=120)


def test_task_cancellation_cancels_the_request(aio: Loop, runner: LlamaCppRunner) -> None:
    async def consume(streaming: asyncio.Event) -> None:
        async for _ in runner.completion(CompletionRequest(prompt=chat("Count to a million."), sampling=GREEDY)):
            streaming.set()

    async def scenario() -> None:
        streaming = [asyncio.Event() for _ in range(4)]
        tasks = [asyncio.create_task(consume(event)) for event in streaming]
        # Every slot is generating: the request below only runs if the cancels freed them.
        await asyncio.gather(*(event.wait() for event in streaming))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        _, done = await collect(runner, CompletionRequest(prompt=chat("Say hi."), sampling=GREEDY, num_predict=3))
        assert done.done_reason in ("stop", "length")

    aio.run(scenario(), timeout=120)
