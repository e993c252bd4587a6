"""Reading tensors out of ``.safetensors`` files (an 8-byte little-endian header size, a JSON header naming each
tensor's dtype, shape and byte range, then the raw data), memory-mapped, as numpy arrays.

Written here rather than taken from the ``safetensors`` package because that package's numpy loader copies every
tensor into memory and its torch path needs torch; the format is small and fixed.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pollama.convert.errors import ConvertError

_DTYPES: dict[str, str] = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",  # widened to float32 on read
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


class SafetensorsFile:
    """One ``.safetensors`` file, open and mapped until ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("rb")
        try:
            head = self._file.read(8)
            if len(head) != 8:
                raise ConvertError(f"{path.name}: not a safetensors file")
            (size,) = struct.unpack("<Q", head)
            if size > _MAX_HEADER:
                raise ConvertError(f"{path.name}: safetensors header too large")
            try:
                header: dict[str, Any] = json.loads(self._file.read(size))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ConvertError(f"{path.name}: invalid safetensors header: {e}") from None
            self._base = 8 + size
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except BaseException:
            self._file.close()
            raise
        self.tensors: dict[str, TensorInfo] = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            try:
                start, end = (int(x) for x in meta["data_offsets"])
                info = TensorInfo(name, str(meta["dtype"]), tuple(int(x) for x in meta["shape"]), start, end)
            except (KeyError, TypeError, ValueError):
                raise ConvertError(f"{path.name}: invalid entry for tensor {name!r}") from None
            if info.dtype not in _DTYPES:
                raise ConvertError(f"{path.name}: unsupported dtype {info.dtype} of tensor {name!r}")
            if self._base + end > len(self._map) or start > end:
                raise ConvertError(f"{path.name}: tensor {name!r} lies outside the file")
            self.tensors[name] = info

    def array(self, name: str) -> npt.NDArray[Any]:
        """The tensor as a numpy array (BF16 widened to float32; others as stored, read-only)."""
        info = self.tensors[name]
        dtype = np.dtype(_DTYPES[info.dtype])
        count = int(np.prod(info.shape)) if info.shape else 1
        if count * dtype.itemsize != info.end - info.start:
            raise ConvertError(f"{self.path.name}: tensor {name!r} has {info.end - info.start} bytes for {info.shape}")
        arr = np.frombuffer(self._map, dtype=dtype, count=count, offset=self._base + info.start).reshape(info.shape)
        if info.dtype == "BF16":
            return (arr.astype(np.uint32) << 16).view(np.float32)
        return arr

    def close(self) -> None:
        # Arrays handed out may still view the map; it is then unmapped when the last of them goes.
        with contextlib.suppress(BufferError):
            self._map.close()
        self._file.close()


class SafetensorsDir:
    """Every ``*.safetensors`` file of a model directory, tensors looked up by name across them."""

    def __init__(self, root: Path) -> None:
        paths = sorted(root.glob("*.safetensors"))
        if not paths:
            raise ConvertError("no safetensors files found")
        self.files = [SafetensorsFile(p) for p in paths]
        self._where: dict[str, SafetensorsFile] = {}
        for f in self.files:
            for name in f.tensors:
                self._where[name] = f

    def names(self) -> Iterator[str]:
        return iter(sorted(self._where))

    def shape(self, name: str) -> tuple[int, ...]:
        return self._where[name].tensors[name].shape

    def array(self, name: str) -> npt.NDArray[Any]:
        return self._where[name].array(name)

    def close(self) -> None:
        for f in self.files:
            f.close()
