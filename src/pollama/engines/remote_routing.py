"""Which replica serves a request: least in-flight load, with prefix affinity, over the replicas that are up.

Pure policy, no I/O (the remote runner does the requests and the health checks and reports back here).

Prefix affinity: the turns of one conversation share a growing prompt prefix, and the replica that served the
last turn holds its KV cache, so sending the next turn there skips re-evaluating the whole history. Each
replica remembers the chained hashes of the fixed-size character blocks of prompts it was sent (bounded, least
recently used dropped first); a new prompt's hashes are matched against each replica's. The replica with the
longest match is chosen if it has a free slot (fewer requests in flight than its ``parallel``); when several
share the longest match (say the system prompt every conversation starts with) the least loaded of them wins.
Without a match, or when the matching replica is full, the least loaded replica (relative to its ``parallel``)
wins, ties going round-robin so idle replicas take turns. A replica that goes down forgets its prefixes: when
it comes back its cache is likely gone.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

BLOCK_CHARS = 64
"""Characters per prefix block: small enough that a short turn still adds a block, large enough to hash fast."""
MAX_BLOCKS = 1024
"""Blocks hashed per prompt (64 KiB of text): further blocks change nothing about where a conversation lives."""
INDEX_CAPACITY = 1 << 16
"""Block hashes remembered per replica (about 4 MiB of prompt text, a few MB of memory)."""


def prefix_hashes(prompt: str, block: int = BLOCK_CHARS, limit: int = MAX_BLOCKS) -> list[int]:
    """Chained hashes of the complete ``block``-character blocks of ``prompt``: equal lists mean equal prefixes."""
    out: list[int] = []
    h = 0
    for start in range(0, min(len(prompt) // block, limit) * block, block):
        h = hash((h, prompt[start : start + block]))
        out.append(h)
    return out


class PrefixIndex:
    """The prompt-prefix blocks one replica has seen, least recently used dropped first."""

    def __init__(self, capacity: int = INDEX_CAPACITY) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def match(self, hashes: Sequence[int]) -> int:
        """How many leading blocks of ``hashes`` this replica has seen."""
        n = 0
        for h in hashes:
            if h not in self._seen:
                break
            n += 1
        return n

    def add(self, hashes: Sequence[int]) -> None:
        for h in hashes:
            self._seen[h] = None
            self._seen.move_to_end(h)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    def clear(self) -> None:
        self._seen.clear()


@dataclass(eq=False)
class Replica:
    """One upstream's routing state."""

    url: str
    parallel: int
    up: bool = False
    """Until its first health check answers, a replica gets no requests."""
    inflight: int = 0
    served: int = 0
    failures: int = 0
    last_error: str = ""
    prefixes: PrefixIndex = field(default_factory=PrefixIndex)

    @property
    def load(self) -> float:
        return self.inflight / self.parallel

    @property
    def has_free_slot(self) -> bool:
        return self.inflight < self.parallel


class ReplicaSet:
    """The replicas of one remote model and the routing decision over them."""

    def __init__(self, replicas: Sequence[Replica]) -> None:
        self.replicas = list(replicas)
        self._turn = itertools.count()

    def up(self) -> list[Replica]:
        return [r for r in self.replicas if r.up]

    def pick(self, hashes: Sequence[int], exclude: Sequence[Replica] = ()) -> Replica | None:
        """The replica for a prompt with these prefix hashes, or None when no replica (outside ``exclude``) is up."""
        candidates = [r for r in self.replicas if r.up and r not in exclude]
        if not candidates:
            return None
        turn = next(self._turn)
        n = len(self.replicas)
        order = {id(r): (i - turn) % n for i, r in enumerate(self.replicas)}
        if hashes:
            matches = {id(r): r.prefixes.match(hashes) for r in candidates}
            best = max(matches.values())
            if best > 0:
                holders = [r for r in candidates if matches[id(r)] == best and r.has_free_slot]
                if holders:
                    return min(holders, key=lambda r: (r.load, order[id(r)]))
        return min(candidates, key=lambda r: (r.load, order[id(r)]))

    def begin(self, replica: Replica, hashes: Sequence[int]) -> None:
        """``replica`` takes a request whose prompt has these prefix hashes (its cache will hold them)."""
        replica.inflight += 1
        replica.served += 1
        replica.prefixes.add(hashes)

    def end(self, replica: Replica) -> None:
        replica.inflight -= 1

    def mark_down(self, replica: Replica, reason: str) -> bool:
        """Take ``replica`` out until a health check finds it answering; True if it was up."""
        was_up = replica.up
        replica.up = False
        replica.failures += 1
        replica.last_error = reason
        replica.prefixes.clear()
        return was_up

    def mark_up(self, replica: Replica) -> bool:
        """Put ``replica`` back in; True if it was down."""
        was_down = not replica.up
        replica.up = True
        replica.last_error = ""
        return was_down
