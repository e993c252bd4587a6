"""The push use-case (``PushModel``): every blob the registry lacks, then the manifest.

The manifest is sent re-marshalled from its known fields, as Ollama's ``json.Marshal(mf)`` does (compact, no
trailing newline), so a model pushed by pollama has the registry digest Ollama would give it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pollama import gojson
from pollama.api.responses import Progress
from pollama.registry.client import ERR_INSECURE, RegistryClient, RegistryError, new_http_client
from pollama.registry.upload import upload_blob
from pollama.store.manifest import MEDIA_TYPE_MANIFEST, Layer, Manifest, ManifestError
from pollama.store.names import Name
from pollama.store.store import Store


def _layer_json(layer: Layer) -> dict[str, Any]:
    d: dict[str, Any] = {"mediaType": layer.media_type, "digest": layer.digest, "size": layer.size}
    if layer.from_:
        d["from"] = layer.from_
    if layer.name:
        d["name"] = layer.name
    return d


def manifest_for_push(m: Manifest) -> bytes:
    """``json.Marshal`` of Ollama's ``Manifest`` struct: unknown fields dropped, no trailing newline."""
    return gojson.marshal(
        {
            "schemaVersion": m.schema_version,
            "mediaType": m.media_type,
            "config": _layer_json(m.config),
            "layers": [_layer_json(layer) for layer in m.layers],
        }
    ).encode()


async def push(store: Store, name: Name, *, insecure: bool = False) -> AsyncIterator[Progress]:
    """Push the local model ``name`` (fully qualified) to its registry, yielding progress."""
    yield Progress("retrieving manifest")
    if name.scheme == "http" and not insecure:
        raise RegistryError(ERR_INSECURE)
    path = store.manifest_path(name)
    try:
        manifest = Manifest.from_bytes(path.read_bytes())
    except FileNotFoundError as e:
        yield Progress("couldn't retrieve manifest")
        raise RegistryError(f"open {path}: no such file or directory") from e
    except (OSError, ManifestError) as e:
        yield Progress("couldn't retrieve manifest")
        raise RegistryError(str(e)) from e

    layers = list(manifest.layers)
    if manifest.config.digest:
        layers.append(manifest.config)
    async with new_http_client() as http:
        client = RegistryClient(http, name, insecure=insecure)
        for layer in layers:
            try:
                blob = store.blobs.path(layer.digest)
            except ValueError as e:
                raise RegistryError(str(e)) from e
            async for p in upload_blob(client, layer, blob):
                yield p
        yield Progress("pushing manifest")
        resp = await client.request(
            "PUT", client.manifest_url(), {"Content-Type": MEDIA_TYPE_MANIFEST}, manifest_for_push(manifest)
        )
        await resp.aclose()
    yield Progress("success")
