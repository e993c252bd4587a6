"""GGUF header reading on a tiny GGUF written with the gguf package, and on the real built-in model."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from pollama import gojson
from pollama.gojson import Float32
from pollama.store.gguf_info import (
    GGUFArray,
    GGUFError,
    human_number,
    json_value,
    model_info,
    read_gguf,
    tensors_json,
)


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny")
    w.add_context_length(128)
    w.add_embedding_length(8)
    w.add_block_count(1)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    w.add_file_type(1)
    w.add_chat_template("{{ bos_token }}")
    w.add_token_list([f"t{i}" for i in range(100)])
    w.add_array("tiny.small", [1, 2, 3])
    w.add_array("tiny.empty", [])
    w.add_tensor("token_embd.weight", np.zeros((100, 8), dtype=np.float16))
    w.add_tensor("output_norm.weight", np.zeros((8,), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_tiny_header(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    assert info.architecture == "llama"
    assert info.context_length == 128 and info.embedding_length == 8
    assert info.parameter_count == 100 * 8 + 8
    assert info.file_type_name == "F16"
    assert info.chat_template == "{{ bos_token }}"
    assert [(t.name, t.type_name, t.shape) for t in info.tensors] == [
        ("token_embd.weight", "F16", (8, 100)),
        ("output_norm.weight", "F32", (8,)),
    ]
    assert next(iter(info.kv)) == "general.architecture"  # file order kept


def test_tiny_model_info(tiny_gguf: Path) -> None:
    mi = model_info(tiny_gguf)
    assert "general.name" not in mi and "tokenizer.chat_template" not in mi
    assert list(mi) == sorted(mi)
    assert mi["general.parameter_count"] == 808
    # GGUF float32 values stay Go float32s: Ollama prints 0.000001 (float32 digits), not 9.999999974752427e-7.
    assert isinstance(mi["llama.attention.layer_norm_rms_epsilon"], Float32)
    assert gojson.marshal(mi["llama.attention.layer_norm_rms_epsilon"]) == "0.000001"
    assert gojson.marshal(mi["llama.rope.freq_base"]) == "10000"
    # Ollama decodes with maxArraySize=0: non-empty arrays marshal as null, empty ones as [].
    assert mi["tokenizer.ggml.tokens"] is None
    assert mi["tiny.small"] is None
    assert "tiny.empty" not in mi or mi["tiny.empty"] == []
    assert json_value(GGUFArray(4, 0, ()), verbose=False) == []
    assert json_value(GGUFArray(4, 2, (1, 2)), verbose=True) == [1, 2]
    verbose = model_info(tiny_gguf, verbose=True)
    assert verbose["tokenizer.ggml.tokens"] == [f"t{i}" for i in range(100)]
    assert verbose["tiny.small"] == [1, 2, 3]
    assert tensors_json(tiny_gguf)[1] == {"name": "output_norm.weight", "type": "F32", "shape": [8]}


def test_not_gguf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 20)
    with pytest.raises(GGUFError):
        read_gguf(bad)
    trunc = tmp_path / "trunc.gguf"
    trunc.write_bytes(b"GGUF\x03\x00\x00\x00\x01")
    with pytest.raises(GGUFError):
        read_gguf(trunc)


@pytest.mark.parametrize(
    ("n", "text"),
    [(268098176, "268.10M"), (8030261248, "8.0B"), (3_000_000_000, "3B"), (137_000_000, "137M"),
     (22_700_000, "22.70M"), (1500, "2K"), (999, "999")],
)  # fmt: skip
def test_human_number(n: int, text: str) -> None:
    assert human_number(n) == text


def test_real_builtin_gguf(builtin_gguf: Path) -> None:
    info = read_gguf(builtin_gguf)
    assert info.architecture == "gemma3"
    assert human_number(info.parameter_count) == "268.10M"
    assert info.file_type_name == "Q4_K_M"
    assert info.context_length == 32768 and info.embedding_length == 640
    mi = model_info(builtin_gguf)
    assert mi["general.architecture"] == "gemma3"
    assert mi["gemma3.block_count"] == 18
    assert mi["general.parameter_count"] == 268098176
    assert mi["tokenizer.ggml.tokens"] is None
    assert "general.name" not in mi and "tokenizer.chat_template" not in mi
    assert read_gguf(builtin_gguf) is info  # cached per blob
    assert len(tensors_json(builtin_gguf)) == len(info.tensors) > 0
