"""The model runner: a subprocess per loaded model that drives llama.cpp (``python -m pollama.runner``), and the
asyncio client the server uses to talk to it. Only the subprocess side (engine, llama, sampling, serve) imports
llama_cpp; importing this package does not."""

from pollama.runner.client import Runner
from pollama.runner.types import (
    Chunk,
    CompletionRequest,
    Done,
    LoadSpec,
    RunnerError,
    RunnerInfo,
    RunnerLoadError,
    RunnerStoppedError,
    SamplingOptions,
)

__all__ = [
    "Chunk",
    "CompletionRequest",
    "Done",
    "LoadSpec",
    "Runner",
    "RunnerError",
    "RunnerInfo",
    "RunnerLoadError",
    "RunnerStoppedError",
    "SamplingOptions",
]
