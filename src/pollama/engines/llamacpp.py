"""The server's handle on one local llama.cpp runner process (``python -m pollama.runner``): spawning it,
waiting for the model to load, multiplexing many concurrent completions and tokenize/detokenize calls over its
socket, draining its stderr, and turning its death into ``RunnerStopped`` for every caller in flight.
asyncio only; never imports llama_cpp."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import itertools
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
from collections import deque
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from pollama.api.responses import Logprob
from pollama.errors import BadRequest, Failed, PollamaError, PromptTooLong, RunnerLoadFailed, RunnerStopped
from pollama.runner import protocol as p
from pollama.runner.embed_protocol import EmbedMsg, EmbedResult, result_from_body
from pollama.runner.types import CacheStats, Chunk, CompletionRequest, Done, FailureKind, LoadSpec, RunnerInfo

log = logging.getLogger("pollama.runner")

STDERR_TAIL_LINES = 20


def _runner_argv(spec: LoadSpec, sock_path: str) -> list[str]:
    argv = [sys.executable, "-m", "pollama.runner", "--model", spec.model_path, "--socket", sock_path]
    argv += ["--num-ctx", str(spec.num_ctx), "--parallel", str(spec.num_parallel)]
    argv += ["--num-batch", str(spec.num_batch), "--num-thread", str(spec.num_thread)]
    if spec.use_mmap is not None:
        argv.append("--mmap" if spec.use_mmap else "--no-mmap")
    if spec.flash_attention is not None:
        argv.append("--flash-attn" if spec.flash_attention else "--no-flash-attn")
    argv += ["--cache-type", spec.kv_cache_type]
    if spec.cache_ram > 0:
        argv += ["--cache-ram", str(spec.cache_ram), "--cache-file", spec.cache_file or prompt_cache_file(spec)]
    if log.isEnabledFor(logging.DEBUG):
        argv.append("--verbose")
    return argv


_cache_dir: str | None = None


def prompt_cache_file(spec: LoadSpec) -> str:
    """Where a runner of ``spec``'s model leaves its prompt cache when it stops, for the model's next runner: a
    file per model and KV layout in a directory this server process owns and removes when it exits."""
    global _cache_dir
    if _cache_dir is None:
        _cache_dir = tempfile.mkdtemp(prefix="pollama-prompt-cache-")
        atexit.register(shutil.rmtree, _cache_dir, True)
    layout = f"{spec.kv_cache_type}|{spec.flash_attention}"
    return os.path.join(_cache_dir, f"{_digest(spec.model_path)}-{_digest(layout)}.cache")


def forget_prompt_cache(model_path: str) -> None:
    """Remove what runners of the model at ``model_path`` left for the next one (the model was deleted)."""
    if _cache_dir is None:
        return
    for f in Path(_cache_dir).glob(f"{_digest(model_path)}-*.cache"):
        f.unlink(missing_ok=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _runner_env() -> dict[str, str]:
    # The child must import this same pollama even when it runs from a source tree that is not installed.
    src = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (src, env.get("PYTHONPATH", "")) if x)
    return env


_FAILURES: dict[FailureKind, type[PollamaError]] = {
    "bad_request": BadRequest,
    "prompt_too_long": PromptTooLong,
    "failed": Failed,
}


class LlamaCppRunner:
    """A running ``python -m pollama.runner`` process with its model loaded; create with ``await start``."""

    def __init__(self, spec: LoadSpec, proc: asyncio.subprocess.Process, tmpdir: str) -> None:
        self.spec = spec
        self.pid = proc.pid
        self.info: RunnerInfo
        # The runner's prompt cache figures, as of the last completion it finished.
        self.cache_stats = CacheStats(budget=spec.cache_ram << 20)
        self._proc = proc
        self._tmpdir = tmpdir
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._ids = itertools.count(1)
        self._streams: dict[int, asyncio.Queue[Chunk | Done | PollamaError]] = {}
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._exit_callbacks: list[Callable[[LlamaCppRunner], None]] = []
        self._exited = False
        self._dead = False
        self._closing = False
        self._reader: asyncio.StreamReader
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def alive(self) -> bool:
        return not self._dead

    @property
    def stderr_tail(self) -> list[str]:
        return list(self._stderr_tail)

    # lifecycle

    @classmethod
    async def start(cls, spec: LoadSpec) -> LlamaCppRunner:
        """Spawn a runner and wait until its model is loaded. Raises RunnerLoadFailed if it exits or takes longer
        than ``spec.load_timeout`` (OLLAMA_LOAD_TIMEOUT)."""
        load_timeout = spec.load_timeout if math.isfinite(spec.load_timeout) else None
        tmpdir = tempfile.mkdtemp(prefix="pollama-runner-")
        sock_path = os.path.join(tmpdir, "runner.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(sock_path)
        listener.listen(1)
        listener.setblocking(False)
        try:
            proc = await asyncio.create_subprocess_exec(
                *_runner_argv(spec, sock_path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=_runner_env(),
            )
        except OSError as e:
            listener.close()
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise RunnerLoadFailed(f"failed to start llama runner: {e}") from e
        runner = cls(spec, proc, tmpdir)
        stderr_task = asyncio.create_task(runner._drain_stderr())
        runner._tasks.append(stderr_task)
        try:
            await asyncio.wait_for(runner._connect(listener), timeout=load_timeout)
        except BaseException as e:
            listener.close()
            await runner._kill()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(stderr_task), 2)
            if isinstance(e, asyncio.TimeoutError):
                what = f"timed out waiting for llama runner to start after {spec.load_timeout:g}s (OLLAMA_LOAD_TIMEOUT)"
                raise RunnerLoadFailed(runner._failure(what)) from None
            if isinstance(e, RunnerLoadFailed):
                raise RunnerLoadFailed(runner._failure(e.message)) from None
            raise
        listener.close()
        runner._tasks.append(asyncio.create_task(runner._read_loop()))
        runner._tasks.append(asyncio.create_task(runner._watch()))
        return runner

    def _failure(self, what: str) -> str:
        tail = [line for line in self._stderr_tail if line.strip()]
        return f"{what}: {' '.join(tail[-3:])}" if tail else what

    async def _connect(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        accept = asyncio.create_task(loop.sock_accept(listener))
        exited = asyncio.create_task(self._proc.wait())
        try:
            await asyncio.wait({accept, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not accept.done():
                raise RunnerLoadFailed("llama runner process has terminated")
            conn, _ = accept.result()
            reader, writer = await asyncio.open_unix_connection(sock=conn)
            self._reader, self._writer = reader, writer
            read = asyncio.create_task(self._read_frame())
            await asyncio.wait({read, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                raise RunnerLoadFailed("llama runner process has terminated")
            msg = read.result()
            if msg is None or msg["op"] != "ready":
                raise RunnerLoadFailed("llama runner process has terminated")
            self.info = p.info_from_msg(msg["info"])
        finally:
            accept.cancel()
            exited.cancel()

    async def close(self, grace: float = 5.0) -> None:
        """Stop the process: close the connection (the runner exits on EOF), then terminate, then kill."""
        self._closing = True
        self._dead = True
        if self._writer is not None:
            self._writer.close()
        if self._proc.returncode is None:
            # A runner with a prompt cache writes it to its file before exiting.
            first = 1.0 if self.spec.cache_ram <= 0 else 10.0
            try:
                await asyncio.wait_for(asyncio.shield(self._proc.wait()), first)
            except TimeoutError:
                self._proc.terminate()
                try:
                    await asyncio.wait_for(asyncio.shield(self._proc.wait()), grace)
                except TimeoutError:
                    self._proc.kill()
                    await self._proc.wait()
        for t in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(t, 2.0)
        self._on_exit()

    async def _kill(self) -> None:
        if self._proc.returncode is None:
            self._proc.kill()
        await self._proc.wait()
        self._on_exit()

    def add_exit_callback(self, cb: Callable[[LlamaCppRunner], None]) -> None:
        """``cb`` is called once when the process exits, for any reason (immediately if it already has)."""
        if self._exited:
            cb(self)
        else:
            self._exit_callbacks.append(cb)

    # background tasks

    async def _drain_stderr(self) -> None:
        # Read in blocks, not lines: llama.cpp prints progress dots without newlines, and a full pipe would
        # block the runner.
        stream = self._proc.stderr
        assert stream is not None
        pending = ""
        while data := await stream.read(65536):
            pending += data.decode("utf-8", "replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                self._stderr_tail.append(line)
                log.debug("runner %d: %s", self.pid, line)
        if pending:
            self._stderr_tail.append(pending)
            log.debug("runner %d: %s", self.pid, pending)

    async def _read_frame(self) -> dict[str, Any] | None:
        try:
            head = await self._reader.readexactly(p.HEADER.size)
            (size,) = p.HEADER.unpack(head)
            return p.decode(await self._reader.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def _read_loop(self) -> None:
        try:
            while (msg := await self._read_frame()) is not None:
                self._dispatch(msg)
        except Exception:
            log.exception("runner %d: bad frame", self.pid)
        finally:
            self._fail_all()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        op, rid = msg["op"], msg.get("id", 0)
        if op == "chunk":
            q = self._streams.get(rid)
            if q is not None:
                q.put_nowait(Chunk(msg["text"], [Logprob.from_wire(lp) for lp in msg.get("logprobs", ())]))
        elif op == "done":
            q = self._streams.get(rid)
            if q is not None:
                q.put_nowait(p.done_from_msg(msg))
        elif op == "error":
            err = _FAILURES[msg["kind"]](msg["message"])
            q = self._streams.get(rid)
            if q is not None:
                q.put_nowait(err)
            fut = self._calls.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_exception(err)
        elif op == "cache":
            self.cache_stats = p.cache_from_msg(msg)
        elif op in ("tokens", "text", "embeddings", "count"):
            fut = self._calls.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result(msg[op])

    async def _watch(self) -> None:
        code = await self._proc.wait()
        if not self._closing:
            log.warning("runner %d exited unexpectedly with code %s: %s", self.pid, code, self._failure("stderr"))
        self._on_exit()

    def _fail_all(self) -> None:
        self._dead = True
        for q in self._streams.values():
            q.put_nowait(RunnerStopped())
        for fut in self._calls.values():
            if not fut.done():
                fut.set_exception(RunnerStopped())
        self._calls.clear()

    def _on_exit(self) -> None:
        self._fail_all()
        if self._exited:
            return
        self._exited = True
        if self._writer is not None:
            self._writer.close()
        shutil.rmtree(self._tmpdir, ignore_errors=True)
        callbacks, self._exit_callbacks = self._exit_callbacks, []
        for cb in callbacks:
            try:
                cb(self)
            except Exception:
                log.exception("runner exit callback failed")

    # requests

    def _send(self, msg: Any) -> None:
        if self._dead or self._writer is None:
            raise RunnerStopped()
        self._writer.write(p.encode(msg))

    async def _call(self, msg: dict[str, Any]) -> Any:
        rid = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[rid] = fut
        try:
            self._send({**msg, "id": rid})
            return await fut
        except asyncio.CancelledError:
            # The caller went away: stop the runner working on it (tokenizing a huge text takes a while).
            if not self._dead and self._writer is not None:
                cancel: p.CancelMsg = {"op": "cancel", "id": rid}
                self._writer.write(p.encode(cancel))
            raise
        finally:
            self._calls.pop(rid, None)

    async def tokenize(self, text: str, add_special: bool = False) -> list[int]:
        tokens: list[int] = await self._call({"op": "tokenize", "text": text, "add_special": add_special})
        return tokens

    async def count_tokens(self, text: str, limit: int | None = None) -> int:
        """How many tokens ``text`` has (no special tokens added); past ``limit`` the runner may stop counting
        and answer any number above it."""
        n: int = await self._call({"op": "count", "text": text, "add_special": False, "limit": limit})
        return n

    async def detokenize(self, tokens: list[int]) -> str:
        text: str = await self._call({"op": "detokenize", "tokens": list(tokens)})
        return text

    async def embed(self, inputs: list[str], truncate: bool = True) -> EmbedResult:
        msg: EmbedMsg = {"op": "embed", "id": 0, "inputs": list(inputs), "truncate": truncate}
        return result_from_body(await self._call(dict(msg)))

    async def completion(self, req: CompletionRequest) -> AsyncGenerator[Chunk | Done, None]:
        """Stream a completion: Chunk items, then one Done. Raises the domain error the runner reports for a
        failed request and RunnerStopped if the process dies. Closing the iterator early cancels the request in
        the runner."""
        rid = next(self._ids)
        q: asyncio.Queue[Chunk | Done | PollamaError] = asyncio.Queue()
        self._streams[rid] = q
        finished = False
        try:
            self._send(p.completion_msg(rid, req))
            while True:
                item = await q.get()
                if isinstance(item, PollamaError):
                    finished = True
                    raise item
                if isinstance(item, Done):
                    finished = True
                    yield item
                    return
                yield item
        finally:
            self._streams.pop(rid, None)
            if not finished and not self._dead and self._writer is not None:
                cancel: p.CancelMsg = {"op": "cancel", "id": rid}
                self._writer.write(p.encode(cancel))
