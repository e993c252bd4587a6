"""The runner's handle on libllama: loading a model and its one context, the vocabulary helpers (tokenize,
detokenize, cached token pieces and end-of-generation flags) and the figures reported to the server."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import llama_cpp as ll

from pollama.runner.types import LoadSpec, RunnerInfo

_GGML_LOG_WARN = 3
_GGML_LOG_CONT = 5

# KV cache type name -> (ggml type id, bytes per block, elements per block).
_KV_TYPES: dict[str, tuple[int, int, int]] = {
    "f16": (ll.GGML_TYPE_F16, 2, 1),
    "q8_0": (ll.GGML_TYPE_Q8_0, 34, 32),
    "q4_0": (ll.GGML_TYPE_Q4_0, 18, 32),
}


def physical_cores() -> int:
    """Physical core count (hyper-threads share execution units, so extra threads only add contention)."""
    cores: set[tuple[str, str]] = set()
    try:
        with open("/proc/cpuinfo") as f:
            phys = core = ""
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    phys = value.strip()
                elif key == "core id":
                    core = value.strip()
                    cores.add((phys, core))
    except OSError:
        pass
    n_cpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(len(cores), n_cpu) if cores else n_cpu)


class _Logging:
    """Routes llama.cpp's log lines to our stderr, warnings and errors only unless verbose."""

    def __init__(self, verbose: bool) -> None:
        self._verbose = verbose
        self._last_level = 0
        # ctypes must keep the callback object alive for as long as C may call it.
        self.callback = ll.llama_log_callback(self._log)

    def _log(self, level: int, text: bytes | None, _user: Any) -> None:
        if level != _GGML_LOG_CONT:
            self._last_level = level
        if text and (self._verbose or self._last_level >= _GGML_LOG_WARN):
            sys.stderr.write(text.decode("utf-8", "replace"))
            sys.stderr.flush()


_logging: _Logging | None = None


def init_backend(verbose: bool = False) -> None:
    global _logging
    _logging = _Logging(verbose)
    ll.llama_log_set(_logging.callback, None)
    ll.llama_backend_init()


class Model:
    """One loaded model with one context of ``num_ctx * num_parallel`` cells shared by ``num_parallel``
    sequences. Built for a single engine thread; the vocabulary methods are also safe from another thread
    because they only read the vocabulary."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        mparams = ll.llama_model_default_params()
        mparams.n_gpu_layers = 0
        if spec.use_mmap is not None:
            mparams.load_mode = ll.LLAMA_LOAD_MODE_MMAP if spec.use_mmap else ll.LLAMA_LOAD_MODE_NONE
        model = ll.llama_model_load_from_file(spec.model_path.encode(), mparams)
        if not model:
            raise RuntimeError(f"unable to load model: {spec.model_path}")
        self.model = model
        self.vocab = ll.llama_model_get_vocab(model)
        self.n_vocab = int(ll.llama_vocab_n_tokens(self.vocab))

        threads = spec.num_thread if spec.num_thread > 0 else physical_cores()
        cparams = ll.llama_context_default_params()
        cparams.n_ctx = spec.num_ctx * spec.num_parallel
        cparams.n_batch = max(spec.num_batch, spec.num_parallel)
        cparams.n_ubatch = cparams.n_batch
        cparams.n_seq_max = spec.num_parallel
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.kv_unified = True
        # Gemma 3 uses sliding-window attention: without a full-size SWA cache, positions that slid out of the
        # window are gone and a sequence cannot be cut back to a shared prefix.
        cparams.swa_full = True
        cparams.no_perf = True
        if spec.flash_attention is not None:
            cparams.flash_attn_type = (
                ll.LLAMA_FLASH_ATTN_TYPE_ENABLED if spec.flash_attention else ll.LLAMA_FLASH_ATTN_TYPE_DISABLED
            )
        kv_type = _KV_TYPES[spec.kv_cache_type][0]
        cparams.type_k = kv_type
        cparams.type_v = kv_type
        ctx = ll.llama_init_from_model(model, cparams)
        if not ctx:
            ll.llama_model_free(model)
            raise RuntimeError("failed to create the llama.cpp context (out of memory?)")
        self.ctx = ctx
        self.mem = ll.llama_get_memory(ctx)
        self.n_batch = int(ll.llama_n_batch(ctx))
        self.can_shift = bool(ll.llama_memory_can_shift(self.mem))
        self._pieces: dict[int, bytes] = {}
        self._eog: dict[int, bool] = {}
        self._piece_buf = ctypes.create_string_buffer(256)

    # vocabulary

    def tokenize(self, text: str, add_special: bool, parse_special: bool = True) -> list[int]:
        data = text.encode()
        n_max = len(data) + 8
        buf = (ll.llama_token * n_max)()
        n = ll.llama_tokenize(self.vocab, data, len(data), buf, n_max, add_special, parse_special)
        if n < 0:
            n_max = -n
            buf = (ll.llama_token * n_max)()
            n = ll.llama_tokenize(self.vocab, data, len(data), buf, n_max, add_special, parse_special)
            if n < 0:
                raise ValueError("tokenization failed")
        return list(buf[:n])

    def detokenize(self, tokens: list[int]) -> str:
        for t in tokens:
            if not 0 <= t < self.n_vocab:
                raise ValueError(f"invalid token id {t}")
        arr = (ll.llama_token * max(1, len(tokens)))(*tokens)
        size = max(64, len(tokens) * 16)
        for _ in range(2):
            buf = ctypes.create_string_buffer(size)
            n = ll.llama_detokenize(self.vocab, arr, len(tokens), buf, size, False, True)
            if n >= 0:
                return buf.raw[:n].decode("utf-8", "replace")
            size = -n
        raise ValueError("detokenization failed")

    def piece(self, token: int) -> bytes:
        """The bytes a generated token stands for (control tokens render as nothing). Cached: the engine calls
        this for every token."""
        p = self._pieces.get(token)
        if p is None:
            n = ll.llama_token_to_piece(self.vocab, token, self._piece_buf, 256, 0, False)
            p = self._piece_buf.raw[: max(n, 0)]
            self._pieces[token] = p
        return p

    def is_eog(self, token: int) -> bool:
        e = self._eog.get(token)
        if e is None:
            e = bool(ll.llama_vocab_is_eog(self.vocab, token))
            self._eog[token] = e
        return e

    # figures

    def _meta_int(self, key: str) -> int | None:
        buf = ctypes.create_string_buffer(128)
        n = ll.llama_model_meta_val_str(self.model, key.encode(), buf, 128)
        if n < 0:
            return None
        try:
            return int(buf.value.decode())
        except ValueError:
            return None

    def kv_bytes(self) -> int:
        """Size of the KV cache in its type (f16, q8_0 or q4_0). llama.cpp only logs this figure, so compute it
        from the model's shape."""
        buf = ctypes.create_string_buffer(64)
        n = ll.llama_model_meta_val_str(self.model, b"general.architecture", buf, 64)
        arch = buf.value.decode() if n > 0 else ""
        n_layer = int(ll.llama_model_n_layer(self.model))
        n_head = max(1, int(ll.llama_model_n_head(self.model)))
        head_dim = int(ll.llama_model_n_embd(self.model)) // n_head
        k_len = self._meta_int(f"{arch}.attention.key_length") or head_dim
        v_len = self._meta_int(f"{arch}.attention.value_length") or head_dim
        n_head_kv = int(ll.llama_model_n_head_kv(self.model)) or n_head
        n_cells = int(ll.llama_n_ctx(self.ctx))
        _, block_bytes, block_elems = _KV_TYPES[self.spec.kv_cache_type]
        return n_cells * n_layer * n_head_kv * (k_len + v_len) * block_bytes // block_elems

    def info(self) -> RunnerInfo:
        return RunnerInfo(
            n_ctx_train=int(ll.llama_model_n_ctx_train(self.model)),
            n_vocab=self.n_vocab,
            model_bytes=int(ll.llama_model_size(self.model)),
            kv_bytes=self.kv_bytes(),
            n_ctx=self.spec.num_ctx,
            n_parallel=self.spec.num_parallel,
            can_shift=self.can_shift,
        )
