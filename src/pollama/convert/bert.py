"""BERT (``BertModel``) safetensors → GGUF, as Ollama's ``convert_bert.go`` and llama.cpp's converter write it:
tensor names from the ``gguf`` package's name map, the WordPiece vocabulary with phantom-space tokens, the
pooling type and normalisation taken from the sentence-transformers ``modules.json``, weights in F16 (vectors and
``token_types`` stay F32)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import numpy.typing as npt

from pollama.convert.errors import ConvertError
from pollama.convert.safetensors import SafetensorsDir
from pollama.convert.vocab import phantom_space, read_wordpiece

POOLING_NONE, POOLING_MEAN, POOLING_CLS = 0, 1, 2
_SKIPPED = ("embeddings.position_ids", "pooler.", "cls.")
_ALWAYS_F32 = ("token_types.weight",)
_BERT_SPECIALS = (
    ("bos", "[CLS]"),
    ("cls", "[CLS]"),
    ("eos", "[SEP]"),
    ("sep", "[SEP]"),
    ("unk", "[UNK]"),
    ("pad", "[PAD]"),
    ("mask", "[MASK]"),
)


def _first(config: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = config.get(k)
        if v:
            return v
    return None


def _read_json(root: Path, name: str) -> Any:
    path = root / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConvertError(f"open {name}: file does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConvertError(f"parse {name}: {e}") from None


def sentence_transformers_head(root: Path) -> tuple[int, bool]:
    """Pooling type and whether a Normalize step follows, from ``modules.json`` (Ollama requires the file)."""
    modules = _read_json(root, "modules.json")
    if not isinstance(modules, list):
        raise ConvertError("parse modules.json: expected a list of modules")
    pooling_dir = ""
    normalize = False
    for m in modules:
        kind = m.get("type", "") if isinstance(m, dict) else ""
        if kind == "sentence_transformers.models.Pooling":
            pooling_dir = str(m.get("path", ""))
        elif kind == "sentence_transformers.models.Normalize":
            normalize = True
    pooling = POOLING_NONE
    if pooling_dir:
        pc = _read_json(root, f"{pooling_dir}/config.json")
        if pc.get("pooling_mode_mean_tokens"):
            pooling = POOLING_MEAN
        elif pc.get("pooling_mode_cls_token"):
            pooling = POOLING_CLS
    return pooling, normalize


def gguf_tensor_name(name: str, name_map: gguf.TensorNameMap) -> str | None:
    """The GGUF name of a Hugging Face BERT tensor; None for tensors the GGUF does not carry."""
    if name.startswith("bert."):
        name = name[len("bert.") :]
    if name.startswith(_SKIPPED):
        return None
    mapped = name_map.get_name(name, try_suffixes=(".weight", ".bias"))
    if mapped is None:
        raise ConvertError(f"unexpected tensor {name!r} in a BERT model")
    return str(mapped)


def _stored(gguf_name: str, arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if arr.ndim <= 1 or gguf_name in _ALWAYS_F32:
        return np.ascontiguousarray(arr, dtype=np.float32)
    return np.ascontiguousarray(arr, dtype=np.float16)


def special_vocab(root: Path, tokens: list[str]) -> gguf.SpecialVocab:
    """The special tokens ``gguf`` finds in the tokenizer files, completed from BERT's conventional names: without
    them llama.cpp's WordPiece tokenizer falls back to bert-base's ids (101 for [CLS]), wrong for other vocabularies.
    """
    sv = gguf.SpecialVocab(root, load_merges=False, n_vocab=len(tokens))
    index = {t: i for i, t in enumerate(tokens)}
    for kind, token in _BERT_SPECIALS:
        if kind not in sv.special_token_ids and token in index:
            sv.special_token_ids[kind] = index[token]
    for kind in ("bos", "eos"):
        sv.add_special_token.setdefault(kind, True)
    return sv


def convert_bert(root: Path, config: dict[str, Any], out: Path) -> None:
    pooling, normalize = sentence_transformers_head(root)
    n_layer = int(_first(config, "n_layers", "num_hidden_layers", "n_layer") or 0)
    if n_layer <= 0:
        raise ConvertError("config.json: num_hidden_layers is missing")
    vocab = read_wordpiece(root)
    vocab_size = int(config.get("vocab_size") or 0)
    if vocab_size > len(vocab.tokens):
        vocab.pad_to(vocab_size)

    weights = SafetensorsDir(root)
    try:
        name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, n_layer)
        tensors: list[tuple[str, npt.NDArray[Any]]] = []
        for name in weights.names():
            target = gguf_tensor_name(name, name_map)
            if target is not None:
                tensors.append((target, weights.array(name)))
        if not any(t == "token_embd.weight" for t, _ in tensors):
            raise ConvertError("no token embeddings (embeddings.word_embeddings.weight) in the safetensors files")

        writer = gguf.GGUFWriter(str(out), "bert")
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_uint64("general.parameter_count", sum(int(a.size) for _, a in tensors))
        writer.add_block_count(n_layer)
        if ctx := _first(config, "max_position_embeddings", "n_ctx"):
            writer.add_context_length(int(ctx))
        if embd := _first(config, "hidden_size", "n_embd"):
            writer.add_embedding_length(int(embd))
        if ff := _first(config, "intermediate_size", "n_inner"):
            writer.add_feed_forward_length(int(ff))
        if heads := _first(config, "num_attention_heads", "n_head"):
            writer.add_head_count(int(heads))
        if eps := _first(config, "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"):
            writer.add_layer_norm_eps(float(eps))
        writer.add_causal_attention(False)
        writer.add_pooling_type(gguf.PoolingType(pooling))
        writer.add_bool("bert.normalize_embeddings", normalize)

        writer.add_tokenizer_model("bert")
        writer.add_tokenizer_pre("default")
        writer.add_token_list([phantom_space(t) for t in vocab.tokens])
        writer.add_token_types(vocab.types)
        writer.add_token_type_count(int(config.get("type_vocab_size") or 2))
        special_vocab(root, vocab.tokens).add_to_gguf(writer, quiet=True)

        for target, arr in tensors:
            writer.add_tensor(target, _stored(target, arr))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    finally:
        weights.close()
