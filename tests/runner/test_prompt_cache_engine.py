"""The host prompt cache with the real gemma3 270m (a sliding-window model, 512-token window): restored and
shared prefixes give the output a cold prompt gives, the byte budget holds under pressure, a stale window is
never used, concurrent requests share one evaluation of their common prefix, and the cache survives a restart.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_helpers import Loop, chat, collect

from pollama.engines.llamacpp import LlamaCppRunner
from pollama.runner import CompletionRequest, LoadSpec, SamplingOptions

pytestmark = pytest.mark.engine

SEEDED = SamplingOptions(temperature=0.8, seed=11)
GREEDY = SamplingOptions(temperature=0)
WORDS = ["river", "library", "harbour", "garden", "lantern", "market", "orchard", "bicycle", "station"]


def story(n_words: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def start(aio: Loop, spec: LoadSpec) -> LlamaCppRunner:
    return aio.run(LlamaCppRunner.start(spec))


@pytest.fixture
def runners(aio: Loop) -> Iterator[list[LlamaCppRunner]]:
    """Runners a test starts, closed at its end."""
    started: list[LlamaCppRunner] = []
    yield started
    for r in started:
        aio.run(r.close())


def run(aio: Loop, r: LlamaCppRunner, prompt: str, sampling: SamplingOptions = SEEDED, n: int = 12) -> tuple[str, int]:
    chunks, done = aio.run(collect(r, CompletionRequest(prompt=prompt, sampling=sampling, num_predict=n)))
    return "".join(chunks), done.cached_tokens


def ntok(aio: Loop, r: LlamaCppRunner, text: str) -> int:
    return len(aio.run(r.tokenize(text, add_special=True)))


def test_a_returning_chat_restored_from_host_memory_gives_the_uncached_output(
    aio: Loop, gemma_path: str, fresh_runner: LlamaCppRunner, runners: list[LlamaCppRunner]
) -> None:
    cached = start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=1, cache_ram=64))
    runners.append(cached)
    first = chat("Read this and remember it: " + story(120, 1))
    second = first + "Noted zebra.<end_of_turn>\n" + chat("Which words came first?")
    unrelated = chat("Something else entirely: " + story(60, 2))

    run(aio, cached, first)
    # One slot: the unrelated chat pushes the first out to host memory.
    run(aio, cached, unrelated)
    warm, n_cached = run(aio, cached, second)
    assert n_cached == ntok(aio, cached, first)
    assert cached.cache_stats.hits >= 1 and cached.cache_stats.hit_tokens >= n_cached

    # Without a cache, the second turn follows the first in the slot: the same tokens evaluated in the same
    # batches (llama.cpp's CPU results depend on where a prompt's evaluation is split, so that is the output
    # to match), and the same seed.
    run(aio, fresh_runner, first)
    expected, n_ref = run(aio, fresh_runner, second)
    assert n_ref == n_cached
    assert warm == expected


def test_budget_is_respected_under_pressure(aio: Loop, gemma_path: str, runners: list[LlamaCppRunner]) -> None:
    budget_mib = 12
    r = start(aio, LoadSpec(model_path=gemma_path, num_ctx=1024, num_parallel=1, cache_ram=budget_mib))
    runners.append(r)
    for i in range(8):
        # ~300 tokens a chat: about 6 MiB of KV state each, so the cache cannot keep them all.
        run(aio, r, chat(f"Chat {i}: " + story(250, 10 + i)), GREEDY, 4)
        stats = r.cache_stats
        assert stats.budget == budget_mib << 20
        assert stats.bytes <= stats.budget
    assert r.cache_stats.evictions > 0 and r.cache_stats.entries >= 1
    # What is left is the most recent: the chat before the last is served from host memory.
    _, n_cached = run(aio, r, chat("Chat 6: " + story(250, 16)) + "More.", GREEDY, 4)
    assert n_cached > 200


def test_sliding_window_restores_at_a_checkpoint_never_a_stale_window(
    aio: Loop, gemma_path: str, runners: list[LlamaCppRunner]
) -> None:
    spec = LoadSpec(model_path=gemma_path, num_ctx=2048, num_parallel=1, cache_ram=128)
    cached = start(aio, spec)
    reference = start(aio, LoadSpec(model_path=gemma_path, num_ctx=2048, num_parallel=1))
    runners += [cached, reference]
    # Longer than the 512-token window: the saved state of the first turn (prompt and reply) holds only the last
    # 512 positions of the windowed layers, which is stale for the second turn cut back to the prompt.
    first = chat("Read this and remember it: " + story(600, 3))
    second = first + "Noted zebra.<end_of_turn>\n" + chat("Which words came first?")
    n_first = ntok(aio, cached, first)
    assert n_first > 600

    run(aio, cached, first, GREEDY, 40)
    run(aio, cached, chat("Unrelated: " + story(40, 4)), GREEDY, 4)
    warm, n_cached = run(aio, cached, second, GREEDY, 16)
    # Restored at the checkpoint taken when the first prompt had been evaluated, before the reply moved the window.
    assert n_cached == n_first
    assert cached.cache_stats.hits == 1

    # Without a cache, the slot still holds every position: the same split, no saving or restoring.
    run(aio, reference, first, GREEDY, 40)
    expected, n_ref = run(aio, reference, second, GREEDY, 16)
    assert n_ref == n_first
    assert warm == expected


def test_concurrent_requests_evaluate_a_shared_prefix_once(
    aio: Loop, gemma_path: str, fresh_runner: LlamaCppRunner, runners: list[LlamaCppRunner]
) -> None:
    r = start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=4, cache_ram=64))
    runners.append(r)
    system = "Background notes: " + story(250, 5) + "\n\n"
    # Counting continues the same way under any rounding: a wrong or stale copied prefix would show, while
    # llama.cpp's small batch-to-batch differences (requests batched together) cannot flip it.
    prompts = [system + ", ".join(str(k) for k in range(start, start + 12)) + "," for start in (1, 40, 300, 7000)]
    n_system = ntok(aio, r, system)

    async def burst() -> list[tuple[list[str], int]]:
        import asyncio

        async def one(p: str) -> tuple[list[str], int]:
            chunks, done = await collect(r, CompletionRequest(prompt=p, sampling=GREEDY, num_predict=8))
            return chunks, done.cached_tokens

        return await asyncio.gather(*(one(p) for p in prompts))

    results = aio.run(burst())
    cached = sorted(n for _, n in results)
    # One request evaluates the shared part; the three others copy it from its sequence.
    assert cached[0] == 0
    assert all(n >= n_system - 8 for n in cached[1:])
    for (chunks, _), p in zip(results, prompts, strict=True):
        run(aio, fresh_runner, "Unrelated.", GREEDY, 1)
        alone, n_alone = run(aio, fresh_runner, p, GREEDY, 8)
        assert n_alone <= 1
        assert "".join(chunks) == alone


def test_the_cache_survives_a_runner_restart(aio: Loop, gemma_path: str, tmp_path: Path) -> None:
    cache_file = tmp_path / "gemma.cache"
    spec = LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=1, cache_ram=64, cache_file=str(cache_file))
    first = chat("Read this and remember it: " + story(150, 6))
    second = first + "Noted zebra.<end_of_turn>\n" + chat("Which words came first?")

    r = start(aio, spec)
    try:
        run(aio, r, first)
    finally:
        aio.run(r.close())
    assert cache_file.exists()

    r = start(aio, spec)
    try:
        # Read back and removed: the file is never used twice.
        assert not cache_file.exists()
        _, n_cached = run(aio, r, second)
        assert n_cached == ntok(aio, r, first)
        assert r.cache_stats.hits == 1
    finally:
        aio.run(r.close())


def test_kv_state_window_check_refuses_a_stale_window_and_accepts_a_checkpoint(gemma_path: str) -> None:
    """In process: cut back after a full restore, a sliding-window sequence lacks positions its next token
    attends to, and the check says so; restored at a checkpoint (or copied from a sequence holding them), the
    window is all there."""
    import llama_cpp as ll

    from pollama.runner.kvstate import KVState
    from pollama.runner.llama import Model, init_backend

    init_backend(False)
    m = Model(LoadSpec(model_path=gemma_path, num_ctx=1024, num_parallel=2))
    kv = KVState(m)
    assert kv.n_swa == 512
    tokens = m.tokenize(chat(story(700, 7)), add_special=True)
    n = len(tokens) - 1
    batch = ll.llama_batch_init(512, 0, 1)

    def decode(seq: int, toks: list[int], start: int) -> None:
        for i in range(0, len(toks), 512):
            chunk = toks[i : i + 512]
            batch.n_tokens = len(chunk)
            for j, t in enumerate(chunk):
                batch.token[j], batch.pos[j], batch.n_seq_id[j], batch.logits[j] = t, start + i + j, 1, 0
                batch.seq_id[j][0] = seq
            batch.logits[len(chunk) - 1] = 1
            assert ll.llama_decode(m.ctx, batch) == 0

    def window(seq: int) -> tuple[int, int]:
        return int(ll.llama_memory_seq_pos_min(m.mem, seq)), int(ll.llama_memory_seq_pos_max(m.mem, seq))

    try:
        decode(0, tokens[:n], 0)
        checkpoint = kv.save(0, window_only=True)
        decode(0, [*tokens[n:], *[tokens[5]] * 30], n)  # the reply moves the window on
        full = kv.save(0)
        assert kv.truncate(0, n) and kv.window_ok(0, n)  # in the slot, the cells are all still there

        # The saved window is the last token's: the state serves its own length, or one less (that last token
        # evaluated again attends to the same positions), and not two less.
        assert kv.restore(1, full) and window(1) == (n + 31 - 512, n + 30)
        assert kv.window_ok(1, n + 31)
        assert kv.truncate(1, n + 30) and kv.window_ok(1, n + 30)
        assert kv.truncate(1, n + 29) and not kv.window_ok(1, n + 29)

        assert kv.restore(1, full) and kv.truncate(1, n)
        assert window(1) == (n + 31 - 512, n - 1)  # only the window of the longer sequence was saved
        assert not kv.window_ok(1, n)
        assert kv.restore(1, full) and kv.restore(1, checkpoint, window_only=True) and kv.truncate(1, n)
        assert window(1) == (n - 512, n - 1)
        assert kv.window_ok(1, n)

        kv.copy(0, 1, n)  # shared cells, as concurrent requests with one prefix use them
        assert kv.window_ok(1, n) and window(1)[1] == n - 1
    finally:
        ll.llama_batch_free(batch)


def test_idle_slots_move_to_host_memory_when_another_request_starts(
    aio: Loop, gemma_path: str, runners: list[LlamaCppRunner]
) -> None:
    """With the host cache on, starting a request parks every idle slot in host memory and frees its cells (each
    decode attends over the whole occupied span of the unified KV cache, so idle sequences slow the active ones);
    a returning chat is then restored from host memory. With the cache off, the idle slot keeps its prefix."""
    first = chat("Read this and remember it: " + story(120, 21))
    second = first + "Noted zebra.<end_of_turn>\n" + chat("Which words came first?")
    other = chat("Something else entirely: " + story(60, 22))
    parked = start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=2, cache_ram=64))
    kept = start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=2, cache_ram=0))
    runners += [parked, kept]
    n_first = ntok(aio, parked, first)

    run(aio, parked, first, GREEDY, 4)
    entries = parked.cache_stats.entries  # what an earlier runner of this model left in the cache file
    run(aio, parked, other, GREEDY, 4)
    # The first chat's slot went to host memory when the other began.
    assert parked.cache_stats.entries == entries + 1
    hits = parked.cache_stats.hits
    warm, n_cached = run(aio, parked, second, GREEDY, 8)
    assert n_cached == n_first
    assert parked.cache_stats.hits == hits + 1  # restored, not found in place

    run(aio, kept, first, GREEDY, 4)
    run(aio, kept, other, GREEDY, 4)
    expected, n_kept = run(aio, kept, second, GREEDY, 8)
    assert n_kept == n_first  # the idle slot kept it in place
    assert warm == expected

    # A budget too small for the chat's state: the slot keeps it rather than lose it.
    small = start(aio, LoadSpec(model_path=gemma_path, num_ctx=512, num_parallel=2, cache_ram=1))
    runners.append(small)
    run(aio, small, first, GREEDY, 4)
    run(aio, small, other, GREEDY, 4)
    _, n_small = run(aio, small, second, GREEDY, 8)
    assert n_small == n_first
    assert small.cache_stats.hits == 0


def test_a_runner_whose_model_was_deleted_leaves_no_cache_file(aio: Loop, gemma_path: str, tmp_path: Path) -> None:
    model = tmp_path / "gemma.gguf"
    model.write_bytes(Path(gemma_path).read_bytes())
    cache_file = tmp_path / "gemma.cache"
    spec = LoadSpec(model_path=str(model), num_ctx=512, num_parallel=1, cache_ram=64, cache_file=str(cache_file))
    r = start(aio, spec)
    try:
        run(aio, r, chat("Read this and remember it: " + story(150, 8)))
        model.unlink()  # deleted while loaded (the runner maps it)
    finally:
        aio.run(r.close())
    assert not cache_file.exists()
