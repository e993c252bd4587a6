"""Hugging Face safetensors directories → GGUF (Ollama's ``convert`` package), written with the ``gguf`` package.

``convert_model(root, out)`` reads ``config.json`` to pick the architecture's converter and writes one F16 GGUF;
quantizing it is create's job afterwards. Only ``BertModel`` (embedding models such as all-MiniLM) is supported;
any other architecture gets Ollama's ``unsupported architecture "X"``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pollama.convert.bert import convert_bert
from pollama.convert.errors import ConvertError

__all__ = ["SUPPORTED_ARCHITECTURES", "ConvertError", "convert_model"]

SUPPORTED_ARCHITECTURES = ("BertModel",)


def convert_model(root: Path, out: Path) -> None:
    """Convert the model directory ``root`` to the GGUF file ``out``. Raises ConvertError."""
    try:
        config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConvertError("open config.json: file does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConvertError(f"parse config.json: {e}") from None
    if not isinstance(config, dict):
        raise ConvertError("parse config.json: expected an object")
    architectures = config.get("architectures")
    if not isinstance(architectures, list) or not architectures:
        raise ConvertError("unknown architecture")
    arch = str(architectures[0])
    if arch == "BertModel":
        convert_bert(root, config, out)
        return
    raise ConvertError(f'unsupported architecture "{arch}"')
