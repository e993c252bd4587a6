"""What a Hugging Face chat template needs from a GGUF: the template(s) and the text of the BOS/EOS tokens.

`store.gguf_info.read_gguf` gives the template and the token ids but, to stay fast, keeps no long arrays, so
the 150k-entry token list has only its length. The two token texts are fetched by a second, narrow walk of
the header that steps over KV values, seeks the `tokenizer.ggml.tokens` array and reads only the wanted
entries (about 40 ms for Qwen2.5's 151,936 tokens, against 0.3 s to decode the whole list).
"""

from __future__ import annotations

import functools
import mmap
import os
import struct
from dataclasses import dataclass

from pollama.store.gguf_info import GGUFError, read_gguf

from .jinja import JinjaTemplate

__all__ = ["GGUFChatTemplate", "gguf_chat_template", "jinja_template_from_gguf", "token_texts"]

_TOKENS_KEY = "tokenizer.ggml.tokens"
_STRING, _ARRAY = 8, 9
# Byte sizes of the fixed-width GGUF value types (uint8 .. float64, bool at 7).
_WIDTH = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


@dataclass(frozen=True)
class GGUFChatTemplate:
    """A GGUF's chat template and the special tokens HF templates read."""

    template: str
    bos_token: str
    eos_token: str
    add_bos: bool
    tool_use: str | None = None


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def gguf_chat_template(path: str | os.PathLike[str]) -> GGUFChatTemplate | None:
    """The GGUF's `tokenizer.chat_template` with its BOS/EOS token texts; None when it has no template."""
    info = read_gguf(path)
    kv = info.kv
    template = info.chat_template
    if not template.strip():
        return None
    bos_id = _int(kv.get("tokenizer.ggml.bos_token_id"))
    eos_id = _int(kv.get("tokenizer.ggml.eos_token_id"))
    texts = token_texts(path, tuple(i for i in (bos_id, eos_id) if i is not None))
    add_bos = kv.get("tokenizer.ggml.add_bos_token")
    if not isinstance(add_bos, bool):
        # llama.cpp's default when the key is absent: SentencePiece vocabularies add BOS, the others do not.
        add_bos = kv.get("tokenizer.ggml.model") == "llama"
    tool_use = kv.get("tokenizer.chat_template.tool_use")
    return GGUFChatTemplate(
        template=template,
        bos_token=texts.get(bos_id, "") if bos_id is not None else "",
        eos_token=texts.get(eos_id, "") if eos_id is not None else "",
        add_bos=add_bos,
        tool_use=tool_use if isinstance(tool_use, str) and tool_use.strip() else None,
    )


def jinja_template_from_gguf(path: str | os.PathLike[str]) -> JinjaTemplate | None:
    """A JinjaTemplate for the GGUF's chat template (None when it has none; JinjaTemplateError when broken)."""
    t = gguf_chat_template(path)
    if t is None:
        return None
    return JinjaTemplate.from_gguf(
        t.template, bos_token=t.bos_token, eos_token=t.eos_token, add_bos=t.add_bos, tool_use=t.tool_use
    )


def token_texts(path: str | os.PathLike[str], ids: tuple[int, ...]) -> dict[int, str]:
    """The text of the tokens `ids` from the GGUF's token list (ids out of range are left out)."""
    p = os.fspath(path)
    st = os.stat(p)
    return dict(_token_texts(p, st.st_size, st.st_mtime_ns, tuple(sorted(set(ids)))))


@functools.lru_cache(maxsize=32)
def _token_texts(path: str, size: int, mtime_ns: int, ids: tuple[int, ...]) -> tuple[tuple[int, str], ...]:
    if not ids:
        return ()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        try:
            return tuple(_Walker(mm).tokens(set(ids)).items())
        except (struct.error, IndexError, UnicodeDecodeError) as e:
            raise GGUFError(f"{path}: truncated or corrupt GGUF header: {e}") from e


class _Walker:
    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.pos = 8
        self.order = "<" if struct.unpack_from("<I", buf, 4)[0] <= 0xFFFF else ">"

    def _u32(self) -> int:
        (v,) = struct.unpack_from(self.order + "I", self.buf, self.pos)
        self.pos += 4
        return int(v)

    def _u64(self) -> int:
        (v,) = struct.unpack_from(self.order + "Q", self.buf, self.pos)
        self.pos += 8
        return int(v)

    def _str(self) -> str:
        n = self._u64()
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def _skip(self, t: int) -> None:
        if t == _STRING:
            n = self._u64()  # read before `self.pos +=`, which would take pos from before the length
            self.pos += n
        elif t == _ARRAY:
            item, n = self._u32(), self._u64()
            if item in _WIDTH:
                self.pos += n * _WIDTH[item]
            else:
                for _ in range(n):
                    self._skip(item)
        elif t in _WIDTH:
            self.pos += _WIDTH[t]
        else:
            raise GGUFError(f"invalid GGUF value type {t}")

    def tokens(self, wanted: set[int]) -> dict[int, str]:
        if self.buf[:4] != b"GGUF":
            raise GGUFError("invalid file magic")
        (version,) = struct.unpack_from(self.order + "I", self.buf, 4)
        if version < 2:
            return {}  # v1 files (32-bit lengths) predate tokenizer metadata worth rendering templates with
        self._u64()  # tensor count
        for _ in range(self._u64()):
            key = self._str()
            t = self._u32()
            if key != _TOKENS_KEY or t != _ARRAY:
                self._skip(t)
                continue
            item, n = self._u32(), self._u64()
            if item != _STRING:
                return {}
            out: dict[int, str] = {}
            last = min(max(wanted), n - 1)
            for i in range(last + 1):
                length = self._u64()
                if i in wanted:
                    out[i] = self.buf[self.pos : self.pos + length].decode("utf-8", errors="replace")
                self.pos += length
            return out
        return {}
