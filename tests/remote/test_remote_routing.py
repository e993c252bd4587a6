"""Replica routing policy, in process: least load, prefix affinity, round-robin among equals, failures."""

from __future__ import annotations

from pollama.engines.remote_routing import BLOCK_CHARS, PrefixIndex, Replica, ReplicaSet, prefix_hashes

SYSTEM = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" * 2


def replicas(n: int, parallel: int = 2) -> ReplicaSet:
    return ReplicaSet([Replica(f"http://r{i}", parallel, up=True) for i in range(n)])


def route(rs: ReplicaSet, prompt: str) -> Replica:
    hashes = prefix_hashes(prompt)
    r = rs.pick(hashes)
    assert r is not None
    rs.begin(r, hashes)
    return r


def test_prefix_hashes_are_chained_over_complete_blocks() -> None:
    a = "x" * (3 * BLOCK_CHARS + 5)
    assert len(prefix_hashes(a)) == 3
    assert prefix_hashes(a + "more text")[:3] == prefix_hashes(a)
    # Same block text at another position hashes differently: a match means the whole prefix is equal.
    b = "y" * BLOCK_CHARS + "x" * (2 * BLOCK_CHARS)
    assert prefix_hashes(b)[1] != prefix_hashes(a)[1]
    assert prefix_hashes("short") == []


def test_prefix_index_matches_leading_blocks_and_forgets_oldest() -> None:
    idx = PrefixIndex(capacity=4)
    idx.add([1, 2, 3])
    assert idx.match([1, 2, 3, 4]) == 3
    assert idx.match([2, 3]) == 2
    assert idx.match([9, 1]) == 0
    idx.add([5, 6])
    assert len(idx) == 4 and idx.match([1]) == 0  # 1 was the least recently used


def test_idle_replicas_take_turns_without_affinity() -> None:
    rs = replicas(3)
    picked = []
    for i in range(6):
        r = route(rs, f"{i} " * 5)  # shorter than a block: no prefix to match
        picked.append(r.url)
        rs.end(r)
    assert sorted(set(picked)) == ["http://r0", "http://r1", "http://r2"]
    assert picked[:3] != [picked[0]] * 3


def test_least_loaded_replica_wins() -> None:
    rs = replicas(3, parallel=4)
    rs.replicas[0].inflight = 3
    rs.replicas[1].inflight = 1
    rs.replicas[2].inflight = 2
    assert rs.pick([]) is rs.replicas[1]


def test_load_is_relative_to_each_replicas_parallel() -> None:
    rs = ReplicaSet([Replica("http://big", 8, up=True, inflight=3), Replica("http://small", 2, up=True, inflight=1)])
    assert rs.pick([]) is rs.replicas[0]  # 3/8 < 1/2


def test_conversation_returns_to_its_replica() -> None:
    rs = replicas(2)
    turn1 = SYSTEM + "user: tell me about the sea and its many colours at dusk, please, in detail\n" * 3
    first = route(rs, turn1)
    rs.end(first)
    # Another conversation in between lands elsewhere or not, but the next turn goes back to `first`.
    other = route(rs, "a completely different conversation " * 10)
    rs.end(other)
    turn2 = turn1 + "assistant: the sea is blue.\nuser: and at night?\n" * 3
    for _ in range(3):
        again = route(rs, turn2)
        assert again is first
        rs.end(again)


def test_shared_system_prompt_does_not_pin_new_conversations_under_load() -> None:
    rs = replicas(2, parallel=1)
    a = route(rs, SYSTEM + "first question " * 10)
    # `a` is busy (its one slot taken): a new conversation with the same system prompt goes to the other replica.
    b = route(rs, SYSTEM + "second question " * 10)
    assert b is not a


def test_affinity_yields_to_a_free_replica_when_the_holder_is_full() -> None:
    rs = replicas(2, parallel=1)
    prompt = "shared history " * 20
    holder = route(rs, prompt)
    rs.end(holder)
    busy = route(rs, prompt)
    assert busy is holder
    # The holder's only slot is taken: the same prefix now goes to the free replica rather than queueing.
    assert route(rs, prompt + "next turn " * 10) is not holder


def test_replicas_with_the_same_match_share_by_load() -> None:
    rs = replicas(2, parallel=4)
    for r in rs.replicas:
        r.prefixes.add(prefix_hashes(SYSTEM))
    rs.replicas[0].inflight = 2
    assert rs.pick(prefix_hashes(SYSTEM + "hello " * 20)) is rs.replicas[1]


def test_down_replicas_get_nothing_and_forget_their_cache() -> None:
    rs = replicas(2)
    prompt = "conversation " * 20
    first = route(rs, prompt)
    rs.end(first)
    assert rs.mark_down(first, "connection refused")
    assert not rs.mark_down(first, "again")  # already down: not reported twice
    for _ in range(3):
        r = rs.pick(prefix_hashes(prompt))
        assert r is not None and r is not first
    assert rs.mark_up(first)
    assert first.prefixes.match(prefix_hashes(prompt)) == 0
    assert first.failures == 2 and first.last_error == ""


def test_no_replica_up_or_all_excluded() -> None:
    rs = replicas(2)
    assert rs.pick([], exclude=rs.replicas) is None
    for r in rs.replicas:
        rs.mark_down(r, "gone")
    assert rs.pick([]) is None
    assert ReplicaSet([Replica("http://new", 1)]).pick([]) is None  # never checked yet
