"""Scheduling policy with a fake runner: queue limit, keep_alive, eviction, reloads, dead runners."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pollama.errors import ServerBusy
from pollama.runner import LoadSpec
from pollama.scheduler import Scheduler

# A deadline for waits that end on their own (a keep_alive timer firing): it only turns a hang into a failure.
DEADLINE = 30


class FakeRunner:
    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.alive = True
        self.closed = asyncio.Event()
        self.in_use = False  # set by a test while it holds a lease: closing it then is a scheduler bug
        self._callbacks: list[Callable[[Any], None]] = []

    def add_exit_callback(self, cb: Callable[[Any], None]) -> None:
        self._callbacks.append(cb)

    def die(self) -> None:
        self.alive = False
        for cb in self._callbacks:
            cb(self)

    async def close(self) -> None:
        assert not self.in_use, f"{self.spec.model_path} closed while a request holds it"
        self.closed.set()
        self.alive = False


class Loader:
    """Starts fake runners. A test clears ``gate`` to hold loads at their start; ``begun`` is set once one has
    started."""

    def __init__(self, max_loaded: int) -> None:
        self.max_loaded = max_loaded
        self.started: list[FakeRunner] = []
        self.begun = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, spec: LoadSpec) -> Any:
        self.begun.set()
        await self.gate.wait()
        assert sum(r.alive for r in self.started) < self.max_loaded, "loaded past max_loaded"
        runner = FakeRunner(spec)
        self.started.append(runner)
        return runner


def make(max_loaded: int = 3, max_queue: int = 512, keep_alive: float = 300) -> tuple[Scheduler, Loader]:
    loader = Loader(max_loaded)
    sched = Scheduler(max_loaded=max_loaded, max_queue=max_queue, default_keep_alive=keep_alive, loader=loader)
    return sched, loader


async def until(cond: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), DEADLINE)


async def let_others_run() -> None:
    """Give the other tasks the loop until they block (a few turns cover the scheduler's chains of awaits).
    Only for checking that something has *not* happened, where there is no event to wait for and waiting
    longer could not change a correct scheduler's result."""
    for _ in range(10):
        await asyncio.sleep(0)


def spec(path: str = "/m/a", num_ctx: int = 2048, parallel: int = 2) -> LoadSpec:
    return LoadSpec(model_path=path, num_ctx=num_ctx, num_parallel=parallel)


def test_loads_once_for_concurrent_requests() -> None:
    async def main() -> None:
        sched, loads = make()
        loads.gate.clear()
        requests = [asyncio.ensure_future(sched.acquire("a", "a", spec(), None)) for _ in range(2)]
        # The load task is created by the first request, after both requests were scheduled: when it begins,
        # both are in the scheduler, and the load cannot end before the gate opens.
        await loads.begun.wait()
        loads.gate.set()
        leases = await asyncio.gather(*requests)
        assert len(loads.started) == 1 and leases[0].runner is leases[1].runner
        for lease in leases:
            lease.release()

    asyncio.run(main())


def test_queue_limit() -> None:
    async def main() -> None:
        sched, loads = make(max_queue=1)
        loads.gate.clear()
        waiter = asyncio.ensure_future(sched.acquire("a", "a", spec(), None))
        await loads.begun.wait()  # the waiter is queued behind its load, which the gate holds
        with pytest.raises(ServerBusy) as info:
            await sched.acquire("a", "a", spec(), None)
        assert info.value.message == "server busy, please try again.  maximum pending requests exceeded"
        loads.gate.set()
        (await waiter).release()
        await sched.shutdown()

    asyncio.run(main())


def test_keep_alive_zero_unloads_after_release_and_expiry_timer() -> None:
    async def main() -> None:
        sched, loads = make(keep_alive=0.05)
        lease = await sched.acquire("a", "a", spec(), None)
        lease.release()
        assert sched.loaded()
        await asyncio.wait_for(loads.started[0].closed.wait(), DEADLINE)
        assert not sched.loaded()

        lease = await sched.acquire("a", "a", spec(), 0)
        lease.release()
        await asyncio.wait_for(loads.started[1].closed.wait(), DEADLINE)
        assert not sched.loaded()

    asyncio.run(main())


def test_request_without_keep_alive_keeps_current_duration() -> None:
    async def main() -> None:
        sched, _ = make()
        (await sched.acquire("a", "a", spec(), 3600)).release()
        (await sched.acquire("a", "a", spec(), None)).release()
        (entry,) = sched.loaded()
        assert entry.keep_alive == 3600
        await sched.shutdown()

    asyncio.run(main())


def test_evicts_idle_runner_at_max_loaded() -> None:
    async def main() -> None:
        sched, loads = make(max_loaded=2)
        (await sched.acquire("a", "a", spec("/m/a"), 100)).release()
        (await sched.acquire("b", "b", spec("/m/b"), 10)).release()
        (await sched.acquire("c", "c", spec("/m/c"), None)).release()
        names = sorted(e.name for e in sched.loaded())
        assert names == ["a", "c"]  # b had the shortest keep_alive
        assert loads.started[1].closed.is_set()
        await sched.shutdown()

    asyncio.run(main())


def test_waits_for_busy_runner_before_evicting() -> None:
    async def main() -> None:
        sched, loads = make(max_loaded=1)
        busy = await sched.acquire("a", "a", spec("/m/a"), None)
        (a,) = loads.started
        a.in_use = True
        other = asyncio.ensure_future(sched.acquire("b", "b", spec("/m/b"), None))
        await let_others_run()
        assert not other.done() and len(loads.started) == 1
        a.in_use = False
        busy.release()
        lease = await other
        assert lease.loaded.name == "b" and a.closed.is_set()
        lease.release()
        await sched.shutdown()

    asyncio.run(main())


def test_reload_when_load_options_change() -> None:
    async def main() -> None:
        sched, loads = make()
        first = await sched.acquire("a", "a", spec(num_ctx=1024), None)
        (old,) = loads.started
        old.in_use = True
        pending = asyncio.ensure_future(sched.acquire("a", "a", spec(num_ctx=4096), None))
        await until(lambda: not sched.loaded())  # the old runner leaves the list once the reload has begun
        await let_others_run()
        assert not pending.done()  # waits for the in-flight request on the old runner
        old.in_use = False
        first.release()
        second = await pending
        assert old.closed.is_set() and second.loaded.spec.num_ctx == 4096
        second.release()
        await sched.shutdown()

    asyncio.run(main())


def test_dead_runner_is_dropped_and_reloaded() -> None:
    async def main() -> None:
        sched, loads = make()
        lease = await sched.acquire("a", "a", spec(), None)
        loads.started[0].die()
        lease.release()
        assert sched.loaded() == []
        again = await sched.acquire("a", "a", spec(), None)
        assert again.runner is loads.started[1]
        again.release()
        await sched.shutdown()

    asyncio.run(main())
