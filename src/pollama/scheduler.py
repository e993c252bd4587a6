"""Which runners are loaded: load on first use, keep-alive timers, eviction, reloads, and the request queue limit.

A request asks for a runner with ``acquire`` and gets a ``Lease``; it holds one of the runner's
``num_parallel`` slots until released. Requests waiting for a slot or a load count against
``OLLAMA_MAX_QUEUE``; past it they get ``ServerBusy``. A runner that stops is dropped, so the next request
loads it again. Runners come from a ``Loader`` (``engines.base``), so any ``Runner`` implementation fits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from pollama.engines.base import Loader, LoadSpec, Runner
from pollama.engines.llamacpp import LlamaCppRunner, forget_prompt_cache
from pollama.errors import ServerBusy
from pollama.store.model import Model

log = logging.getLogger("pollama")

# Far enough ahead to read as "forever" (Ollama shows a date ~292 years out for a negative keep_alive).
_FOREVER_SECONDS = 292 * 365 * 24 * 3600


@dataclass(eq=False)
class Loaded:
    """A runner the scheduler holds, with its model identity and bookkeeping."""

    key: str
    spec: LoadSpec
    runner: Runner
    name: str
    keep_alive: float
    slots: asyncio.Semaphore
    refs: int = 0
    expires_at: float = 0.0
    timer: asyncio.TimerHandle | None = None
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    unloading: bool = False
    model: Model | None = None
    """The stored model the runner was loaded for (what ``/api/ps`` describes)."""
    load_seconds: float = 0.0
    """How long the loader took to bring the runner up."""

    def expiry(self) -> float:
        """Unix time the model will unload: ``now + keep_alive`` while busy, the timer's deadline when idle."""
        ka = _FOREVER_SECONDS if math.isinf(self.keep_alive) else self.keep_alive
        if self.refs > 0 or self.timer is None:
            return time.time() + ka
        return self.expires_at


class Lease:
    """One request's hold on a runner slot."""

    def __init__(self, scheduler: Scheduler, loaded: Loaded, load_duration: int) -> None:
        self._scheduler = scheduler
        self.loaded = loaded
        self.runner = loaded.runner
        self.load_duration = load_duration
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._scheduler._release(self.loaded)


class Scheduler:
    def __init__(
        self,
        *,
        max_loaded: int,
        max_queue: int,
        default_keep_alive: float,
        loader: Loader | None = None,
    ) -> None:
        self.max_loaded = max_loaded
        self.max_queue = max_queue
        self.default_keep_alive = default_keep_alive
        self._loader: Loader = loader or LlamaCppRunner.start
        self._loaded: dict[str, Loaded] = {}
        self._loading: dict[str, asyncio.Task[Loaded]] = {}
        self._waiting = 0
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot or a load (what counts against ``max_queue``)."""
        return self._waiting

    def loaded(self) -> list[Loaded]:
        return [entry for entry in self._loaded.values() if entry.runner.alive and not entry.unloading]

    async def acquire(
        self, key: str, name: str, spec: LoadSpec, keep_alive: float | None, model: Model | None = None
    ) -> Lease:
        """Wait for a slot on a runner for ``key`` loaded with ``spec``, loading or reloading as needed.

        Raises:
            ServerBusy: ``max_queue`` requests are already waiting.
            RunnerLoadFailed: the runner could not load the model.
        """
        if self._waiting >= self.max_queue:
            raise ServerBusy()
        self._waiting += 1
        start = time.monotonic_ns()
        try:
            entry = await self._runner_for(key, name, spec)
            await entry.slots.acquire()
        finally:
            self._waiting -= 1
        if not entry.runner.alive or entry.unloading:
            entry.slots.release()
            return await self.acquire(key, name, spec, keep_alive, model)
        entry.refs += 1
        entry.idle.clear()
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        if keep_alive is not None:
            entry.keep_alive = keep_alive
        if entry.model is None:
            entry.model = model
        return Lease(self, entry, time.monotonic_ns() - start)

    async def _runner_for(self, key: str, name: str, spec: LoadSpec) -> Loaded:
        while True:
            entry = self._loaded.get(key)
            if entry is not None and entry.runner.alive and not entry.unloading:
                if entry.spec == spec:
                    return entry
                # A load-time option changed: wait for in-flight requests, then reload.
                entry.unloading = True
                if entry.refs:
                    await entry.idle.wait()
                await self._unload(entry)
                continue
            task = self._loading.get(key)
            if task is None:
                task = asyncio.ensure_future(self._load(key, name, spec))
                self._loading[key] = task
                task.add_done_callback(functools.partial(self._loaded_done, key))
            loaded = await asyncio.shield(task)
            if loaded.spec == spec:
                return loaded

    def _loaded_done(self, key: str, _task: asyncio.Task[Loaded]) -> None:
        self._loading.pop(key, None)

    async def _load(self, key: str, name: str, spec: LoadSpec) -> Loaded:
        await self._make_room()
        log.info("loading model %s (num_ctx=%d, parallel=%d)", name, spec.num_ctx, spec.num_parallel)
        began = time.monotonic()
        runner = await self._loader(spec)
        entry = Loaded(
            key=key,
            spec=spec,
            runner=runner,
            name=name,
            keep_alive=self.default_keep_alive,
            slots=asyncio.Semaphore(spec.num_parallel),
            load_seconds=time.monotonic() - began,
        )
        entry.idle.set()
        runner.add_exit_callback(lambda _r: self._on_exit(entry))
        self._loaded[key] = entry
        return entry

    async def _make_room(self) -> None:
        while len([e for e in self._loaded.values() if not e.unloading]) >= self.max_loaded:
            idle = [e for e in self._loaded.values() if e.refs == 0 and not e.unloading]
            if idle:
                victim = min(idle, key=lambda e: (e.keep_alive, e.spec.model_path))
                await self._unload(victim)
                continue
            async with self._changed:
                await self._changed.wait()

    def _release(self, entry: Loaded) -> None:
        entry.refs -= 1
        entry.slots.release()
        if entry.refs > 0:
            return
        entry.idle.set()
        self._notify()
        if entry.unloading:
            return
        if entry.keep_alive <= 0:
            self._spawn(self._unload(entry))
        elif not math.isinf(entry.keep_alive):
            entry.expires_at = time.time() + entry.keep_alive
            loop = asyncio.get_running_loop()
            entry.timer = loop.call_later(entry.keep_alive, lambda: self._spawn(self._expire(entry)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _expire(self, entry: Loaded) -> None:
        if entry.refs == 0 and self._loaded.get(entry.key) is entry:
            log.info("keep_alive expired, unloading %s", entry.name)
            await self._unload(entry)

    async def expire(self, key: str) -> None:
        """Unload ``key`` now, or as soon as its in-flight requests finish (``keep_alive: 0``)."""
        entry = self._loaded.get(key)
        if entry is None:
            return
        entry.keep_alive = 0
        if entry.refs == 0:
            await self._unload(entry)

    async def forget(self, key: str) -> None:
        """``key``'s model file was deleted: unload it and drop the prompt cache its runners keep for the next
        one. A runner still busy writes none when it stops, since its model file is gone."""
        await self.expire(key)
        forget_prompt_cache(key)

    async def _unload(self, entry: Loaded) -> None:
        entry.unloading = True
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        if self._loaded.get(entry.key) is entry:
            del self._loaded[entry.key]
        await entry.runner.close()
        self._notify()

    def _on_exit(self, entry: Loaded) -> None:
        if self._loaded.get(entry.key) is entry:
            log.warning("runner for %s exited", entry.name)
            del self._loaded[entry.key]
            if entry.timer is not None:
                entry.timer.cancel()
        self._notify()

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop()
            self._spawn(wake())

    async def shutdown(self) -> None:
        for entry in list(self._loaded.values()):
            await self._unload(entry)
