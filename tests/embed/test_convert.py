"""The safetensors → GGUF converter on a tiny random BERT: what the GGUF says (llama.cpp's names and types,
Ollama's keys), that the weights survive, and Ollama's errors for what it cannot convert."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest
from bert_fixture import HIDDEN, LAYERS, SPECIAL, WORDS, bert_tensors, write_bert_dir, write_safetensors

from pollama.convert import ConvertError, convert_model
from pollama.convert.safetensors import SafetensorsDir
from pollama.store.gguf_info import read_gguf


def _convert(tmp_path: Path, **kw: object) -> tuple[Path, gguf.GGUFReader]:
    src = write_bert_dir(tmp_path / "src", **kw)  # type: ignore[arg-type]
    out = tmp_path / "out.gguf"
    convert_model(src, out)
    return src, gguf.GGUFReader(out)


def _kv(reader: gguf.GGUFReader, key: str) -> object:
    field = reader.fields[key]
    return field.contents()


def test_bert_metadata_is_what_llama_cpp_and_ollama_read(tmp_path: Path) -> None:
    _, r = _convert(tmp_path)
    assert _kv(r, "general.architecture") == "bert"
    assert _kv(r, "general.file_type") == 1  # F16
    assert _kv(r, "bert.block_count") == LAYERS
    assert _kv(r, "bert.embedding_length") == HIDDEN
    assert _kv(r, "bert.attention.causal") is False
    assert _kv(r, "bert.pooling_type") == 1  # mean
    assert _kv(r, "bert.normalize_embeddings") is True
    assert _kv(r, "tokenizer.ggml.model") == "bert"
    tokens = _kv(r, "tokenizer.ggml.tokens")
    assert isinstance(tokens, list)
    # Special tokens as they are, word starts with the phantom space, continuations without "##".
    assert tokens[: len(SPECIAL)] == SPECIAL
    assert tokens[len(SPECIAL)] == "\u2581the"
    assert tokens[SPECIAL.__len__() + WORDS.index("##s")] == "s"
    types = _kv(r, "tokenizer.ggml.token_type")
    assert types[:5] == [3] * 5 and set(types[5:]) == {1}  # type: ignore[index]
    assert _kv(r, "tokenizer.ggml.bos_token_id") == SPECIAL.index("[CLS]")
    assert _kv(r, "tokenizer.ggml.seperator_token_id") == SPECIAL.index("[SEP]")


def test_tensors_renamed_typed_and_unchanged(tmp_path: Path) -> None:
    _, r = _convert(tmp_path)
    by_name = {t.name: t for t in r.tensors}
    assert "position_ids" not in " ".join(by_name) and not any(n.startswith("pooler") for n in by_name)
    assert len(by_name) == 5 + LAYERS * 16
    assert by_name["blk.1.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.F16
    assert by_name["blk.1.attn_q.bias"].tensor_type == gguf.GGMLQuantizationType.F32
    assert by_name["token_types.weight"].tensor_type == gguf.GGMLQuantizationType.F32
    src = bert_tensors(np.random.default_rng(0), len(SPECIAL) + len(WORDS))
    up = np.asarray(by_name["blk.0.ffn_up.weight"].data, dtype=np.float32)
    expected = src["encoder.layer.0.intermediate.dense.weight"]
    assert up.shape == expected.shape
    np.testing.assert_allclose(up, expected.astype(np.float16).astype(np.float32))
    norm = np.asarray(by_name["blk.0.layer_output_norm.bias"].data)
    np.testing.assert_array_equal(norm, src["encoder.layer.0.output.LayerNorm.bias"])


def test_cls_pooling_without_normalize(tmp_path: Path) -> None:
    _, r = _convert(tmp_path, pooling="cls", normalize=False)
    assert _kv(r, "bert.pooling_type") == 2
    assert _kv(r, "bert.normalize_embeddings") is False


def test_store_reads_the_result_as_an_embedding_model(tmp_path: Path) -> None:
    _convert(tmp_path)
    info = read_gguf(tmp_path / "out.gguf")
    assert info.architecture == "bert"
    assert info.file_type_name == "F16"
    assert info.context_length == 32
    assert "bert.pooling_type" in info.kv


def test_conversion_is_deterministic(tmp_path: Path) -> None:
    src = write_bert_dir(tmp_path / "src")
    convert_model(src, tmp_path / "a.gguf")
    convert_model(src, tmp_path / "b.gguf")
    assert (tmp_path / "a.gguf").read_bytes() == (tmp_path / "b.gguf").read_bytes()


def test_vocab_txt_when_there_is_no_tokenizer_json(tmp_path: Path) -> None:
    src = write_bert_dir(tmp_path / "src")
    (src / "tokenizer.json").unlink()
    convert_model(src, tmp_path / "out.gguf")
    r = gguf.GGUFReader(tmp_path / "out.gguf")
    assert _kv(r, "tokenizer.ggml.tokens")[len(SPECIAL) + 1] == "\u2581cat"  # type: ignore[index]


def test_unsupported_architecture_is_ollamas_error(tmp_path: Path) -> None:
    src = write_bert_dir(tmp_path / "src", arch="GPT2LMHeadModel")
    with pytest.raises(ConvertError, match=r'^unsupported architecture "GPT2LMHeadModel"$'):
        convert_model(src, tmp_path / "out.gguf")


def test_missing_config_and_architecture(tmp_path: Path) -> None:
    src = write_bert_dir(tmp_path / "src")
    config = json.loads((src / "config.json").read_text())
    config["architectures"] = []
    (src / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConvertError, match=r"^unknown architecture$"):
        convert_model(src, tmp_path / "out.gguf")
    (src / "config.json").unlink()
    with pytest.raises(ConvertError, match=r"config\.json"):
        convert_model(src, tmp_path / "out.gguf")


def test_missing_modules_json_as_ollama(tmp_path: Path) -> None:
    src = write_bert_dir(tmp_path / "src")
    (src / "modules.json").unlink()
    with pytest.raises(ConvertError, match=r"^open modules.json: file does not exist$"):
        convert_model(src, tmp_path / "out.gguf")


def test_unexpected_tensor_is_refused(tmp_path: Path) -> None:
    src = write_bert_dir(tmp_path / "src")
    write_safetensors(src / "extra.safetensors", {"decoder.weird.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(ConvertError, match=r"decoder\.weird\.weight"):
        convert_model(src, tmp_path / "out.gguf")


def test_safetensors_reader_dtypes(tmp_path: Path) -> None:
    values = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32)
    write_safetensors(
        tmp_path / "a.safetensors",
        {"f16": values.astype(np.float16), "bf16": values, "f32": values},
        {"bf16": "BF16"},
    )
    st = SafetensorsDir(tmp_path)
    try:
        for name in ("f16", "bf16", "f32"):
            np.testing.assert_array_equal(np.asarray(st.array(name), dtype=np.float32), values)
        assert st.shape("bf16") == (2, 2)
    finally:
        st.close()


def test_truncated_safetensors_is_an_error(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "a.safetensors", {"w": np.zeros((4, 4), np.float32)})
    data = (tmp_path / "a.safetensors").read_bytes()
    (tmp_path / "a.safetensors").write_bytes(data[:-8])
    with pytest.raises(ConvertError, match="outside the file"):
        SafetensorsDir(tmp_path)
