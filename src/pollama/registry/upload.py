"""Uploading one blob (``server/upload.go``): HEAD, cross-repo mount, upload session, PATCH parts, PUT.

Parts have the download sizing (``total/16`` clamped to [100 MB, 1000 MB]) and go up one after another, each
PATCH returning the URL for the next, as the distribution spec requires of a monolithic registry. A registry
that answers a PATCH with 307 (``X-Redirect-Uploads``) gets that part PUT to the redirect instead. The final
PUT carries the digest and Ollama's ``etag`` (md5 of the parts' md5s, ``-<count>``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import httpx

from pollama.api.responses import Progress
from pollama.registry.auth import go_query_encode
from pollama.registry.client import NotFoundError, RegistryClient, RegistryError
from pollama.registry.download import MAX_RETRIES, PROGRESS_INTERVAL
from pollama.registry.parts import part_sizes
from pollama.store.manifest import Layer
from pollama.store.names import Name

log = logging.getLogger("pollama.registry")

_CHUNK = 1 << 20


def add_query(url: str, pairs: list[tuple[str, str]]) -> str:
    """``values := u.Query(); values.Add(...); u.RawQuery = values.Encode()``."""
    parts = urlsplit(url)
    all_pairs = parse_qsl(parts.query, keep_blank_values=True) + pairs
    return urlunsplit((parts.scheme, parts.netloc, parts.path, go_query_encode(all_pairs), parts.fragment))


class Upload:
    def __init__(self, client: RegistryClient, layer: Layer, path: Path) -> None:
        self.client = client
        self.layer = layer
        self.path = path
        self.total = path.stat().st_size
        self.completed = 0

    def progress(self) -> Progress:
        return Progress(f"pushing {self.layer.digest[7:19]}", self.layer.digest, self.total, self.completed)

    async def run(self) -> None:
        c = self.client
        url = c.repo_url("blobs", "uploads") + "/"
        if self.layer.from_:
            source = Name.parse(self.layer.from_)
            url = add_query(url, [("mount", self.layer.digest), ("from", source.display_namespace_model())])
        resp = await c.request("POST", url)
        await resp.aclose()
        if resp.status_code == 201:  # mounted from the other repository: nothing to send
            self.completed = self.total
            return
        location = self._location(resp.headers, str(resp.request.url))
        sums = []
        for offset, size in part_sizes(self.total):
            location, digest = await self._part_with_retries(location, offset, size)
            sums.append(digest)
        etag = f"{hashlib.md5(b''.join(sums)).hexdigest()}-{len(sums)}"
        final = add_query(location, [("digest", self.layer.digest), ("etag", etag)])
        headers = {"Content-Type": "application/octet-stream", "Content-Length": "0"}
        for tries in range(MAX_RETRIES):
            try:
                resp = await c.request("PUT", final, headers, b"")
                await resp.aclose()
                return
            except RegistryError as e:
                if tries == MAX_RETRIES - 1:
                    raise
                log.info("%s complete upload attempt %d failed: %s", self.layer.digest[7:19], tries, e)
                await asyncio.sleep(2.0**tries)

    @staticmethod
    def _location(headers: httpx.Headers, base: str) -> str:
        loc: str = headers.get("docker-upload-location") or headers.get("location") or ""
        return urljoin(base, loc)

    async def _part_with_retries(self, url: str, offset: int, size: int) -> tuple[str, bytes]:
        for tries in range(MAX_RETRIES):
            try:
                return await self._part(url, offset, size)
            except RegistryError as e:
                if tries == MAX_RETRIES - 1:
                    raise RegistryError(f"max retries exceeded: {e}") from e
                log.info("%s part at %d attempt %d failed: %s", self.layer.digest[7:19], offset, tries, e)
                await asyncio.sleep(2.0**tries)
        raise AssertionError("unreachable")

    async def _part(self, url: str, offset: int, size: int, method: str = "PATCH") -> tuple[str, bytes]:
        md5 = hashlib.md5()
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            fd = os.open(self.path, os.O_RDONLY)
            try:
                pos = offset
                while pos < offset + size:
                    block = os.pread(fd, min(_CHUNK, offset + size - pos), pos)
                    if not block:
                        raise RegistryError(f"{self.path}: file shrank during upload")
                    pos += len(block)
                    md5.update(block)
                    sent += len(block)
                    self.completed += len(block)
                    yield block
            finally:
                os.close(fd)

        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        if method == "PATCH":
            headers["X-Redirect-Uploads"] = "1"
            headers["Content-Range"] = f"{offset}-{offset + size - 1}"
        try:
            resp = await self.client.send(method, url, headers, body(), auth=method == "PATCH")
            try:
                data = await resp.aread()
            finally:
                await resp.aclose()
            if resp.status_code == 307:
                self.completed -= sent
                sent = 0
                nxt = self._location(resp.headers, url)
                redirect = urljoin(url, resp.headers.get("location", ""))
                await self._part(redirect, offset, size, "PUT")
                return nxt, md5.digest()
            if resp.status_code >= 400:
                raise RegistryError(
                    f"http status {resp.status_code} {resp.reason_phrase}: {data.decode(errors='replace')}"
                )
        except BaseException:
            self.completed -= sent
            raise
        return self._location(resp.headers, url), md5.digest()


async def upload_blob(client: RegistryClient, layer: Layer, path: Path) -> AsyncIterator[Progress]:
    """``uploadBlob``: skip a blob the repository has, else upload it, with progress every 60 ms."""
    try:
        resp = await client.request("HEAD", client.blob_url(layer.digest))
        await resp.aclose()
        yield Progress(f"pushing {layer.digest[7:19]}", layer.digest, layer.size, layer.size)
        return
    except NotFoundError:
        pass
    try:
        upload = Upload(client, layer, path)
    except OSError as e:
        raise RegistryError(str(e)) from e
    task = asyncio.ensure_future(upload.run())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=PROGRESS_INTERVAL)
            yield upload.progress()
        task.result()
    finally:
        if not task.done():
            task.cancel()
