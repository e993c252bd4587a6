"""The server app in-process: a model store of tiny GGUFs, and the app served with a ``FakeEngine`` behind it.

``install_models`` writes the store the way Ollama lays it out (GGUF, template, params and config blobs, one
manifest per model). ``serve`` runs the app's lifespan and hands back an ``httpx.AsyncClient`` on it through
``httpx.ASGITransport`` (which does not run the lifespan itself). Nothing here imports llama_cpp or the
built-in model package.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import httpx
import numpy as np
import ollama
from fake_runner import N_CTX_TRAIN, FakeEngine
from starlette.applications import Starlette

from pollama.config import Settings
from pollama.scheduler import Scheduler
from pollama.server.app import create_app
from pollama.services import Services
from pollama.store.manifest import (
    MEDIA_TYPE_CONFIG,
    MEDIA_TYPE_MODEL,
    MEDIA_TYPE_PARAMS,
    MEDIA_TYPE_SYSTEM,
    MEDIA_TYPE_TEMPLATE,
    Layer,
    Manifest,
)
from pollama.store.store import Store

URL = "http://127.0.0.1:11434"
JSON = "application/json; charset=utf-8"
NDJSON = "application/x-ndjson"

TINY = "tiny"
"""A completion model: a ``.Messages`` template without tools, and model params."""
TINY_TEMPLATE = "{{- range .Messages }}<{{ .Role }}>{{ .Content }}</{{ .Role }}>{{ end }}<assistant>"
TINY_PARAMS: dict[str, Any] = {"seed": 42, "stop": ["<end>"], "temperature": 0.5, "top_k": 20}
THINKER = "thinker"
"""A model whose template has thinking tags, so it has the ``thinking`` capability."""
THINKER_TEMPLATE = (
    "{{- range .Messages }}<{{ .Role }}>{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
    "{{ .Content }}</{{ .Role }}>{{ end }}<assistant>{{ if .Think }}<think>{{ end }}"
)
EMBEDDER = "embedder"
"""An embedding model (its GGUF has a pooling type): no completion."""

N_EMBD = 16
N_VOCAB = 32
PARAMETER_SIZE = "528"  # N_VOCAB * N_EMBD + N_EMBD, as Ollama's format.HumanNumber prints it


def write_gguf(path: Path, *, pooling: bool = False) -> Path:
    """A llama-architecture GGUF header with two small tensors: enough for the store, never loaded."""
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(path.stem)
    w.add_context_length(N_CTX_TRAIN)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(1)
    w.add_head_count(2)
    w.add_file_type(1)  # MOSTLY_F16
    if pooling:
        w.add_pooling_type(gguf.PoolingType.MEAN)
    w.add_tensor("token_embd.weight", np.zeros((N_VOCAB, N_EMBD), dtype=np.float16))
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def install(
    store: Store,
    name: str,
    gguf_path: Path,
    *,
    template: str = "",
    params: dict[str, Any] | None = None,
    system: str = "",
) -> None:
    """Store ``name`` as Ollama's create would: one blob per layer, a config blob, then the manifest."""

    def blob(data: bytes, media_type: str) -> Layer:
        ref = store.blobs.write_bytes(data)
        return Layer(media_type, ref.digest, ref.size)

    layers = [blob(gguf_path.read_bytes(), MEDIA_TYPE_MODEL)]
    if template:
        layers.append(blob(template.encode(), MEDIA_TYPE_TEMPLATE))
    if system:
        layers.append(blob(system.encode(), MEDIA_TYPE_SYSTEM))
    if params:
        layers.append(blob(json.dumps(params, sort_keys=True, separators=(",", ":")).encode(), MEDIA_TYPE_PARAMS))
    config = {
        "model_format": "gguf",
        "model_family": "llama",
        "model_families": ["llama"],
        "model_type": PARAMETER_SIZE,
        "file_type": "F16",
        "architecture": "amd64",
        "os": "linux",
    }
    config_layer = blob(json.dumps(config, separators=(",", ":")).encode(), MEDIA_TYPE_CONFIG)
    store.write_manifest(name, Manifest.build(config_layer, layers))


def install_models(root: Path) -> Path:
    store = Store(root)
    weights = write_gguf(root.parent / "tiny.gguf")
    install(store, TINY, weights, template=TINY_TEMPLATE, params=TINY_PARAMS)
    install(store, THINKER, weights, template=THINKER_TEMPLATE)
    install(store, EMBEDDER, write_gguf(root.parent / "embedder.gguf", pooling=True))
    return root


@dataclass
class Served:
    """A running app: its client, the engine behind its scheduler, and its services."""

    app: Starlette
    http: httpx.AsyncClient
    engine: FakeEngine
    services: Services

    def ollama(self) -> ollama.AsyncClient:
        """The official client, talking to the app in-process."""
        return ollama.AsyncClient(host=URL, transport=httpx.ASGITransport(app=self.app))


@contextlib.asynccontextmanager
async def serve(models: Path, **env: str) -> AsyncIterator[Served]:
    """The app for ``OLLAMA_*`` variables ``env`` over the store at ``models``, between start-up and shutdown."""
    settings = Settings.from_env({"OLLAMA_HOST": "127.0.0.1:11434", "OLLAMA_MODELS": str(models), **env})
    engine = FakeEngine()

    def services() -> Services:
        scheduler = Scheduler(
            max_loaded=settings.max_loaded_models,
            max_queue=settings.max_queue,
            default_keep_alive=settings.keep_alive,
            loader=engine.load,
        )
        return Services(settings=settings, store=Store(settings.models), scheduler=scheduler)

    app = create_app(settings, services)
    async with app.router.lifespan_context(app):
        svc: Services = app.state.services
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as http:
            yield Served(app=app, http=http, engine=engine, services=svc)


Start = Callable[..., AbstractAsyncContextManager[Served]]
"""The ``start`` fixture: ``async with start(OLLAMA_X="...") as srv``."""


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    """The objects of an NDJSON body, checking that every line is one complete object."""
    text = response.text
    assert text.endswith("\n"), text
    return [json.loads(line) for line in text.removesuffix("\n").split("\n")]
