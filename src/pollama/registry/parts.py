"""How a blob download is cut into parts and how each part's progress is recorded, read back and removed on
disk.

Ollama's layout (``server/download.go``): ``total/16`` parts clamped to [100 MB, 1000 MB], and each part's state
in ``…-partial-<N>`` as ``{"N","Offset","Size","Completed"}`` JSON, so a partial download left by Ollama
resumes here and vice versa.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

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


def state_path(partial: Path, n: int) -> Path:
    """Where part ``n`` of the download into ``partial`` records its progress."""
    return Path(f"{partial}-{n}")


def read_parts(path: Path, partial: Path) -> list[Part]:
    """The parts recorded for a download of the blob at ``path`` into ``partial``; [] when there are none or they
    do not describe a consistent partial file (which is then fetched afresh). ValueError for an unreadable one."""
    files = list(path.parent.glob(f"{path.name}-partial-*"))
    if not files:
        return []
    parts = []
    try:
        for f in files:
            d = json.loads(f.read_bytes())
            parts.append(Part(int(d["N"]), int(d["Offset"]), int(d["Size"]), int(d.get("Completed", 0))))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(str(e)) from None
    parts.sort(key=lambda p: p.offset)
    offset = 0
    for i, p in enumerate(parts):
        if p.n != i or p.offset != offset or not 0 <= p.completed <= p.size:
            return []
        offset += p.size
    # The state says bytes are on disk; without the data file that would be a lie.
    if not partial.is_file() or partial.stat().st_size not in (0, offset):
        return []
    return parts


def remove_state_files(path: Path) -> None:
    for f in path.parent.glob(f"{path.name}-partial-*"):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()
