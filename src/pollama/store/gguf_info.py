"""Fast GGUF header reading and the ``/api/show`` views built from it (``fs/ggml/gguf.go``, ``ggml.go``).

We parse the header ourselves over an ``mmap`` instead of using ``gguf.GGUFReader``: that reader builds numpy
views for every element of every array, which for gemma3's 262k-entry token list takes seconds, while we only
need to step over it. Unless ``full_arrays`` is asked for, arrays longer than ``SMALL_ARRAY`` keep just their
length. Results are cached per (path, size, mtime); blobs are content addressed, so that is per digest.
"""

from __future__ import annotations

import functools
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from pollama.gojson import Float32

GGUF_MAGIC = b"GGUF"
SMALL_ARRAY = 64

# GGUF value types.
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(13)
_SCALAR_FMT = {
    _UINT8: "B", _INT8: "b", _UINT16: "H", _INT16: "h", _UINT32: "I", _INT32: "i",
    _FLOAT32: "f", _BOOL: "?", _UINT64: "Q", _INT64: "q", _FLOAT64: "d",
}  # fmt: skip

# ggml_type ids → names, as Ollama's TensorType.String().
TENSOR_TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
    11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
    19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
    27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4",
    41: "Q1_0",
}  # fmt: skip

# llama_ftype ids → names, as Ollama's FileType.String().
FILE_TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
}  # fmt: skip


class GGUFError(ValueError):
    """Not a readable GGUF file."""


@dataclass(frozen=True)
class GGUFArray:
    """An array value; ``values`` is None when the array was too long to keep (only its length is known)."""

    item_type: int
    count: int
    values: tuple[object, ...] | None


@dataclass(frozen=True)
class TensorInfo:
    name: str
    type_id: int
    shape: tuple[int, ...]
    offset: int

    @property
    def type_name(self) -> str:
        return TENSOR_TYPE_NAMES.get(self.type_id, "unknown")

    @property
    def elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class GGUFInfo:
    """A GGUF header: ordered KV (with ``general.parameter_count`` patched in, as Ollama does) and tensors."""

    version: int
    kv: dict[str, object]
    tensors: tuple[TensorInfo, ...]
    full_arrays: bool

    @property
    def architecture(self) -> str:
        arch = self.kv.get("general.architecture")
        return arch if isinstance(arch, str) and arch else "unknown"

    @property
    def parameter_count(self) -> int:
        return sum(t.elements for t in self.tensors)

    @property
    def file_type(self) -> int | None:
        ft = self.kv.get("general.file_type")
        return ft if isinstance(ft, int) and not isinstance(ft, bool) else None

    @property
    def file_type_name(self) -> str:
        """Ollama's ``KV.FileType().String()``: 0 or absent count as unknown."""
        ft = self.file_type
        return FILE_TYPE_NAMES.get(ft, "unknown") if ft else "unknown"

    def arch_uint(self, key: str) -> int:
        v = self.kv.get(f"{self.architecture}.{key}")
        return v if isinstance(v, int) and not isinstance(v, bool) else 0

    @property
    def context_length(self) -> int:
        return self.arch_uint("context_length")

    @property
    def embedding_length(self) -> int:
        return self.arch_uint("embedding_length")

    @property
    def chat_template(self) -> str:
        t = self.kv.get("tokenizer.chat_template")
        return t if isinstance(t, str) else ""

    def has(self, key: str) -> bool:
        """Whether ``<arch>.<key>`` is present (e.g. ``pooling_type``, ``vision.block_count``)."""
        return f"{self.architecture}.{key}" in self.kv


def read_gguf(path: str | os.PathLike[str], *, full_arrays: bool = False) -> GGUFInfo:
    """Read a GGUF header, from cache when the file is unchanged."""
    p = os.fspath(path)
    st = os.stat(p)
    if full_arrays:
        return _read_full(p, st.st_size, st.st_mtime_ns)
    return _read_small(p, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _read_small(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    return _parse_file(path, SMALL_ARRAY)


# Full arrays are large (hundreds of thousands of strings); keep only the most recent ones.
@functools.lru_cache(maxsize=2)
def _read_full(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    return _parse_file(path, -1)


def _parse_file(path: str, max_array: int) -> GGUFInfo:
    with open(path, "rb") as f:
        try:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError as e:  # empty file
            raise GGUFError(f"{path}: not a GGUF file") from e
        with mm:
            try:
                return _Parser(mm, max_array).parse()
            except (struct.error, IndexError, UnicodeDecodeError) as e:
                raise GGUFError(f"{path}: truncated or corrupt GGUF header: {e}") from e


class _Parser:
    def __init__(self, buf: mmap.mmap, max_array: int) -> None:
        self.buf = buf
        self.pos = 0
        self.max_array = max_array
        self.order = "<"
        self.version = 3

    def _unpack(self, fmt: str) -> object:
        s = struct.Struct(self.order + fmt)
        (v,) = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return v

    def _u32(self) -> int:
        v = self._unpack("I")
        assert isinstance(v, int)
        return v

    def _u64(self) -> int:
        v = self._unpack("Q")
        assert isinstance(v, int)
        return v

    def _str(self) -> str:
        n = self._u64() if self.version >= 2 else self._u32()
        end = self.pos + n
        if end > len(self.buf):
            raise GGUFError("string runs past end of file")
        raw = self.buf[self.pos : end]
        self.pos = end
        if self.version == 1:
            raw = raw.rstrip(b"\0")  # v1 strings are NUL terminated
        return raw.decode("utf-8", errors="replace")

    def _skip_str(self) -> None:
        n = self._u64() if self.version >= 2 else self._u32()
        self.pos += n

    def parse(self) -> GGUFInfo:
        if self.buf[:4] != GGUF_MAGIC:
            raise GGUFError("invalid file magic")
        self.pos = 4
        version = struct.unpack_from("<I", self.buf, 4)[0]
        if version > 0xFFFF:  # byte-swapped: a big-endian file
            self.order = ">"
        self.version = self._u32()
        if self.version == 1:
            n_tensors, n_kv = self._u32(), self._u32()
        else:
            n_tensors, n_kv = self._u64(), self._u64()
        kv: dict[str, object] = {}
        for _ in range(n_kv):
            key = self._str()
            kv[key] = self._value(self._u32())
        tensors = []
        for _ in range(n_tensors):
            name = self._str()
            dims = self._u32()
            if dims > 4:
                raise GGUFError(f"tensor {name!r} has {dims} dimensions")
            shape = tuple(self._u64() for _ in range(dims))
            tensors.append(TensorInfo(name, self._u32(), shape, self._u64()))
        info = GGUFInfo(self.version, kv, tuple(tensors), self.max_array < 0)
        kv["general.parameter_count"] = info.parameter_count
        return info

    def _value(self, t: int) -> object:
        if t == _STRING:
            return self._str()
        if t == _ARRAY:
            return self._array()
        fmt = _SCALAR_FMT.get(t)
        if fmt is None:
            raise GGUFError(f"invalid type: {t}")
        v = self._unpack(fmt)
        if t == _FLOAT32 and isinstance(v, float):
            # Ollama keeps a GGUF float32 as a Go float32, so /api/show prints its float32 digits.
            return Float32(v)
        return v

    def _array(self) -> GGUFArray:
        t = self._u32()
        n = self._u64()
        keep = self.max_array < 0 or n <= self.max_array
        if t == _STRING:
            if keep:
                return GGUFArray(t, n, tuple(self._str() for _ in range(n)))
            for _ in range(n):
                self._skip_str()
            return GGUFArray(t, n, None)
        if t == _ARRAY:
            raise GGUFError("nested arrays are not supported")
        fmt = _SCALAR_FMT.get(t)
        if fmt is None:
            raise GGUFError(f"invalid array type: {t}")
        size = struct.calcsize(fmt)
        if not keep:
            self.pos += n * size
            return GGUFArray(t, n, None)
        values = struct.unpack_from(f"{self.order}{n}{fmt}", self.buf, self.pos)
        if t == _FLOAT32:
            values = tuple(map(Float32, values))
        self.pos += n * size
        return GGUFArray(t, n, tuple(values))


def human_number(n: int) -> str:
    """Ollama's ``format.HumanNumber``: ``268098176`` → ``268.10M``, ``8030261248`` → ``8.0B``."""
    if n >= 1_000_000_000:
        v = n / 1_000_000_000
        return f"{v:.0f}B" if v.is_integer() else f"{_go_round(v, 1)}B"
    if n >= 1_000_000:
        v = n / 1_000_000
        return f"{v:.0f}M" if v.is_integer() else f"{_go_round(v, 2)}M"
    if n >= 1_000:
        return f"{_go_round(n / 1_000, 0)}K"
    return str(n)


def _go_round(v: float, places: int) -> str:
    # Go's %.Nf and Python's format both round the exact binary value half-to-even; they agree.
    return f"{v:.{places}f}"


def json_value(v: object, *, verbose: bool) -> object:
    """A KV value as Ollama's ``/api/show`` marshals it.

    Non-verbose, Ollama decodes with ``maxArraySize = 0``: every non-empty array keeps no values and
    marshals as ``null``, empty ones as ``[]``.
    """
    if isinstance(v, GGUFArray):
        if v.values is None or (not verbose and v.count > 0):
            return None
        return list(v.values)
    return v


def model_info(path: str | os.PathLike[str] | Path, *, verbose: bool = False) -> dict[str, object]:
    """``/api/show`` ``model_info``: the KV minus ``general.name`` and ``tokenizer.chat_template``, keys sorted
    (Go marshals maps in key order)."""
    info = read_gguf(path, full_arrays=verbose)
    skip = {"general.name", "tokenizer.chat_template"}
    return {k: json_value(info.kv[k], verbose=verbose) for k in sorted(info.kv) if k not in skip}


def tensors_json(path: str | os.PathLike[str] | Path) -> list[dict[str, object]]:
    """``/api/show`` ``tensors``: ``[{"name", "type", "shape"}]`` in file order."""
    info = read_gguf(path)
    return [{"name": t.name, "type": t.type_name, "shape": list(t.shape)} for t in info.tensors]
