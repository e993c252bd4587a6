"""LlamaCppRunner process lifecycle: load failures, sudden death mid-generation, close."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import pytest
from runner_helpers import Loop, chat

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.errors import RunnerLoadFailed, RunnerStopped
from pollama.runner import Chunk, CompletionRequest, LoadSpec

STOPPED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, "
    "check ollama server logs for details"
)


def test_load_failure_reports_runner_stderr(aio: Loop, tmp_path: os.PathLike[str]) -> None:
    bogus = os.path.join(tmp_path, "not-a-model.gguf")
    with open(bogus, "wb") as f:
        f.write(b"this is not a gguf file")
    with pytest.raises(RunnerLoadFailed) as exc:
        aio.run(LlamaCppRunner.start(LoadSpec(model_path=bogus, num_ctx=256, num_parallel=1)))
    assert "error loading model" in exc.value.message


def test_sigkill_mid_generation_stops_requests_and_fires_exit_callback(aio: Loop, fresh_runner: LlamaCppRunner) -> None:
    runner = fresh_runner
    exited: list[LlamaCppRunner] = []
    runner.add_exit_callback(exited.append)

    async def scenario() -> None:
        stream = runner.completion(CompletionRequest(prompt=chat("Tell me a long story.")))
        assert isinstance(await anext(stream), Chunk)
        os.kill(runner.pid, signal.SIGKILL)
        with pytest.raises(RunnerStopped) as exc:
            async for _ in stream:
                pass
        assert exc.value.message == STOPPED
        with pytest.raises(RunnerStopped):
            await runner.tokenize("hi")

    aio.run(scenario(), timeout=60)
    aio.run(_until(lambda: bool(exited)), timeout=30)
    assert exited == [runner]
    assert not runner.alive


def test_close_stops_the_process_and_fires_exit_callback_once(aio: Loop, fresh_runner: LlamaCppRunner) -> None:
    runner = fresh_runner
    calls: list[LlamaCppRunner] = []
    runner.add_exit_callback(calls.append)
    aio.run(runner.close())
    aio.run(runner.close())
    assert calls == [runner]
    assert not runner.alive
    with pytest.raises(ProcessLookupError):
        os.kill(runner.pid, 0)


async def _until(cond: Callable[[], bool]) -> None:
    while not cond():
        await asyncio.sleep(0.05)
