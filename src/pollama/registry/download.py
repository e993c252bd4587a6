"""Downloading one blob: parallel ranged GETs into a ``-partial`` file, resumable, verified, shared.

Layout and sizing are Ollama's (``server/download.go``): the data goes to ``blobs/sha256-<hex>-partial`` and
each part's state to ``…-partial-<N>`` as ``{"N","Offset","Size","Completed"}`` JSON, so a partial download
left by Ollama resumes here and vice versa. Unlike Ollama, the state is checkpointed after every chunk written
(at most 1 MiB; a fixed-width in-place write, atomic against a killed process) rather than when a part ends,
so a server killed mid-pull refetches nothing it recorded. The blob is hashed before it is renamed into place:
a file named by a digest always has that digest. Concurrent pulls of one digest share one ``Download``; when
the last waiter goes away the transfer stops and the partial stays for the next pull.

Speed: each part's body is moved by a thread of its own with :mod:`pollama.registry.rawhttp` (``splice`` or
``recv_into`` + ``pwrite``, no per-chunk Python objects), and a hashing thread follows the contiguous prefix of
bytes on disk while the parts arrive, so the digest is known moments after the last byte. The parts run in
parallel, except from a loopback registry, where they run in order so the hash never waits for a gap. httpx
still makes every other request, and the part GETs too when a proxy is configured or a response needs
decoding. A small blob comes with the request that resolves the direct URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pollama.api.responses import Progress
from pollama.registry import rawhttp
from pollama.registry.client import RegistryClient, RegistryError, _ssl_context, new_http_client
from pollama.registry.hashing import hash_growing_file
from pollama.registry.parts import Part, part_sizes, read_parts, remove_state_files, state_path
from pollama.registry.transfer import direct_ok, finish, in_thread, is_loopback

log = logging.getLogger("pollama.registry")

MAX_RETRIES = 6
PROGRESS_INTERVAL = 0.06
READ_TIMEOUT = 30.0  # a part that receives nothing for this long has stalled (Ollama's stall timeout)
SMALL_BLOB = 1 << 20  # brought by the direct-URL probe and hashed inline, no threads


class DigestMismatchError(RegistryError):
    """Ollama's ``errDigestMismatch``; the partial data has been deleted."""

    def __init__(self, want: str, got: str) -> None:
        super().__init__(f"digest mismatch, file must be downloaded again: want {want}, got {got}")


class _Stalled(Exception):
    pass


class Download:
    """One blob being fetched into ``<path>-partial``; ``wait()`` follows it."""

    def __init__(self, path: Path, digest: str) -> None:
        self.path = path
        self.digest = digest
        self.partial = Path(f"{path}-partial")
        self.total = 0
        self.parts: list[Part] = []
        self.refs = 0
        self.task: asyncio.Task[None] | None = None
        self._hash_wakeup = threading.Event()
        self._raw = True  # part bodies through rawhttp until a response needs the general client

    @property
    def completed(self) -> int:
        # Each part's count is only ever changed by the one thread fetching it; the sum is read anywhere.
        return sum(p.completed for p in self.parts)

    def _watermark(self) -> int:
        """The end of the contiguous prefix of bytes on disk (what the hasher may read)."""
        for p in self.parts:
            if p.completed < p.size:
                return p.offset + p.completed
        return self.total

    # ---- following progress ----------------------------------------------------------------------------

    def progress(self) -> Progress:
        return Progress(f"pulling {self.digest[7:19]}", self.digest, self.total, self.completed)

    async def wait(self) -> AsyncIterator[Progress]:
        """Progress every 60 ms until done; raises the download's error. Leaving early releases it."""
        assert self.task is not None
        task = self.task
        self.refs += 1
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=PROGRESS_INTERVAL)
                if not task.done():
                    yield self.progress()
            task.result()
            yield self.progress()
        finally:
            self.refs -= 1
            if self.refs == 0 and not task.done():
                task.cancel()

    # ---- the transfer ----------------------------------------------------------------------------------

    async def run(self, client: RegistryClient, url: str) -> None:
        await self._prepare(client, url)
        # A small blob (a config, a template) is one part, fetched by the probe for the direct URL, and hashed
        # right here: no thread would have started before it is over.
        small = self.total <= SMALL_BLOB
        first = next((p for p in self.parts if p.completed < p.size), None)
        direct_url, same_host = await self._direct_url(client, url, first if small else None)
        fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size != self.total:
                os.ftruncate(fd, self.total)
        finally:
            os.close(fd)
        stop = threading.Event()
        self._raw = not small  # what the probe didn't bring is a request on its pooled connection
        hashing: asyncio.Future[str] | None = None
        if not small:
            hashing = asyncio.ensure_future(in_thread(lambda: self._hash(stop), stop.set, f"hash {self.digest[7:19]}"))
            hashing.add_done_callback(lambda t: t.cancelled() or t.exception())
        try:
            left = [p for p in self.parts if p.completed < p.size]
            todo: list[Coroutine[Any, Any, None]]
            if is_loopback(direct_url):
                # Parallel parts beat per-connection limits of a network path; a loopback registry has none,
                # and in-order bytes let the hash keep up with them (out of order, most of it waits for the
                # first part and runs after the last byte). Same parts, same state files, one at a time.
                todo = [self._fetch_parts_in_order(client, direct_url, same_host, left)] if left else []
            else:
                todo = [self._fetch_part(client, direct_url, same_host, p) for p in left]
            fetches = [asyncio.ensure_future(f) for f in todo]
            try:
                await asyncio.gather(*fetches)
            finally:
                for f in fetches:  # one part failed (or we were cancelled): the others stop too
                    f.cancel()
            got = self._hash(stop) if hashing is None else await hashing
        finally:
            if hashing is not None:
                hashing.cancel()
            stop.set()
            self._hash_wakeup.set()
        if got != self.digest:
            self._discard()
            raise DigestMismatchError(self.digest, got)
        os.chmod(self.partial, 0o644)
        os.replace(self.partial, self.path)
        remove_state_files(self.path)

    def _hash(self, stop: threading.Event) -> str:
        return hash_growing_file(self.partial, self.total, self._watermark, self._hash_wakeup, stop)

    async def _prepare(self, client: RegistryClient, url: str) -> None:
        self.parts = self._read_parts()
        if self.parts:
            self.total = sum(p.size for p in self.parts)
            log.info("resuming %s: %d of %d bytes on disk", self.digest[7:19], self.completed, self.total)
            return
        resp = await client.request("HEAD", url)
        await resp.aclose()
        self.total = int(resp.headers.get("content-length", "0") or 0)
        remove_state_files(self.path)
        with contextlib.suppress(FileNotFoundError):
            self.partial.unlink()  # data without state can't be trusted
        for n, (offset, size) in enumerate(part_sizes(self.total)):
            part = Part(n, offset, size)
            state_path(self.partial, part.n).write_bytes(part.state())
            self.parts.append(part)
        if self.parts:
            log.info("downloading %s in %d part(s)", self.digest[7:19], len(self.parts))

    def _read_parts(self) -> list[Part]:
        try:
            return read_parts(self.path, self.partial)
        except ValueError as e:
            log.warning("discarding unreadable partial download of %s: %s", self.digest[7:19], e)
            return []

    def _discard(self) -> None:
        remove_state_files(self.path)
        with contextlib.suppress(FileNotFoundError):
            self.partial.unlink()

    async def _direct_url(self, client: RegistryClient, url: str, part: Part | None = None) -> tuple[str, bool]:
        """Follow same-host redirects of the blob URL; stop at the first other host (a CDN's signed URL).

        Only the first byte is asked for: the answer is a URL, not the blob. Given a (small) ``part``, its
        bytes are asked for instead, and kept when the registry serves them itself: one request less.
        """
        host = urlsplit(client.fix_url(url)).hostname
        wanted = f"bytes={part.starts_at}-{part.stops_at - 1}" if part is not None else "bytes=0-0"
        for attempt in range(MAX_RETRIES):
            try:
                current = url
                for _ in range(11):
                    resp = await client.request("GET", current, {"Range": wanted}, stream=True)
                    if part is not None and resp.status_code in (200, 206):
                        await self._keep_probe_body(resp, part)
                    await finish(resp)
                    if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                        nxt = urljoin(str(resp.request.url), resp.headers["location"])
                        if urlsplit(nxt).hostname != host:
                            return nxt, False
                        current = nxt
                        continue
                    if resp.status_code in (200, 206):
                        return current, True
                    raise RegistryError(f"unexpected status code {resp.status_code}")
                raise RegistryError("maximum redirects exceeded (10) for directURL")
            except RegistryError as e:
                if attempt == MAX_RETRIES - 1 or "file does not exist" in str(e):
                    raise
                log.warning("failed to get direct URL; backing off and retrying: %s", e)
                await asyncio.sleep(min((attempt + 1) ** 2 * 0.01, 10) * (random.random() + 0.5))
        raise AssertionError("unreachable")

    async def _keep_probe_body(self, resp: httpx.Response, part: Part) -> None:
        """Write the probe's body as ``part``'s bytes if it is exactly them; otherwise the part is fetched later."""
        start = part.starts_at
        if resp.status_code == 206:
            if not resp.headers.get("content-range", "").startswith(f"bytes {start}-"):
                return
        elif start != 0:
            return
        try:
            body = await resp.aread()
        except httpx.HTTPError:
            return
        body = body[: part.stops_at - start]
        if not body:
            return
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT, 0o644)
        state_fd = os.open(state_path(self.partial, part.n), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size != self.total:
                os.ftruncate(fd, self.total)
            os.pwrite(fd, body, start)
            self._recorder(part, state_fd)(len(body))
        finally:
            os.close(state_fd)
            os.close(fd)

    async def _fetch_parts_in_order(self, client: RegistryClient, url: str, same_host: bool, parts: list[Part]) -> None:
        """One part's body at a time, in order; the next part's request is already answered by then.

        Part k+1 connects and reads its response head while part k streams, then waits at its gate (TCP flow
        control holds the registry back) until part k is complete: no pause between parts for a connection
        and the registry's lookup of the blob, which cost 10-30 ms each.
        """
        gates = [threading.Event() for _ in parts]
        tasks: dict[int, asyncio.Future[None]] = {}

        def launch(k: int) -> None:
            if k < len(parts):
                tasks[k] = asyncio.ensure_future(self._fetch_part(client, url, same_host, parts[k], gates[k]))

        gates[0].set()
        launch(0)
        launch(1)
        try:
            for k in range(len(parts)):
                await tasks[k]
                if k + 1 < len(parts):
                    gates[k + 1].set()
                launch(k + 2)
        finally:
            for t in tasks.values():
                t.cancel()

    async def _fetch_part(
        self, client: RegistryClient, url: str, same_host: bool, part: Part, gate: threading.Event | None = None
    ) -> None:
        """Fetch what ``part`` lacks, retrying; its body is read only once ``gate`` (if any) is set."""
        tries = 0
        while part.completed < part.size:
            try:
                if self._raw and direct_ok(client.fix_url(url)):
                    try:
                        await self._fetch_range_raw(client, url, same_host, part, gate)
                    except rawhttp.Unsupported as e:
                        log.info("%s: fetching parts with httpx: %s", self.digest[7:19], e)
                        self._raw = False
                else:
                    await self._fetch_range(client, url, same_host, part, gate)
            except _Stalled:
                log.info("%s part %d stalled; retrying", self.digest[7:19], part.n)
                continue  # a stall does not count as a try, as in Ollama
            except (httpx.HTTPError, RegistryError, rawhttp.HTTPError) as e:
                if tries >= MAX_RETRIES - 1:
                    raise RegistryError(f"max retries exceeded: {e}") from e
                sleep = 2.0**tries
                log.info(
                    "%s part %d attempt %d failed: %s, retrying in %gs", self.digest[7:19], part.n, tries, e, sleep
                )
                tries += 1
                await asyncio.sleep(sleep)

    def _recorder(self, part: Part, state_fd: int) -> Callable[[int], None]:
        """What to call after ``n`` more bytes of ``part`` are on disk: count them, checkpoint, wake the hasher."""

        def written(n: int) -> None:
            part.completed += n
            # Data first, then the record of it: a kill between the two only costs a refetch.
            os.pwrite(state_fd, part.state(), 0)
            self._hash_wakeup.set()

        return written

    async def _fetch_range_raw(
        self, client: RegistryClient, url: str, same_host: bool, part: Part, gate: threading.Event | None
    ) -> None:
        headers = client.headers({"Range": f"bytes={part.starts_at}-{part.stops_at - 1}"}, auth=same_host)
        get = rawhttp.RangeGet(client.fix_url(url), headers, timeout=READ_TIMEOUT, ssl_context=_ssl_context())

        def transfer() -> None:
            # The thread has its own descriptors: if the download is cancelled it may still be finishing a write.
            fd = os.open(self.partial, os.O_WRONLY)
            state_fd = os.open(state_path(self.partial, part.n), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                head = get.open()
                start = part.starts_at
                if head.status == 206:
                    got = head.headers.get("content-range", "")
                    if not got.startswith(f"bytes {start}-"):
                        raise RegistryError(f"unexpected Content-Range {got!r} for bytes {start}-")
                elif head.status != 200 or start != 0:
                    raise RegistryError(f"{head.status}: {get.read_some(200).decode(errors='replace')}")
                length = min(get.body_length(head), part.stops_at - start)
                if gate is not None:
                    get.wait(gate)
                get.copy_body(fd, start, length, self._recorder(part, state_fd))
            finally:
                get.close()
                os.close(state_fd)
                os.close(fd)

        try:
            await in_thread(transfer, get.abort, f"part {part.n} of {self.digest[7:19]}")
        except rawhttp.Timeout as e:
            raise _Stalled() from e

    async def _fetch_range(
        self, client: RegistryClient, url: str, same_host: bool, part: Part, gate: threading.Event | None
    ) -> None:
        """One ranged GET through httpx (proxies, or responses rawhttp doesn't decode)."""
        while gate is not None and not gate.is_set():
            await asyncio.sleep(0.005)
        headers = {"Range": f"bytes={part.starts_at}-{part.stops_at - 1}"}
        try:
            resp = await client.send("GET", url, headers, stream=True, auth=same_host)
        except RegistryError as e:
            if isinstance(e.__cause__, httpx.TimeoutException):
                raise _Stalled() from e
            raise
        fd = os.open(self.partial, os.O_WRONLY)
        state_fd = os.open(state_path(self.partial, part.n), os.O_WRONLY | os.O_CREAT, 0o644)
        written = self._recorder(part, state_fd)
        try:
            if resp.status_code != 206 and not (resp.status_code == 200 and part.starts_at == 0):
                body = await resp.aread()
                raise RegistryError(f"{resp.status_code}: {body[:200].decode(errors='replace')}")
            pos = part.starts_at
            try:
                async for chunk in resp.aiter_raw():
                    chunk = chunk[: part.stops_at - pos]
                    os.pwrite(fd, chunk, pos)
                    pos += len(chunk)
                    written(len(chunk))
                    if pos >= part.stops_at:
                        break
            except httpx.TimeoutException as e:
                raise _Stalled() from e
        finally:
            os.close(state_fd)
            os.close(fd)
            await resp.aclose()


_active: dict[str, Download] = {}


def start_download(client: RegistryClient, path: Path, digest: str) -> Download:
    """The running download of ``path``, or a new one fetching ``digest`` from ``client``'s repository."""
    key = str(path)
    dl = _active.get(key)
    if dl is not None and dl.task is not None and not dl.task.done():
        return dl
    dl = Download(path, digest)

    async def run() -> None:
        # Its own connection pool: the download outlives whichever pull started it if another one shares it.
        try:
            async with new_http_client() as http:
                own = RegistryClient(http, client.name, insecure=client.insecure)
                own.token = client.token
                await dl.run(own, own.blob_url(digest))
        finally:
            if _active.get(key) is dl:
                del _active[key]

    dl.task = asyncio.get_running_loop().create_task(run())
    # A download nobody waits for any more is cancelled; retrieve its exception so asyncio doesn't log it.
    dl.task.add_done_callback(lambda t: t.cancelled() or t.exception())
    _active[key] = dl
    return dl
