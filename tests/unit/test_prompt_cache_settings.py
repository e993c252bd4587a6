"""OLLAMA_CACHE_RAM: read once in config, carried to the runner's command line with a cache file per model and KV
layout, and reported back over the protocol."""

from __future__ import annotations

from pathlib import Path

from pollama.config import DEFAULT_CACHE_RAM, Settings
from pollama.engines.llamacpp import _runner_argv, forget_prompt_cache, prompt_cache_file
from pollama.runner import protocol as p
from pollama.runner.__main__ import parse_args
from pollama.runner.types import CacheStats, LoadSpec


def test_cache_ram_default_value_and_off() -> None:
    assert Settings.from_env({}).cache_ram == DEFAULT_CACHE_RAM == 4096
    assert Settings.from_env({"OLLAMA_CACHE_RAM": "512"}).cache_ram == 512
    assert Settings.from_env({"OLLAMA_CACHE_RAM": "0"}).cache_ram == 0
    # Unparseable or negative: the default, as for Ollama's other numbers.
    assert Settings.from_env({"OLLAMA_CACHE_RAM": "lots"}).cache_ram == DEFAULT_CACHE_RAM
    assert Settings.from_env({"OLLAMA_CACHE_RAM": "-1"}).cache_ram == DEFAULT_CACHE_RAM


def test_cache_ram_and_file_reach_the_runner() -> None:
    spec = LoadSpec(model_path="/m.gguf", num_ctx=256, num_parallel=2, cache_ram=300)
    args = parse_args(_runner_argv(spec, "/s.sock")[3:])
    assert args.cache_ram == 300
    assert args.cache_file == prompt_cache_file(spec)
    off = parse_args(_runner_argv(LoadSpec(model_path="/m.gguf", num_ctx=256, num_parallel=2), "/s.sock")[3:])
    assert off.cache_ram == 0 and off.cache_file is None


def test_cache_file_is_per_model_and_kv_layout() -> None:
    a = LoadSpec(model_path="/a.gguf", num_ctx=256, num_parallel=2, cache_ram=1)
    assert prompt_cache_file(a) == prompt_cache_file(LoadSpec(model_path="/a.gguf", num_ctx=512, num_parallel=4))
    assert prompt_cache_file(a) != prompt_cache_file(LoadSpec(model_path="/b.gguf", num_ctx=256, num_parallel=2))
    q8 = LoadSpec(model_path="/a.gguf", num_ctx=256, num_parallel=2, kv_cache_type="q8_0", flash_attention=True)
    assert prompt_cache_file(a) != prompt_cache_file(q8)


def test_deleting_a_model_removes_the_cache_files_of_each_kv_layout_and_no_other() -> None:
    a = LoadSpec(model_path="/a.gguf", num_ctx=256, num_parallel=2, cache_ram=1)
    a_q8 = LoadSpec(model_path="/a.gguf", num_ctx=256, num_parallel=2, kv_cache_type="q8_0")
    b = LoadSpec(model_path="/b.gguf", num_ctx=256, num_parallel=2, cache_ram=1)
    files = [Path(prompt_cache_file(spec)) for spec in (a, a_q8, b)]
    for f in files:
        f.write_bytes(b"state")
    try:
        forget_prompt_cache("/a.gguf")
        assert [f.exists() for f in files] == [False, False, True]
    finally:
        for f in files:
            f.unlink(missing_ok=True)


def test_cache_stats_round_trip_the_protocol() -> None:
    stats = CacheStats(bytes=10, entries=2, budget=100, hits=3, misses=4, hit_tokens=500, evictions=1)
    frame = p.encode(p.cache_msg(stats))
    assert p.cache_from_msg(p.decode(frame[p.HEADER.size :])) == stats
