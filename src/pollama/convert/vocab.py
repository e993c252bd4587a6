"""A WordPiece vocabulary read from a Hugging Face directory (``tokenizer.json``, else ``vocab.txt``), with
the token types GGUF records (special added tokens are control tokens), as Ollama's ``parseVocabulary`` reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pollama.convert.errors import ConvertError

TOKEN_NORMAL = 1
TOKEN_UNKNOWN = 2
TOKEN_CONTROL = 3
TOKEN_USER_DEFINED = 4


@dataclass
class Vocabulary:
    tokens: list[str] = field(default_factory=list)
    types: list[int] = field(default_factory=list)

    def pad_to(self, size: int) -> None:
        """Ollama pads a vocabulary shorter than the model's ``vocab_size`` with user-defined dummies."""
        for i in range(size - len(self.tokens)):
            self.tokens.append(f"[PAD{i}]")
            self.types.append(TOKEN_USER_DEFINED)


def read_wordpiece(root: Path) -> Vocabulary:
    tokenizer = root / "tokenizer.json"
    if tokenizer.is_file():
        return _from_tokenizer_json(tokenizer)
    vocab_txt = root / "vocab.txt"
    if vocab_txt.is_file():
        tokens = vocab_txt.read_text(encoding="utf-8").splitlines()
        types = [TOKEN_CONTROL if _looks_special(t) else TOKEN_NORMAL for t in tokens]
        return Vocabulary(tokens, types)
    raise ConvertError("no tokenizer found: need tokenizer.json or vocab.txt")


def _looks_special(token: str) -> bool:
    return token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _from_tokenizer_json(path: Path) -> Vocabulary:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConvertError(f"invalid tokenizer.json: {e}") from None
    model = data.get("model") or {}
    if model.get("type") not in (None, "WordPiece"):
        raise ConvertError(f"unsupported tokenizer type {model.get('type')!r} for a BERT model (want WordPiece)")
    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not vocab:
        raise ConvertError("tokenizer.json has no WordPiece vocabulary")
    by_id: dict[int, str] = {}
    for token, idx in vocab.items():
        by_id[int(idx)] = str(token)
    special: set[str] = set()
    for added in data.get("added_tokens") or []:
        by_id[int(added["id"])] = str(added["content"])
        if added.get("special"):
            special.add(str(added["content"]))
    size = max(by_id) + 1
    if len(by_id) != size:
        raise ConvertError("tokenizer.json vocabulary has gaps in its token ids")
    tokens = [by_id[i] for i in range(size)]
    types = [TOKEN_CONTROL if t in special else TOKEN_NORMAL for t in tokens]
    return Vocabulary(tokens, types)


def phantom_space(token: str) -> str:
    """llama.cpp's WPM tokenizer marks word starts with U+2581 and continuations without ``##``."""
    if token.startswith("[") and token.endswith("]"):
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token
