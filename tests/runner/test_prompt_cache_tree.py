"""The host prompt cache's radix tree, LRU eviction, byte budget, sliding-window rules and file round trip, in
process and without a model (states are stand-in bytes)."""

from __future__ import annotations

from pathlib import Path

from pollama.runner.prompt_cache import Checkpoint, PromptCache, Snapshot


def snap(tokens: list[int], size: int = 100, checkpoints: tuple[Checkpoint, ...] = ()) -> Snapshot:
    return Snapshot(tuple(tokens), bytearray(size), checkpoints)


def test_lookup_finds_the_longest_prefix_among_branching_sequences() -> None:
    cache = PromptCache(budget=1 << 20)
    system = list(range(100, 140))
    a = snap([*system, 1, 2, 3, 4, 5])
    b = snap([*system, 7, 8, 9])
    c = snap([5, 5, 5])
    for s in (a, b, c):
        assert cache.insert(s)
    m = cache.lookup([*system, 7, 8, 9, 10, 11])
    assert m is not None and m.snapshot is b and m.n_tokens == 43
    # A prompt that shares only the system part may use either; it keeps exactly the shared tokens.
    m = cache.lookup([*system, 42])
    assert m is not None and m.n_tokens == 40 and m.snapshot in (a, b)
    # A prompt ending inside a cached sequence keeps its whole length of it.
    m = cache.lookup(system[:10])
    assert m is not None and m.n_tokens == 10
    assert cache.lookup([9, 9, 9]) is None
    assert cache.stats.hits == 3 and cache.stats.misses == 1 and cache.stats.hit_tokens == 93


def test_at_least_turns_a_short_match_into_a_miss() -> None:
    cache = PromptCache(budget=1 << 20)
    cache.insert(snap([1, 2, 3, 4, 5, 6]))
    assert cache.lookup([1, 2, 3, 9], at_least=4) is None
    m = cache.lookup([1, 2, 3, 9], at_least=3)
    assert m is not None and m.n_tokens == 3


def test_budget_evicts_least_recently_used_first() -> None:
    first, second, third = snap([1] * 40, 400), snap([2] * 40, 400), snap([3] * 40, 400)
    cache = PromptCache(budget=first.size * 2 + 10)
    assert cache.insert(first) and cache.insert(second)
    # Using the first makes the second the least recently used.
    assert cache.lookup([1] * 40) is not None
    assert cache.insert(third)
    assert cache.size_bytes <= cache.budget
    assert set(cache.snapshots()) == {first, third}
    assert cache.stats.evictions == 1 and cache.stats.entries == 2 and cache.stats.bytes == cache.size_bytes


def test_budget_is_held_under_pressure_and_an_oversized_state_is_refused() -> None:
    cache = PromptCache(budget=10_000)
    for i in range(200):
        cache.insert(snap([i, i + 1, i + 2] * 10, 700 + i))
        assert cache.size_bytes <= 10_000
    assert 0 < len(cache) < 200
    assert not cache.insert(snap([9999] * 10, 20_000))
    cache.set_budget(2_000)
    assert cache.size_bytes <= 2_000 and len(cache) >= 1
    cache.set_budget(0)
    assert len(cache) == 0 and cache.size_bytes == 0


def test_a_longer_sequence_replaces_its_prefix_and_a_covered_one_is_not_added() -> None:
    cache = PromptCache(budget=1 << 20)
    short = snap([1, 2, 3, 4])
    long = snap([1, 2, 3, 4, 5, 6, 7])
    assert cache.insert(short)
    assert cache.insert(long)
    assert cache.snapshots() == [long]
    assert not cache.insert(snap([1, 2, 3]))
    assert cache.covers([1, 2, 3, 4, 5])
    assert not cache.covers([1, 2, 3, 4, 5, 6, 7, 8])


def test_removal_prunes_and_merges_the_tree() -> None:
    cache = PromptCache(budget=1 << 20)
    a, b = snap([1, 2, 3, 4]), snap([1, 2, 9, 9])
    cache.insert(a)
    cache.insert(b)
    cache.discard(a)
    m = cache.lookup([1, 2, 9, 9, 5])
    assert m is not None and m.snapshot is b and m.n_tokens == 4
    assert cache.lookup([1, 2, 3, 4], at_least=3) is None
    cache.discard(b)
    assert len(cache) == 0 and cache.size_bytes == 0


def test_sliding_window_snapshot_serves_only_its_end_or_a_checkpoint() -> None:
    n_swa = 8
    cache = PromptCache(budget=1 << 20, n_swa=n_swa)
    tokens = list(range(50))
    ckpt = Checkpoint(30, bytearray(10))
    s = snap(tokens, checkpoints=(ckpt,))
    assert cache.insert(s)
    # The whole sequence: the saved window is right.
    m = cache.lookup([*tokens, 99])
    assert m is not None and m.n_tokens == 50 and m.checkpoint is None
    # Sharing 40 tokens: the saved window (positions 42..49) is stale there; the checkpoint at 30 is valid.
    m = cache.lookup([*tokens[:40], 99])
    assert m is not None and m.n_tokens == 30 and m.checkpoint is ckpt
    # Sharing fewer tokens than any checkpoint: nothing valid.
    assert cache.lookup([*tokens[:20], 99]) is None


def test_sliding_window_sequence_within_the_window_serves_any_prefix() -> None:
    cache = PromptCache(budget=1 << 20, n_swa=64)
    tokens = list(range(50))
    cache.insert(snap(tokens))
    m = cache.lookup([*tokens[:40], 99])
    assert m is not None and m.n_tokens == 40 and m.checkpoint is None


def test_sliding_window_keeps_a_prefix_snapshot_a_longer_one_cannot_serve() -> None:
    cache = PromptCache(budget=1 << 20, n_swa=8)
    turn1 = snap(list(range(40)))
    turn2 = snap(list(range(60)))
    cache.insert(turn1)
    cache.insert(turn2)
    # Without a checkpoint at 40 the longer snapshot cannot serve 40 tokens, so both stay.
    assert len(cache) == 2
    m = cache.lookup([*list(range(40)), 7])
    assert m is not None and m.snapshot is turn1 and m.n_tokens == 40


def test_dump_and_load_round_trip(tmp_path: Path) -> None:
    cache = PromptCache(budget=1 << 20, n_swa=8)
    cache.insert(snap(list(range(40)), 64, (Checkpoint(20, bytearray(b"x" * 16)),)))
    cache.insert(snap([7] * 12, 32))
    path = tmp_path / "c.cache"
    assert cache.dump(path, "model-a") > 0
    again = PromptCache(budget=1 << 20, n_swa=8)
    assert again.load(path, "model-a") == 2
    m = again.lookup(list(range(25)))
    assert m is not None and m.n_tokens == 20 and m.checkpoint is not None
    assert bytes(m.checkpoint.state) == b"x" * 16
    # A different model (or window) never reads the file.
    assert PromptCache(budget=1 << 20, n_swa=8).load(path, "model-b") == 0
    assert PromptCache(budget=1 << 20, n_swa=4).load(path, "model-a") == 0
    # Nor does anything truncated or foreign.
    path.write_bytes(path.read_bytes()[:-5])
    assert PromptCache(budget=1 << 20, n_swa=8).load(path, "model-a") <= 1
    path.write_bytes(b"garbage")
    assert PromptCache(budget=1 << 20, n_swa=8).load(path, "model-a") == 0


def test_load_respects_the_budget(tmp_path: Path) -> None:
    big = PromptCache(budget=1 << 20)
    for i in range(10):
        big.insert(snap([i] * 10, 1000))
    path = tmp_path / "c.cache"
    big.dump(path, "m")
    small = PromptCache(budget=3_500)
    small.load(path, "m")
    assert small.size_bytes <= 3_500 and len(small) == 3
    # The most recently used survive.
    assert {s.tokens[0] for s in small.snapshots()} == {7, 8, 9}
