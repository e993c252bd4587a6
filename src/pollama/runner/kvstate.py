"""llama.cpp's per-sequence KV state calls, as the prompt cache needs them: save a sequence's state to bytes,
restore it into a sequence, copy a prefix between sequences, and check that a sliding-window model still holds
the window a sequence's next token attends to."""

from __future__ import annotations

import ctypes
import logging

import llama_cpp as ll

from pollama.runner.llama import Model

log = logging.getLogger("pollama.runner")

_FULL = 0
# The windowed (SWA) layers only: what a context checkpoint holds.
_WINDOW = ll.LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY


class KVState:
    def __init__(self, model: Model) -> None:
        self._ctx = model.ctx
        self._mem = model.mem
        self.n_swa = int(ll.llama_model_n_swa(model.model)) if _has_swa(model) else 0

    def size(self, seq: int, window_only: bool = False) -> int:
        """Bytes :meth:`save` would return for ``seq``."""
        return int(ll.llama_state_seq_get_size_ext(self._ctx, seq, _WINDOW if window_only else _FULL))

    def save(self, seq: int, window_only: bool = False) -> bytearray:
        """The state of ``seq`` (all layers, or only the windowed ones); empty when llama.cpp returns none."""
        flags = _WINDOW if window_only else _FULL
        size = self.size(seq, window_only)
        if size <= 0:
            return bytearray()
        buf = bytearray(size)
        arr = (ctypes.c_uint8 * size).from_buffer(buf)
        n = int(ll.llama_state_seq_get_data_ext(self._ctx, arr, size, seq, flags))
        del arr
        return buf if n == size else bytearray()

    def restore(self, seq: int, state: bytearray, window_only: bool = False) -> bool:
        """Replace ``seq``'s cells (all layers, or only the windowed ones) with ``state``. On failure (no room
        for the cells) the sequence is left empty in the layers concerned."""
        if not state:
            return False
        arr = (ctypes.c_uint8 * len(state)).from_buffer(state)
        n = int(ll.llama_state_seq_set_data_ext(self._ctx, arr, len(state), seq, _WINDOW if window_only else _FULL))
        del arr
        return n == len(state)

    def copy(self, src: int, dst: int, n_tokens: int) -> None:
        """Make positions ``0..n_tokens-1`` of ``src`` part of ``dst`` too (cells are shared, not duplicated)."""
        ll.llama_memory_seq_rm(self._mem, dst, -1, -1)
        ll.llama_memory_seq_cp(self._mem, src, dst, 0, n_tokens)

    def truncate(self, seq: int, n_tokens: int) -> bool:
        return bool(ll.llama_memory_seq_rm(self._mem, seq, n_tokens, -1))

    def clear(self, seq: int) -> None:
        ll.llama_memory_seq_rm(self._mem, seq, -1, -1)

    def window_ok(self, seq: int, n_tokens: int) -> bool:
        """Whether ``seq``, holding ``n_tokens`` tokens, still has every windowed-layer position its next token
        attends to. llama.cpp drops positions that slid out of the window (when saving a state, or by reusing
        their cells), and its lowest remaining position tells. The token at position ``n`` attends to the
        positions ``p`` with ``n - p < n_swa`` (llama.cpp's mask), so ``n - n_swa + 1`` must still be there; a
        restored state holds exactly that much."""
        if self.n_swa == 0 or n_tokens == 0:
            return True
        pos_min = int(ll.llama_memory_seq_pos_min(self._mem, seq))
        return 0 <= pos_min <= max(0, n_tokens - self.n_swa + 1)


def _has_swa(model: Model) -> bool:
    # llama_model_n_swa is the window of the windowed layers, or 0 for models without any.
    return int(ll.llama_model_n_swa(model.model)) > 0
