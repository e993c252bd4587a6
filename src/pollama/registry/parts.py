"""How a blob download is cut into parts and how each part's progress is recorded on disk.

Ollama's layout (``server/download.go``): ``total/16`` parts clamped to [100 MB, 1000 MB], and each part's state
in ``…-partial-<N>`` as ``{"N","Offset","Size","Completed"}`` JSON, so a partial download left by Ollama
resumes here and vice versa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

NUM_PARTS = 16
MIN_PART_SIZE = 100_000_000
MAX_PART_SIZE = 1_000_000_000
STATE_WIDTH = 127  # state JSON is space-padded to this so each checkpoint overwrites it in one pwrite


@dataclass
class Part:
    n: int
    offset: int
    size: int
    completed: int = 0

    @property
    def starts_at(self) -> int:
        return self.offset + self.completed

    @property
    def stops_at(self) -> int:
        return self.offset + self.size

    def state(self) -> bytes:
        text = json.dumps({"N": self.n, "Offset": self.offset, "Size": self.size, "Completed": self.completed})
        return text.replace(" ", "").ljust(STATE_WIDTH).encode() + b"\n"


def part_sizes(total: int) -> list[tuple[int, int]]:
    """``Prepare``: ``total/16`` clamped to [100 MB, 1000 MB]; the last part takes the rest."""
    size = min(max(total // NUM_PARTS, MIN_PART_SIZE), MAX_PART_SIZE)
    out = []
    offset = 0
    while offset < total:
        n = min(size, total - offset)
        out.append((offset, n))
        offset += n
    return out
