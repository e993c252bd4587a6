"""``/api/create``: build a model's layers and config, write its manifest (``server/create.go``).

The flow is Ollama's: validate the request; gather base layers from an existing model (``from``) or from
uploaded GGUF blobs (``files``, with chat-template auto-detection), then adapters; quantize the model layer if
asked; replace template/system/params/messages layers and add licenses; write the config blob and the manifest
(atomically); prune the replaced manifest's now-unused blobs unless ``OLLAMA_NOPRUNE``. The work is blocking
file I/O, so it runs in a worker thread and reports progress through an async iterator.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from pollama import gojson
from pollama.api.lifecycle import CreateRequest
from pollama.api.options import Options, apply
from pollama.api.responses import Progress
from pollama.create import layers
from pollama.create.quantize import UNQUANTIZED, check_type, quantize_layer
from pollama.create.sources import from_files, from_model
from pollama.errors import BadRequest, Failed, PollamaError
from pollama.prompt.gotemplate.errors import TemplateError
from pollama.prompt.template import Template
from pollama.registry.pull import pull
from pollama.store.gguf_info import human_number
from pollama.store.manifest import (
    MEDIA_TYPE_CONFIG,
    MEDIA_TYPE_LICENSE,
    MEDIA_TYPE_MESSAGES,
    MEDIA_TYPE_MODEL,
    MEDIA_TYPE_PARAMS,
    MEDIA_TYPE_SYSTEM,
    MEDIA_TYPE_TEMPLATE,
    Manifest,
)
from pollama.store.model import ModelConfig
from pollama.store.names import Name
from pollama.store.store import Store

if TYPE_CHECKING:
    from pollama.services import Services

log = logging.getLogger("pollama.create")

Emit = Callable[[Progress], None]


def valid_path(p: str) -> bool:
    """Go's ``fs.ValidPath``: slash-separated, relative, no empty, ``.`` or ``..`` elements (``.`` alone is ok)."""
    if p == ".":
        return True
    return bool(p) and all(part not in ("", ".", "..") for part in p.split("/"))


def _validate(store: Store, req: CreateRequest) -> Name:
    for mapping in (req.files, req.draft_files):
        for path, digest in (mapping or {}).items():
            if not valid_path(path):
                raise BadRequest("file path must be relative")
            if not digest:
                raise BadRequest("invalid digest format")
    if req.draft_quantize and not req.draft_files:
        raise BadRequest("--draft-quantize requires a DRAFT model")
    if any(not d for d in (req.adapters or {}).values()):
        raise BadRequest("invalid digest format")
    name = Name.parse(req.model or req.name)
    if not name.is_valid():
        raise BadRequest("invalid model name")
    return store.existing_name(name)


def _apply_info(info: dict[str, Any], cfg: dict[str, Any]) -> None:
    """The ``info`` overrides (not exposed by Modelfiles)."""
    caps = info.get("capabilities")
    if isinstance(caps, list):
        cfg["capabilities"] = [*cfg.get("capabilities", []), *(c if isinstance(c, str) else "" for c in caps)]

    def text(key: str) -> str:
        v = info.get(key, "")
        if not isinstance(v, str):
            raise BadRequest(f"info field {key!r} must be a string".replace("'", '"'))
        return v

    def number(key: str) -> int:
        v = info.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise BadRequest(f'info field "{key}" must be a number')
        if v < 0 or int(v) != v or v > 2**63 - 1:
            raise BadRequest(f'info field "{key}" must be a non-negative integer')
        return int(v)

    cfg["model_family"] = text("model_family")
    cfg["model_families"] = [cfg["model_family"]] if cfg["model_family"] else None
    cfg["base_name"] = text("base_name")
    cfg["file_type"] = text("quantization_level")
    cfg["model_type"] = text("parameter_size")
    cfg["context_length"] = number("context_length")
    cfg["embedding_length"] = number("embedding_length")


def _licenses(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    kind = "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "number"
    raise Failed(f"json: cannot unmarshal {kind} into Go value of type []string")


def _params_layer(store: Store, built: list[layers.NewLayer], params: dict[str, Any]) -> list[layers.NewLayer]:
    """``setParameters``: request parameters over those of existing params layers, one new params layer."""
    merged = dict(params)
    for nl in built:
        if nl.media_type == MEDIA_TYPE_PARAMS:
            existing = json.loads(store.blobs.path(nl.digest).read_bytes())
            for k, v in (existing if isinstance(existing, dict) else {}).items():
                merged.setdefault(k, v)
    if not merged:
        return built
    built = layers.drop(store, built, MEDIA_TYPE_PARAMS)
    return [*built, layers.from_bytes(store, gojson.encode(merged, sort_maps=True), MEDIA_TYPE_PARAMS)]


def _message_json(m: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"role": m.role.lower(), "content": m.content or ""}
    for key in ("thinking", "images", "tool_name", "tool_call_id"):
        if getattr(m, key, None):
            d[key] = getattr(m, key)
    if m.tool_calls:
        d["tool_calls"] = [tc.model_dump(exclude_none=True) for tc in m.tool_calls]
    return d


def _create_model(
    store: Store, req: CreateRequest, name: Name, base: list[layers.NewLayer], cfg: dict[str, Any], emit: Emit
) -> None:
    """``createModel``: quantize, fill the config from the model layer, set the small layers, write."""
    built: list[layers.NewLayer] = []
    quant_type = (req.quantize or req.quantization).upper()
    for nl in base:
        if nl.gguf is not None and nl.media_type == MEDIA_TYPE_MODEL:
            ft = nl.gguf.file_type_name
            if quant_type:
                want = check_type(quant_type)
                if ft not in UNQUANTIZED:
                    raise Failed("quantization is only supported for F16, BF16 and F32 models")
                if ft != want:
                    nl = quantize_layer(store, nl, quant_type, emit)
            info = nl.gguf
            assert info is not None
            cfg["model_format"] = cfg.get("model_format") or "gguf"
            cfg["model_family"] = cfg.get("model_family") or info.architecture
            cfg["model_type"] = cfg.get("model_type") or human_number(info.parameter_count)
            cfg["file_type"] = cfg.get("file_type") or info.file_type_name
            cfg["model_families"] = [*(cfg.get("model_families") or []), info.architecture]
        built.append(nl)

    if req.template:
        built = layers.drop(store, built, MEDIA_TYPE_TEMPLATE)
        try:
            Template.parse(req.template)
        except TemplateError as err:
            raise BadRequest(f"template error: {err}") from None
        built.append(layers.from_bytes(store, req.template.encode(), MEDIA_TYPE_TEMPLATE))
    if req.system:
        built = layers.drop(store, built, MEDIA_TYPE_SYSTEM)
        built.append(layers.from_bytes(store, req.system.encode(), MEDIA_TYPE_SYSTEM))
    for text in _licenses(req.license):
        built.append(layers.from_bytes(store, text.encode(), MEDIA_TYPE_LICENSE))
    built = _params_layer(store, built, req.parameters or {})
    if req.messages:
        built = layers.drop(store, built, MEDIA_TYPE_MESSAGES)
        encoded = gojson.encode([_message_json(m) for m in req.messages])
        built.append(layers.from_bytes(store, encoded, MEDIA_TYPE_MESSAGES))

    config = ModelConfig.from_json(cfg)
    config_layer = layers.from_bytes(store, gojson.encode(config.to_json()), MEDIA_TYPE_CONFIG)

    unique: list[layers.NewLayer] = []
    seen: set[str] = set()
    for nl in built:
        if nl.digest not in seen:  # one manifest entry per blob
            seen.add(nl.digest)
            unique.append(nl)
    for nl in unique:
        if nl.status:
            emit(Progress(nl.status))
    emit(Progress("writing manifest"))
    store.write_manifest(name, Manifest.build(config_layer.layer, [nl.layer for nl in unique]))


def _validate_parameters(params: dict[str, Any] | None) -> None:
    # A value of the wrong type would make every later request on the model fail; refuse it now.
    try:
        apply(Options(), params)
    except PollamaError as err:
        raise BadRequest(err.message) from None


def run(store: Store, req: CreateRequest, emit: Emit, *, noprune: bool) -> None:
    """The whole create, synchronously; progress through ``emit``; errors as ``PollamaError``."""
    name = _validate(store, req)
    _validate_parameters(req.parameters)
    old = store.load(name)
    cfg: dict[str, Any] = {"renderer": req.renderer, "parser": req.parser, "requires": req.requires}
    if req.from_:
        base, base_config = from_model(store, req.from_, emit)
        for key in ("renderer", "parser", "requires", "model_format"):
            cfg[key] = cfg.get(key) or getattr(base_config, key)
        cfg["capabilities"] = list(base_config.capabilities)
    elif req.files is not None:
        base = from_files(store, req.files, emit, adapter=False)
    else:
        raise BadRequest("neither 'from' or 'files' was specified")
    if req.draft_files:
        raise BadRequest("DRAFT models are not supported by pollama")
    if req.adapters is not None:
        base += from_files(store, req.adapters, emit, adapter=True)
    if req.info is not None:
        _apply_info(req.info, cfg)
    cfg = {k: v for k, v in cfg.items() if v}
    cfg["architecture"], cfg["os"] = "amd64", "linux"
    _create_model(store, req, name, base, cfg, emit)
    if not noprune and old is not None:
        in_use: set[str] = set()
        for manifest in store.manifests(continue_on_error=True).values():
            in_use |= manifest.digests()
        for digest in old.manifest.digests() - in_use:
            store.blobs.remove(digest)
    emit(Progress("success"))


async def _pull_missing_base(svc: Services, from_: str) -> AsyncIterator[Progress]:
    """Ollama pulls a ``from`` model that is not in the store before creating on top of it."""
    if not from_:
        return
    name = Name.parse(from_)
    if not name.is_valid() or svc.store.resolve(name) is not None:
        return
    try:
        async for item in pull(svc.store, name, noprune=svc.settings.noprune):
            if item.status != "success":
                yield item
    except OSError as err:
        raise Failed(str(err)) from err


async def create(svc: Services, req: CreateRequest) -> AsyncIterator[Progress]:
    """Progress objects of one create; a ``PollamaError`` before the first one becomes the response status."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def emit(item: Progress) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("item", item))

    def work() -> None:
        try:
            run(svc.store, req, emit, noprune=svc.settings.noprune)
        except PollamaError as err:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", err))
        except Exception as err:
            log.exception("create failed")
            loop.call_soon_threadsafe(queue.put_nowait, ("error", Failed(str(err))))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("done", None))

    # The request is refused (bad name, bad paths) before a missing base is pulled, as Ollama does.
    _validate(svc.store, req)
    svc.remotes.refuse(req.model or req.name or "", "create")
    if req.from_:
        svc.remotes.refuse(req.from_, "create from")
    async for item in _pull_missing_base(svc, req.from_):
        yield item
    worker = loop.run_in_executor(None, work)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        # A client that goes away does not stop the create half-way (a manifest is all or nothing anyway).
        await asyncio.shield(worker)
