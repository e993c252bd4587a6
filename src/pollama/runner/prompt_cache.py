"""The host-memory prompt cache: saved KV states of whole sequences, indexed by their token ids in a radix tree,
kept under a byte budget with least-recently-used eviction. Pure Python (no llama_cpp): the states are opaque
bytes produced and consumed by ``runner.kvstate``.

A ``Snapshot`` is the state of one sequence holding ``tokens`` at positions ``0..len(tokens)-1``. Restoring it
and cutting it back to a shorter prefix is only valid when the model keeps every position in every layer. A
sliding-window model (gemma3) saves only the last ``n_swa`` positions of its windowed layers, so a snapshot
longer than the window can serve its full length, or the length of one of its ``checkpoints`` (windowed-layer
states taken at that length, as llama-server's context checkpoints are), and nothing in between.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path

from pollama.runner.types import CacheStats

log = logging.getLogger("pollama.runner")

MIB = 1 << 20
_FILE_MAGIC = b"PLMPC001"
_LEN = struct.Struct(">Q")


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """The windowed layers' state of a sequence when it held ``n_tokens`` tokens."""

    n_tokens: int
    state: bytearray


@dataclass(eq=False)
class Snapshot:
    tokens: tuple[int, ...]
    state: bytearray
    checkpoints: tuple[Checkpoint, ...] = ()
    last_used: int = 0

    @property
    def size(self) -> int:
        return snapshot_size(len(self.state), self.checkpoints, len(self.tokens))


def snapshot_size(state_bytes: int, checkpoints: Sequence[Checkpoint], n_tokens: int) -> int:
    """What a snapshot counts against the budget: its state, its checkpoints and its token ids."""
    return state_bytes + sum(len(c.state) for c in checkpoints) + 4 * n_tokens


@dataclass(eq=False)
class _Node:
    edge: tuple[int, ...] = ()
    parent: _Node | None = None
    children: dict[int, _Node] = field(default_factory=dict)
    snapshot: Snapshot | None = None


@dataclass(frozen=True)
class Match:
    """A lookup result: restore ``snapshot`` and keep its first ``n_tokens`` tokens (its checkpoint at that
    length, when ``checkpoint`` is set)."""

    snapshot: Snapshot
    n_tokens: int
    checkpoint: Checkpoint | None


class PromptCache:
    """Snapshots in a radix tree over token ids (SGLang's radix cache, holding whole-sequence states at the
    nodes where sequences end). ``n_swa`` is the model's sliding window (0: none)."""

    def __init__(self, budget: int, n_swa: int = 0) -> None:
        self.budget = max(0, budget)
        self.n_swa = max(0, n_swa)
        self._root = _Node()
        self._nodes: dict[Snapshot, _Node] = {}
        self._clock = itertools.count(1)
        self._bytes = 0
        self.stats = CacheStats(budget=self.budget)

    # queries

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def snapshots(self) -> list[Snapshot]:
        """Oldest use first."""
        return sorted(self._nodes, key=lambda s: s.last_used)

    def usable(self, snap: Snapshot, lcp: int) -> tuple[int, Checkpoint | None]:
        """How many leading tokens of ``snap`` a prompt sharing ``lcp`` tokens with it can keep, and the
        checkpoint that makes that length valid (None: the full state itself)."""
        n = len(snap.tokens)
        if lcp >= n:
            return n, None
        if self.n_swa == 0 or n <= self.n_swa:
            # Every position of every layer is in the state: any prefix is valid.
            return lcp, None
        best: Checkpoint | None = None
        for c in snap.checkpoints:
            if c.n_tokens <= lcp and (best is None or c.n_tokens > best.n_tokens):
                best = c
        return (best.n_tokens, best) if best is not None else (0, None)

    def lookup(self, prompt: Sequence[int], at_least: int = 1) -> Match | None:
        """The snapshot that gives ``prompt`` its longest valid cached prefix (smallest state on a tie), if that
        prefix is at least ``at_least`` tokens. Counts a hit or a miss; a hit becomes most recently used."""
        node, depth = self._root, 0
        path: list[tuple[_Node, int]] = []
        while True:
            if node.snapshot is not None:
                path.append((node, depth))
            if depth >= len(prompt):
                break
            child = node.children.get(prompt[depth])
            if child is None:
                break
            k = _common(child.edge, prompt, depth)
            depth += k
            node = child
            if k < len(child.edge):
                break
        best: Match | None = None

        def consider(snap: Snapshot, lcp: int) -> None:
            nonlocal best
            n, ckpt = self.usable(snap, lcp)
            if n <= 0:
                return
            if best is None or n > best.n_tokens or (n == best.n_tokens and snap.size < best.snapshot.size):
                best = Match(snap, n, ckpt)

        for anc, d in path:
            assert anc.snapshot is not None
            consider(anc.snapshot, d)
        if depth >= at_least:
            for snap in _subtree(node):
                consider(snap, depth)
        if best is None or best.n_tokens < at_least:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self.stats.hit_tokens += best.n_tokens
        best.snapshot.last_used = next(self._clock)
        return best

    def covers(self, tokens: Sequence[int]) -> bool:
        """Whether some snapshot already serves every prefix length ``tokens`` could be asked for (so saving a
        sequence holding ``tokens`` would add nothing)."""
        node = self._find(tokens)
        if node is None:
            return False
        return any(self.usable(s, len(tokens))[0] >= len(tokens) for s in _subtree(node))

    # changes

    def insert(self, snap: Snapshot) -> bool:
        """Add ``snap`` (evicting least recently used snapshots to stay in budget). Returns False, keeping the
        cache as it was, when the snapshot alone exceeds the budget or the cache already covers it."""
        size = snap.size
        if size > self.budget or not snap.tokens:
            return False
        if self.covers(snap.tokens):
            return False
        node = self._insert_path(snap.tokens)
        snap.last_used = next(self._clock)
        node.snapshot = snap
        self._nodes[snap] = node
        self._bytes += size
        # A snapshot that serves every length an earlier one on its path served makes that one redundant.
        depth = len(snap.tokens) - len(node.edge)
        anc = node.parent
        while anc is not None:
            old = anc.snapshot
            if old is not None and self.usable(snap, depth)[0] >= depth:
                self._remove(old)
            depth -= len(anc.edge)
            anc = anc.parent
        self._evict_to(self.budget)
        self._stat()
        return True

    def discard(self, snap: Snapshot) -> None:
        if snap in self._nodes:
            self._remove(snap)
            self._stat()

    def set_budget(self, budget: int) -> None:
        self.budget = self.stats.budget = max(0, budget)
        self._evict_to(self.budget)
        self._stat()

    def clear(self) -> None:
        for snap in list(self._nodes):
            self._remove(snap)
        self._stat()

    # persistence

    def dump(self, path: Path, fingerprint: str) -> int:
        """Write every snapshot (most recently used last) to ``path`` atomically; returns the bytes written."""
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        written = 0
        with tmp.open("wb") as f:
            f.write(_FILE_MAGIC)
            header = json.dumps({"fingerprint": fingerprint, "n_swa": self.n_swa}).encode()
            f.write(_LEN.pack(len(header)) + header)
            for snap in self.snapshots():
                meta = {"tokens": list(snap.tokens), "checkpoints": [c.n_tokens for c in snap.checkpoints]}
                blob = json.dumps(meta, separators=(",", ":")).encode()
                f.write(_LEN.pack(len(blob)) + blob)
                for data in (snap.state, *(c.state for c in snap.checkpoints)):
                    f.write(_LEN.pack(len(data)))
                    f.write(data)
            written = f.tell()
        tmp.replace(path)
        return written

    def load(self, path: Path, fingerprint: str) -> int:
        """Add the snapshots of a file ``dump`` wrote for the same ``fingerprint`` (model and cache layout);
        anything else is ignored. Returns how many were added."""
        added = 0
        try:
            with path.open("rb") as f:
                if f.read(len(_FILE_MAGIC)) != _FILE_MAGIC:
                    return 0
                header = json.loads(_read_block(f))
                if header.get("fingerprint") != fingerprint or header.get("n_swa") != self.n_swa:
                    return 0
                while head := f.read(_LEN.size):
                    (n,) = _LEN.unpack(head)
                    meta = json.loads(_read_exact(f, n))
                    state = _read_block(f)
                    ckpts = tuple(Checkpoint(int(k), _read_block(f)) for k in meta["checkpoints"])
                    if self.insert(Snapshot(tuple(int(t) for t in meta["tokens"]), state, ckpts)):
                        added += 1
        except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
            log.warning("prompt cache: ignoring unreadable cache file %s: %s", path, e)
        return added

    # internals

    def _find(self, tokens: Sequence[int]) -> _Node | None:
        """The node at or just below the end of ``tokens``' path, if the whole of ``tokens`` is in the tree."""
        node, depth = self._root, 0
        while depth < len(tokens):
            child = node.children.get(tokens[depth])
            if child is None:
                return None
            k = _common(child.edge, tokens, depth)
            depth += k
            node = child
            if k < len(child.edge):
                return node if depth == len(tokens) else None
        return node

    def _insert_path(self, tokens: tuple[int, ...]) -> _Node:
        node, depth = self._root, 0
        while depth < len(tokens):
            child = node.children.get(tokens[depth])
            if child is None:
                leaf = _Node(edge=tokens[depth:], parent=node)
                node.children[tokens[depth]] = leaf
                return leaf
            k = _common(child.edge, tokens, depth)
            if k < len(child.edge):
                # Split the edge where the new sequence leaves it.
                mid = _Node(edge=child.edge[:k], parent=node)
                node.children[tokens[depth]] = mid
                child.edge = child.edge[k:]
                child.parent = mid
                mid.children[child.edge[0]] = child
                child = mid
            depth += k
            node = child
        return node

    def _remove(self, snap: Snapshot) -> None:
        node = self._nodes.pop(snap)
        node.snapshot = None
        self._bytes -= snap.size
        # Prune nodes that no longer lead to a snapshot, and merge a lone child into its parent edge.
        while node.parent is not None and node.snapshot is None and not node.children:
            parent = node.parent
            del parent.children[node.edge[0]]
            node = parent
        if node.parent is not None and node.snapshot is None and len(node.children) == 1:
            (only,) = node.children.values()
            only.edge = node.edge + only.edge
            only.parent = node.parent
            node.parent.children[only.edge[0]] = only

    def _evict_to(self, budget: int) -> None:
        if self._bytes <= budget:
            return
        for snap in self.snapshots():
            if self._bytes <= budget:
                break
            log.debug("prompt cache: evicting %d tokens (%.1f MiB)", len(snap.tokens), snap.size / MIB)
            self._remove(snap)
            self.stats.evictions += 1

    def _stat(self) -> None:
        self.stats.bytes = self._bytes
        self.stats.entries = len(self._nodes)


def _common(edge: tuple[int, ...], tokens: Sequence[int], start: int) -> int:
    n = min(len(edge), len(tokens) - start)
    i = 0
    while i < n and edge[i] == tokens[start + i]:
        i += 1
    return i


def _subtree(node: _Node) -> Iterator[Snapshot]:
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.snapshot is not None:
            yield cur.snapshot
        stack.extend(cur.children.values())


def _read_exact(f: BufferedReader, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError("truncated cache file")
    return data


def _read_block(f: BufferedReader) -> bytearray:
    (n,) = _LEN.unpack(_read_exact(f, _LEN.size))
    buf = bytearray(n)
    if f.readinto(buf) != n:
        raise ValueError("truncated cache file")
    return buf
