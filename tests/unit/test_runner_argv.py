"""The engine settings in a LoadSpec survive the trip through the runner's command line."""

from __future__ import annotations

import pytest

from pollama.engines.llamacpp import _runner_argv
from pollama.runner.__main__ import parse_args
from pollama.runner.types import LoadSpec


@pytest.mark.parametrize(("fa", "kv"), [(None, "f16"), (True, "q8_0"), (False, "f16"), (True, "q4_0")])
def test_flash_attention_and_cache_type_reach_the_runner(fa: bool | None, kv: str) -> None:
    spec = LoadSpec(model_path="/m.gguf", num_ctx=256, num_parallel=2, flash_attention=fa, kv_cache_type=kv)
    args = parse_args(_runner_argv(spec, "/s.sock")[3:])
    assert (args.flash_attn, args.cache_type) == (fa, kv)
