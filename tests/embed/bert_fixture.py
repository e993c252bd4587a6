"""A tiny random BERT written as a Hugging Face sentence-transformers directory (safetensors, tokenizer.json,
modules.json, pooling config), for converter tests that need no real model."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "cat", "sat", "on", "mat", "##s", "dog", ".", ","]
HIDDEN, LAYERS, HEADS, FF, CTX = 8, 2, 2, 16, 32


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], dtypes: dict[str, str] | None = None) -> None:
    """The format by hand: 8-byte header size, JSON header, data. ``dtypes`` overrides the stored type name
    (``BF16`` is written as the top halves of float32 values)."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs: list[bytes] = []
    offset = 0
    for name, arr in tensors.items():
        kind = (dtypes or {}).get(name, {"float32": "F32", "float16": "F16", "int64": "I64"}[str(arr.dtype)])
        if kind == "BF16":
            data = (arr.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            data = arr.tobytes()
        header[name] = {"dtype": kind, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def bert_tensors(rng: np.random.Generator, vocab: int) -> dict[str, np.ndarray]:
    def r(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32) * 0.1

    t = {
        "embeddings.word_embeddings.weight": r(vocab, HIDDEN),
        "embeddings.position_embeddings.weight": r(CTX, HIDDEN),
        "embeddings.token_type_embeddings.weight": r(2, HIDDEN),
        "embeddings.LayerNorm.weight": r(HIDDEN),
        "embeddings.LayerNorm.bias": r(HIDDEN),
        "embeddings.position_ids": np.arange(CTX, dtype=np.int64)[None, :],
        "pooler.dense.weight": r(HIDDEN, HIDDEN),
        "pooler.dense.bias": r(HIDDEN),
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for part in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            t[p + part + ".weight"] = r(HIDDEN, HIDDEN)
            t[p + part + ".bias"] = r(HIDDEN)
        t[p + "attention.output.LayerNorm.weight"] = r(HIDDEN)
        t[p + "attention.output.LayerNorm.bias"] = r(HIDDEN)
        t[p + "intermediate.dense.weight"] = r(FF, HIDDEN)
        t[p + "intermediate.dense.bias"] = r(FF)
        t[p + "output.dense.weight"] = r(HIDDEN, FF)
        t[p + "output.dense.bias"] = r(HIDDEN)
        t[p + "output.LayerNorm.weight"] = r(HIDDEN)
        t[p + "output.LayerNorm.bias"] = r(HIDDEN)
    return t


def write_bert_dir(root: Path, *, pooling: str = "mean", normalize: bool = True, arch: str = "BertModel") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    tokens = SPECIAL + WORDS
    config = {
        "architectures": [arch],
        "model_type": "bert",
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": FF,
        "max_position_embeddings": CTX,
        "layer_norm_eps": 1e-12,
        "type_vocab_size": 2,
        "vocab_size": len(tokens),
    }
    (root / "config.json").write_text(json.dumps(config))
    tokenizer = {
        "added_tokens": [{"id": i, "content": t, "special": True} for i, t in enumerate(SPECIAL)],
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {t: i for i, t in enumerate(tokens)}},
    }
    (root / "tokenizer.json").write_text(json.dumps(tokenizer))
    (root / "vocab.txt").write_text("\n".join(tokens) + "\n")
    (root / "special_tokens_map.json").write_text(
        json.dumps({"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]"})
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (root / "modules.json").write_text(json.dumps(modules))
    (root / "1_Pooling").mkdir(exist_ok=True)
    (root / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": HIDDEN,
                "pooling_mode_cls_token": pooling == "cls",
                "pooling_mode_mean_tokens": pooling == "mean",
            }
        )
    )
    write_safetensors(root / "model.safetensors", bert_tensors(np.random.default_rng(0), len(tokens)))
    return root
