"""Scheduling policy with a fake runner: queue limit, keep_alive, eviction, reloads, dead runners."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pollama.errors import ServerBusy
from pollama.runner import LoadSpec
from pollama.scheduler import Scheduler


class FakeRunner:
    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.alive = True
        self.closed = False
        self._callbacks: list[Callable[[Any], None]] = []

    def add_exit_callback(self, cb: Callable[[Any], None]) -> None:
        self._callbacks.append(cb)

    def die(self) -> None:
        self.alive = False
        for cb in self._callbacks:
            cb(self)

    async def close(self) -> None:
        self.closed = True
        self.alive = False


def make(max_loaded: int = 3, max_queue: int = 512, keep_alive: float = 300) -> tuple[Scheduler, list[FakeRunner]]:
    started: list[FakeRunner] = []

    async def loader(spec: LoadSpec) -> Any:
        await asyncio.sleep(0)
        runner = FakeRunner(spec)
        started.append(runner)
        return runner

    return Scheduler(max_loaded=max_loaded, max_queue=max_queue, default_keep_alive=keep_alive, loader=loader), started


def spec(path: str = "/m/a", num_ctx: int = 2048, parallel: int = 2) -> LoadSpec:
    return LoadSpec(model_path=path, num_ctx=num_ctx, num_parallel=parallel)


def test_loads_once_for_concurrent_requests() -> None:
    async def main() -> None:
        sched, started = make()
        leases = await asyncio.gather(*(sched.acquire("a", "a", spec(), None) for _ in range(2)))
        assert len(started) == 1 and leases[0].runner is leases[1].runner
        for lease in leases:
            lease.release()

    asyncio.run(main())


def test_queue_limit() -> None:
    async def main() -> None:
        sched, _ = make(max_queue=1)
        holder = await sched.acquire("a", "a", spec(parallel=1), None)
        waiter = asyncio.ensure_future(sched.acquire("a", "a", spec(parallel=1), None))
        await asyncio.sleep(0.01)
        with pytest.raises(ServerBusy) as info:
            await sched.acquire("a", "a", spec(parallel=1), None)
        assert info.value.message == "server busy, please try again.  maximum pending requests exceeded"
        holder.release()
        (await waiter).release()

    asyncio.run(main())


def test_keep_alive_zero_unloads_after_release_and_expiry_timer() -> None:
    async def main() -> None:
        sched, started = make(keep_alive=0.05)
        lease = await sched.acquire("a", "a", spec(), None)
        lease.release()
        assert sched.loaded()
        await asyncio.sleep(0.2)
        assert not sched.loaded() and started[0].closed

        lease = await sched.acquire("a", "a", spec(), 0)
        lease.release()
        await asyncio.sleep(0.01)
        assert not sched.loaded() and started[1].closed

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
        sched, started = make(max_loaded=2)
        (await sched.acquire("a", "a", spec("/m/a"), 100)).release()
        (await sched.acquire("b", "b", spec("/m/b"), 10)).release()
        (await sched.acquire("c", "c", spec("/m/c"), None)).release()
        names = sorted(e.name for e in sched.loaded())
        assert names == ["a", "c"]  # b had the shortest keep_alive
        assert started[1].closed
        await sched.shutdown()

    asyncio.run(main())


def test_waits_for_busy_runner_before_evicting() -> None:
    async def main() -> None:
        sched, started = make(max_loaded=1)
        busy = await sched.acquire("a", "a", spec("/m/a"), None)
        other = asyncio.ensure_future(sched.acquire("b", "b", spec("/m/b"), None))
        await asyncio.sleep(0.05)
        assert not other.done() and len(started) == 1
        busy.release()
        lease = await asyncio.wait_for(other, 1)
        assert lease.loaded.name == "b" and started[0].closed
        lease.release()
        await sched.shutdown()

    asyncio.run(main())


def test_reload_when_load_options_change() -> None:
    async def main() -> None:
        sched, started = make()
        first = await sched.acquire("a", "a", spec(num_ctx=1024), None)
        pending = asyncio.ensure_future(sched.acquire("a", "a", spec(num_ctx=4096), None))
        await asyncio.sleep(0.05)
        assert not pending.done()  # waits for the in-flight request on the old runner
        first.release()
        second = await asyncio.wait_for(pending, 1)
        assert started[0].closed and second.loaded.spec.num_ctx == 4096
        second.release()
        await sched.shutdown()

    asyncio.run(main())


def test_dead_runner_is_dropped_and_reloaded() -> None:
    async def main() -> None:
        sched, started = make()
        lease = await sched.acquire("a", "a", spec(), None)
        started[0].die()
        lease.release()
        assert sched.loaded() == []
        again = await sched.acquire("a", "a", spec(), None)
        assert again.runner is started[1]
        again.release()
        await sched.shutdown()

    asyncio.run(main())
