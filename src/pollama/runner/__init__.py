"""The model runner: the subprocess that drives llama.cpp for one loaded model (``python -m pollama.runner``),
and the value types of its protocol. Only the subprocess side (engine, llama, sampling, serve) imports
llama_cpp; importing this package does not. The server's client of this process is ``engines.llamacpp``."""

from pollama.api.options import SamplingOptions
from pollama.runner.types import Chunk, CompletionRequest, Done, LoadSpec, RunnerInfo

__all__ = ["Chunk", "CompletionRequest", "Done", "LoadSpec", "RunnerInfo", "SamplingOptions"]
