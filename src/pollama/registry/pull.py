"""The pull use-case (``PullModel``): manifest, then every blob, verify, write the manifest, prune.

Yields Ollama's progress objects; raises ``RegistryError`` with Ollama's messages. Knows nothing of HTTP
serving: the route turns the iterator into NDJSON.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from pollama.api.responses import Progress
from pollama.registry.client import ERR_INSECURE, RegistryClient, RegistryError, new_http_client
from pollama.registry.download import DigestMismatchError, start_download
from pollama.store.manifest import MEDIA_TYPE_MANIFEST, MEDIA_TYPE_TENSOR, Layer, Manifest, ManifestError
from pollama.store.names import Name
from pollama.store.store import Store

log = logging.getLogger("pollama.registry")


async def pull_manifest(client: RegistryClient) -> tuple[Manifest, bytes]:
    """``pullModelManifest``: the manifest and the exact bytes served (they are stored as is)."""
    resp = await client.request("GET", client.manifest_url(), {"Accept": MEDIA_TYPE_MANIFEST})
    data = resp.content
    try:
        return Manifest.from_bytes(data), data
    except ManifestError as e:
        raise RegistryError(str(e)) from e


async def pull(store: Store, name: Name, *, insecure: bool = False, noprune: bool = False) -> AsyncIterator[Progress]:
    """Pull ``name`` (fully qualified) into ``store``, yielding progress."""
    old_digests: set[str] = set()
    try:
        existing = store.load(name)
    except (OSError, ValueError) as e:
        log.warning("pulling model with bad existing manifest %s: %s", name, e)
        existing = None
    if existing is not None:
        old_digests = existing.manifest.digests()

    if name.scheme == "http" and not insecure:
        raise RegistryError(ERR_INSECURE)

    yield Progress("pulling manifest")
    async with new_http_client() as http:
        client = RegistryClient(http, name, insecure=insecure)
        try:
            manifest, data = await pull_manifest(client)
        except RegistryError as e:
            raise RegistryError(f"pull model manifest: {e}") from e
        layers: list[Layer] = list(manifest.layers)
        if manifest.config.digest:
            layers.append(manifest.config)
        if any(layer.media_type == MEDIA_TYPE_TENSOR for layer in layers):
            raise RegistryError("this model requires MLX support, but the MLX runtime is not available")

        mismatch: DigestMismatchError | None = None
        for layer in layers:
            if not layer.digest:
                raise RegistryError(f"{name.display_namespace_model()}: digest is empty")
            try:
                path = store.blobs.path(layer.digest)
            except ValueError as e:
                raise RegistryError(str(e)) from e
            if path.is_file():
                size = path.stat().st_size
                yield Progress(f"pulling {layer.digest[7:19]}", layer.digest, size, size)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            download = start_download(client, path, layer.digest)
            try:
                async for p in download.wait():
                    yield p
            except DigestMismatchError as e:
                # Ollama reports a bad blob only after "verifying sha256 digest"; the file is already gone.
                mismatch = mismatch or e
            except OSError as e:
                raise RegistryError(str(e)) from e

    # Downloads are hashed before they are renamed into place, so verification happened already.
    yield Progress("verifying sha256 digest")
    if mismatch is not None:
        raise mismatch

    yield Progress("writing manifest")
    store.write_manifest(name, Manifest.from_bytes(data))

    unused = old_digests - {layer.digest for layer in layers}
    if not noprune and unused:
        yield Progress("removing unused layers")
        _remove_unused(store, unused)
    yield Progress("success")


def _remove_unused(store: Store, digests: set[str]) -> None:
    """``deleteUnusedLayers``: drop the old version's blobs that no manifest references any more."""
    for m in store.manifests(continue_on_error=True).values():
        digests -= m.digests()
    for digest in digests:
        with contextlib.suppress(ValueError, OSError):
            store.blobs.remove(digest)
