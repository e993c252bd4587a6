"""Copy, delete and blob upload/check (``server/routes.go: CopyHandler, DeleteHandler, HeadBlobHandler,
CreateBlobHandler``), with Ollama's status codes and messages."""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from pollama.api.lifecycle import CopyRequest, DeleteRequest
from pollama.errors import BadRequest, ModelNotFound, NotFound
from pollama.store.blobs import BlobRef, Blobs, is_valid_digest
from pollama.store.names import Name

if TYPE_CHECKING:
    from pollama.services import Services


def copy_model(svc: Services, req: CopyRequest) -> None:
    """Copy only the manifest; blobs are shared."""
    src = Name.parse(req.source)
    if not src.is_valid():
        raise BadRequest(f'source "{req.source}" is invalid')
    svc.remotes.refuse(req.source, "copy")
    svc.remotes.refuse(req.destination, "copy onto")
    src = svc.store.existing_name(src)
    dst = Name.parse(req.destination)
    if not dst.is_valid():
        raise BadRequest(f'destination "{req.destination}" is invalid')
    dst = svc.store.existing_name(dst)
    try:
        svc.store.copy(src, dst)
    except FileNotFoundError:
        raise ModelNotFound(req.source, f'model "{req.source}" not found') from None


async def delete_model(svc: Services, req: DeleteRequest) -> None:
    """Remove the manifest and the blobs no other model uses; unload the model if its GGUF goes."""
    requested = req.model or req.name
    name = Name.parse(requested)
    if not name.is_valid():
        raise BadRequest(f'name "{requested}" is invalid')
    svc.remotes.refuse(requested, "delete")
    model = svc.store.resolve(name)
    if model is None:
        raise ModelNotFound(requested)
    svc.store.delete(model.name)
    # A runner is keyed by its GGUF path; a copy of this model still uses (and may have loaded) the same blob.
    if model.model_path is not None and not model.model_path.exists():
        await svc.scheduler.forget(str(model.model_path))


def _check_digest(digest: str) -> None:
    if not is_valid_digest(digest):
        raise BadRequest("invalid digest format")


def head_blob(blobs: Blobs, digest: str) -> None:
    """``HEAD /api/blobs/:digest``: nothing when present, else Ollama's 404."""
    _check_digest(digest)
    if not blobs.exists(digest):
        raise NotFound(f'blob "{digest}" not found')


_END = object()
_ABORT = object()


class _Aborted(Exception):
    """The request body ended early; the writer drops its temp file."""


async def upload_blob(blobs: Blobs, digest: str, body: AsyncIterator[bytes]) -> bool:
    """``POST /api/blobs/:digest``: stream ``body`` into the store. True when created, False if already present.

    The body goes to disk chunk by chunk through a bounded queue to a writer thread, never whole in memory. As
    in Ollama, content that hashes to another digest is still stored (under its real digest) and then reported
    as a mismatch; the comparison is with the digest exactly as given in the path.
    """
    _check_digest(digest)
    if blobs.exists(digest):
        return False
    chunks: queue.Queue[object] = queue.Queue(maxsize=16)

    def produce() -> Iterator[bytes]:
        while True:
            item = chunks.get()
            if item is _END:
                return
            if item is _ABORT:
                raise _Aborted
            assert isinstance(item, bytes)
            yield item

    loop = asyncio.get_running_loop()
    writer = loop.run_in_executor(None, lambda: blobs.write_stream(produce()))

    def put(item: object) -> None:
        # Blocks while the writer is behind, but gives up if the writer has died (e.g. disk full).
        while not writer.done():
            try:
                chunks.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    try:
        async for chunk in body:
            if chunk:
                await asyncio.to_thread(put, chunk)
            if writer.done():
                break
    except BaseException:
        await asyncio.to_thread(put, _ABORT)
        with contextlib.suppress(_Aborted):
            await writer
        raise
    await asyncio.to_thread(put, _END)
    ref: BlobRef = await writer
    if ref.digest != digest:
        raise BadRequest(f'digest mismatch, expected "{digest}", got "{ref.digest}"')
    return True
