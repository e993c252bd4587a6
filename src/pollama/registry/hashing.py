"""Hashing a file while it is still being written, following the contiguous prefix of bytes on disk.

A download's digest is then known moments after its last byte, instead of after a second full read.
"""

from __future__ import annotations

import hashlib
import mmap
import threading
from collections.abc import Callable
from pathlib import Path

from pollama.registry import rawhttp

HASH_BLOCK = 4 << 20


def hash_growing_file(
    path: Path, total: int, watermark: Callable[[], int], wakeup: threading.Event, stop: threading.Event
) -> str:
    """sha256 of ``path`` (``total`` bytes once complete), read in order up to ``watermark()`` as it grows.

    Writers set ``wakeup`` when the watermark moves; ``stop`` makes a waiting hasher raise ``Aborted``. Read
    through a read-only map: no copy out of the page cache (measured: a third less hashing lag than ``preadv``).
    The file only ever has its full size while it is mapped; nothing truncates a partial download.
    """
    h = hashlib.sha256()
    if total == 0:
        return "sha256:" + h.hexdigest()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), total, prot=mmap.PROT_READ) as mm:
        view = memoryview(mm)
        try:
            pos = 0
            while pos < total:
                wakeup.clear()
                end = watermark()
                if end <= pos:
                    if stop.is_set():
                        raise rawhttp.Aborted()
                    wakeup.wait(0.05)
                    continue
                while pos < end:
                    n = min(HASH_BLOCK, end - pos)
                    h.update(view[pos : pos + n])
                    pos += n
        finally:
            view.release()
    return "sha256:" + h.hexdigest()
