"""Where a new request's prompt prefix comes from: its slot's own KV, another slot's sequence (copied with
``seq_cp``, or awaited while that slot is still evaluating the same prefix), or the host-memory prompt cache
(restored with llama.cpp's per-sequence state API). Also saves what a slot held before it is reused, parks idle
slots in host memory while others work, takes the sliding-window checkpoints that make a saved sequence reusable
short of its end, and persists the cache across a runner's restart.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pollama.runner.kvstate import KVState
from pollama.runner.prompt_cache import MIB, Checkpoint, Match, PromptCache, Snapshot, snapshot_size
from pollama.runner.types import CacheStats

if TYPE_CHECKING:
    from pollama.runner.inflight import Active
    from pollama.runner.llama import Model

log = logging.getLogger("pollama.runner")

# A sequence shorter than this is cheaper to evaluate again than to save and restore.
MIN_SAVE = 32
# Another source must give at least this many more tokens than the slot's own prefix to be worth a restore.
MIN_GAIN = 16
# Windowed-layer checkpoints kept per sequence (oldest dropped first).
MAX_CHECKPOINTS = 3
# A slot whose prefix covers less than this share of a new prompt is not chosen for it (llama-server's
# --slot-prompt-similarity): a shared template header is not worth another conversation's place.
MIN_SIMILARITY = 0.1


@dataclass(eq=False)
class Slot:
    """One llama.cpp sequence and what its KV holds."""

    seq: int
    # Token ids whose KV currently sits in this sequence; cache[i] is at position i.
    cache: list[int] = field(default_factory=list)
    last_used: int = 0
    active: Active | None = None
    # Windowed-layer states of this sequence at earlier lengths (ascending), for sliding-window models.
    checkpoints: list[Checkpoint] = field(default_factory=list)
    # Set by a context shift: the KV past this many tokens was computed with tokens since dropped, so it is not
    # what the token list says and must never be saved or shared.
    shifted_at: int | None = None


@dataclass
class Placement:
    slot: Slot
    n_cached: int
    # Wait for ``donor`` (while it still evaluates the same prefix) and copy its first ``share`` tokens.
    donor: Slot | None = None
    donor_active: Active | None = None
    share: int = 0


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixReuse:
    """Owns the host prompt cache of one model's context; every method runs on the engine thread."""

    def __init__(self, model: Model, slots: list[Slot], budget: int, cache_file: str | None = None) -> None:
        self.kv = KVState(model)
        self.slots = slots
        self.cache = PromptCache(budget, self.kv.n_swa)
        self._file = Path(cache_file) if cache_file else None
        self._fingerprint = _fingerprint(model)
        self._model_path = model.spec.model_path
        # Whether the latest request had to park another conversation's slot.
        self._contended = False
        if self._file is not None and self.cache.budget > 0 and self._file.exists():
            t0 = time.perf_counter()
            n = self.cache.load(self._file, self._fingerprint)
            log.debug(
                "prompt cache: loaded %d snapshots (%.1f MiB) from %s in %.0f ms",
                n,
                self.cache.size_bytes / MIB,
                self._file,
                (time.perf_counter() - t0) * 1000,
            )
        if self._file is not None:
            self._file.unlink(missing_ok=True)

    @property
    def enabled(self) -> bool:
        return self.cache.budget > 0

    def stats(self) -> CacheStats:
        return self.cache.stats

    # admission

    def place(self, prompt: list[int], free: list[Slot]) -> Placement:
        """Choose a free slot for ``prompt``, park the other idle slots, and give the chosen one the longest
        prefix available; the last prompt token is always left to evaluate (its logits are needed)."""
        limit = len(prompt) - 1

        def similar(s: Slot) -> int:
            n = common_prefix(s.cache, prompt)
            return n if n > MIN_SIMILARITY * len(prompt) else 0

        # The slot holding most of the prompt, else an empty one, else the least recently used.
        own = max(free, key=lambda s: (similar(s), not s.cache, -s.last_used))
        own_n = min(common_prefix(own.cache, prompt), limit)

        donor: Slot | None = None
        donor_n = 0
        for s in self.slots:
            a = s.active
            if a is None or s.shifted_at is not None:
                continue
            n = min(common_prefix(s.cache, prompt), limit)
            if a.prefill_pos < len(a.prompt) - 1:
                # Still evaluating its prompt: what it will hold once its prefill is done.
                n = max(n, min(common_prefix(a.prompt, prompt), len(a.prompt) - 1, limit))
            if n > donor_n:
                donor, donor_n = s, n

        match: Match | None = None
        if self.enabled and max(own_n, donor_n) + MIN_GAIN < limit:
            match = self.cache.lookup(prompt[:limit], at_least=max(own_n, donor_n) + MIN_GAIN)

        if match is None and donor_n < own_n + MIN_GAIN:
            self._park_idle(but=own)
            return Placement(own, self._cut(own, own_n, prompt))

        # Another source wins: put it in an empty slot if there is one, else the least recently used.
        target = own if own_n > 0 else min(free, key=lambda s: (len(s.cache) > 0, s.last_used))
        keep = own_n if target is own else min(common_prefix(target.cache, prompt), limit)
        self._park_idle(but=target)
        if match is not None and match.n_tokens >= donor_n:
            self._save_before_reuse(target, 0)
            return Placement(target, self._restore(target, match, prompt))
        assert donor is not None and donor.active is not None
        n = self._cut(target, keep, prompt)
        return Placement(target, n, donor=donor, donor_active=donor.active, share=donor_n)

    def adopt(self, slot: Slot, prompt: list[int], pl: Placement) -> int | None:
        """For a request placed with a donor: ``None`` while the donor is still evaluating the shared prefix,
        else the number of prompt tokens ``slot`` now holds (copied from the donor when that is more)."""
        donor = pl.donor
        assert donor is not None
        limit = len(prompt) - 1
        have = min(common_prefix(donor.cache, prompt), limit)
        a = donor.active
        if a is not None and a is pl.donor_active and have < pl.share and a.prefill_pos < len(a.prompt) - 1:
            return None
        current = len(slot.cache)
        if have < current + MIN_GAIN or donor.shifted_at is not None or donor is slot:
            return current
        self.kv.copy(donor.seq, slot.seq, have)
        if not self.kv.window_ok(slot.seq, have):
            log.debug("prompt cache: copy of %d tokens from seq %d lacks the window, evaluating", have, donor.seq)
            self.kv.clear(slot.seq)
            slot.cache.clear()
            slot.checkpoints.clear()
            return 0
        slot.cache[:] = prompt[:have]
        slot.checkpoints[:] = [c for c in donor.checkpoints if c.n_tokens <= have]
        slot.shifted_at = None
        log.debug("prompt cache: seq %d shares %d prompt tokens of seq %d", slot.seq, have, donor.seq)
        return have

    # slot contents

    def checkpoint(self, slot: Slot) -> None:
        """Keep the windowed layers' state at the sequence's current length (called when a prompt has been
        evaluated, before generation moves the window past it)."""
        n = len(slot.cache)
        if not self.enabled or self.kv.n_swa == 0 or n < MIN_SAVE or slot.shifted_at is not None:
            return
        if slot.checkpoints and slot.checkpoints[-1].n_tokens >= n:
            return
        state = self.kv.save(slot.seq, window_only=True)
        if state:
            slot.checkpoints.append(Checkpoint(n, state))
            del slot.checkpoints[:-MAX_CHECKPOINTS]

    def shifted(self, slot: Slot, keep: int) -> None:
        slot.shifted_at = keep if slot.shifted_at is None else min(slot.shifted_at, keep)
        slot.checkpoints.clear()

    def dropped(self, slot: Slot) -> None:
        """The slot's sequence was emptied (after a failed decode)."""
        slot.cache.clear()
        slot.checkpoints.clear()
        slot.shifted_at = None

    def save(self, slot: Slot, evict: bool = True) -> bool:
        """Put what ``slot`` holds into the host cache (unless it is short or shifted; with ``evict`` False,
        only if it fits without evicting anything). Returns whether the cache now serves it (saved now or
        before)."""
        tokens = slot.cache
        if not self.enabled or len(tokens) < MIN_SAVE or slot.shifted_at is not None:
            return False
        if self.cache.covers(tokens):
            return True
        if not evict:
            size = snapshot_size(self.kv.size(slot.seq), slot.checkpoints, len(tokens))
            if self.cache.size_bytes + size > self.cache.budget:
                return False
        t0 = time.perf_counter()
        state = self.kv.save(slot.seq)
        if not state:
            return False
        snap = Snapshot(tuple(tokens), state, tuple(slot.checkpoints))
        if not self.cache.insert(snap):
            return False
        log.debug(
            "prompt cache: saved %d tokens of seq %d (%.1f MiB, %d checkpoints) in %.1f ms; cache %d entries, "
            "%.1f/%.0f MiB",
            len(tokens),
            slot.seq,
            snap.size / MIB,
            len(snap.checkpoints),
            (time.perf_counter() - t0) * 1000,
            len(self.cache),
            self.cache.size_bytes / MIB,
            self.cache.budget / MIB,
        )
        return True

    def save_idle(self) -> None:
        """The engine has nothing to do: while conversations take turns on the slots (the last request had to
        park another's), put what the slots hold into host memory now, so that parking them when a request
        arrives only frees their cells, off that request's path. Only into free room: evicting for a sequence
        still in its slot could drop the very one the next request wants. A lone conversation that keeps its
        slot is not copied."""
        if not self._contended:
            return
        for s in self.slots:
            if s.active is None:
                self.save(s, evict=False)

    def _park_idle(self, but: Slot) -> None:
        """Move what the idle slots other than ``but`` hold to host memory and free their cells, as llama-server
        does with a unified KV cache when it starts a task: every decode attends over the whole occupied span of
        the shared cache, so idle sequences slow the active ones. Done before the new request's prefix is
        restored, so that it gets the lowest free cells. A returning request then restores from host memory
        instead of finding its prefix in place; without a host cache the slots keep their prefixes."""
        self._contended = False
        if not self.enabled:
            return
        for s in self.slots:
            # A sequence the cache cannot take (larger than the budget, or shifted) keeps its slot; a short one
            # costs little to evaluate again.
            if s is not but and s.active is None and s.cache and (self.save(s) or len(s.cache) < MIN_SAVE):
                self.kv.clear(s.seq)
                self.dropped(s)
                self._contended = True

    def shutdown(self) -> None:
        """Save every slot and write the cache to its file, for the next runner of this model."""
        if self._file is None or not self.enabled:
            return
        if not os.path.exists(self._model_path):
            return  # the model was deleted: nothing would ever read the file
        for s in self.slots:
            self.save(s)
        if len(self.cache) == 0:
            return
        t0 = time.perf_counter()
        try:
            written = self.cache.dump(self._file, self._fingerprint)
        except OSError as e:
            log.warning("prompt cache: could not write %s: %s", self._file, e)
            return
        log.debug(
            "prompt cache: wrote %d snapshots (%.1f MiB) to %s in %.0f ms",
            len(self.cache),
            written / MIB,
            self._file,
            (time.perf_counter() - t0) * 1000,
        )

    # internals

    def _save_before_reuse(self, slot: Slot, keep: int) -> None:
        dropped = len(slot.cache) - keep
        # Like llama-server: worth saving when most of what the slot holds is about to go.
        if dropped >= MIN_SAVE and 2 * dropped >= len(slot.cache):
            self.save(slot)
            self._contended = True

    def _cut(self, slot: Slot, n: int, prompt: list[int]) -> int:
        """Cut ``slot``'s sequence back to its first ``n`` tokens, keeping the window valid; returns the tokens
        it now holds."""
        if n >= len(slot.cache):
            return len(slot.cache)
        self._save_before_reuse(slot, n)
        n = self._keep(slot, n if self.kv.truncate(slot.seq, n) else 0)
        if slot.shifted_at is not None and n <= slot.shifted_at:
            slot.shifted_at = None
        return n

    def _keep(self, slot: Slot, n: int) -> int:
        """Leave ``slot``, cut to ``n`` tokens, with a window its next token can use: as it is, back at a
        checkpoint, or empty. Returns the tokens it holds."""
        if n > 0 and not self.kv.window_ok(slot.seq, n):
            n = self._back_to_checkpoint(slot, n)
        if n == 0:
            self.kv.clear(slot.seq)
        del slot.cache[n:]
        slot.checkpoints[:] = [c for c in slot.checkpoints if c.n_tokens <= n]
        return n

    def _back_to_checkpoint(self, slot: Slot, n: int) -> int:
        kv, seq = self.kv, slot.seq
        for c in reversed(slot.checkpoints):
            if c.n_tokens > n:
                continue
            restored = kv.restore(seq, c.state, window_only=True) and kv.truncate(seq, c.n_tokens)
            if restored and kv.window_ok(seq, c.n_tokens):
                log.debug("prompt cache: seq %d back to its checkpoint at %d tokens", seq, c.n_tokens)
                return c.n_tokens
            break
        log.debug("prompt cache: seq %d lost the window at %d tokens, evaluating again", seq, n)
        return 0

    def _restore(self, slot: Slot, match: Match, prompt: list[int]) -> int:
        t0 = time.perf_counter()
        kv, seq, snap = self.kv, slot.seq, match.snapshot
        n = match.n_tokens
        failed = ""
        if not kv.restore(seq, snap.state):
            failed = "state"
        elif match.checkpoint is not None and not kv.restore(seq, match.checkpoint.state, window_only=True):
            failed = "checkpoint"
        elif not kv.truncate(seq, n):
            failed = "truncate"
        if failed:
            log.debug("prompt cache: restoring %d tokens into seq %d failed (%s); evaluating", n, seq, failed)
            self.cache.discard(snap)
            kv.clear(seq)
            self.dropped(slot)
            return 0
        slot.cache[:] = prompt[:n]
        slot.checkpoints[:] = [c for c in snap.checkpoints if c.n_tokens <= n]
        slot.shifted_at = None
        # The tree offers only lengths whose window the state holds; should one still lack it, a checkpoint is
        # better than evaluating the whole prompt.
        n = self._keep(slot, n)
        log.debug(
            "prompt cache: restored %d of %d prompt tokens into seq %d from a %d-token snapshot%s in %.1f ms",
            n,
            len(prompt),
            seq,
            len(snap.tokens),
            " (at its checkpoint)" if match.checkpoint is not None else "",
            (time.perf_counter() - t0) * 1000,
        )
        return n


def _fingerprint(model: Model) -> str:
    """What a saved state depends on: the model file and the layout of the KV cache."""
    spec = model.spec
    try:
        st = os.stat(spec.model_path)
        ident = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        ident = "?"
    return f"{spec.model_path}|{ident}|{spec.kv_cache_type}|{spec.flash_attention}"
