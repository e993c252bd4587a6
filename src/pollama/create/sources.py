"""Where a created model's base layers come from (``server/model.go: parseFromModel, detectChatTemplate``,
``server/create.go: convertModelFromFiles, ggufLayers``).

``from_model``: every layer and the config of a model in the store (``build.create`` has pulled a missing base
model by then). ``from_files``: the blobs a request names in ``files`` or ``adapters`` (uploaded through
``/api/blobs``), each GGUF a model, adapter or projector layer by its header, plus a template and its stop
parameters when the GGUF's chat template matches a built-in one; a safetensors model directory is converted to
GGUF first (``create.safetensors``).
"""

from __future__ import annotations

from collections.abc import Callable

from pollama import gojson
from pollama.api.responses import Progress
from pollama.create import layers
from pollama.create.safetensors import convert_files
from pollama.errors import BadRequest, Failed
from pollama.prompt.named import match_chat_template
from pollama.store.gguf_info import GGUF_MAGIC, GGUFError, GGUFInfo, read_gguf
from pollama.store.manifest import (
    MEDIA_TYPE_ADAPTER,
    MEDIA_TYPE_DRAFT,
    MEDIA_TYPE_MODEL,
    MEDIA_TYPE_PARAMS,
    MEDIA_TYPE_PROJECTOR,
    MEDIA_TYPE_TEMPLATE,
)
from pollama.store.model import ModelConfig
from pollama.store.names import Name
from pollama.store.store import Store

Emit = Callable[[Progress], None]

_GGUF_MEDIA_TYPES = (MEDIA_TYPE_MODEL, MEDIA_TYPE_PROJECTOR, MEDIA_TYPE_ADAPTER, MEDIA_TYPE_DRAFT)


def from_model(store: Store, from_: str, emit: Emit) -> tuple[list[layers.NewLayer], ModelConfig]:
    """``parseFromModel``: every layer of an existing model, marked ``from`` it, plus its config."""
    name = Name.parse(from_)
    if not name.is_valid():
        raise BadRequest("invalid model name")
    model = store.resolve(name)
    if model is None:
        # build.create pulled it if it was missing, so it was deleted since; Ollama reports that as its pull
        # failing.
        emit(Progress("pulling manifest"))
        raise Failed("pull model manifest: file does not exist")
    source = model.name.display_shortest()
    out: list[layers.NewLayer] = []
    for layer in model.manifest.layers:
        nl = layers.from_blob(store, layer.digest, layer.media_type, source, layer.name)
        if layer.media_type in _GGUF_MEDIA_TYPES:
            nl = layers.NewLayer(nl.layer, nl.status, read_gguf(store.blobs.path(layer.digest)))
        out.append(nl)
    return out, model.config


def _kind(info: GGUFInfo) -> str:
    kind = info.kv.get("general.type")
    return kind if isinstance(kind, str) else "unknown"


def _is_projector(info: GGUFInfo) -> bool:
    """``isProjectorGGUF``."""
    if _kind(info) in ("projector", "mmproj"):
        return True
    if info.arch_uint("block_count") == 0 and info.arch_uint("vision.block_count") > 0:
        return True
    kv = info.kv
    arch = info.architecture
    encoder = kv.get(f"{arch}.has_vision_encoder") is True or kv.get(f"{arch}.has_audio_encoder") is True
    return arch == "clip" and info.arch_uint("block_count") == 0 and encoder


def _is_gguf_blob(store: Store, digest: str) -> bool:
    try:
        with store.blobs.path(digest).open("rb") as f:
            return f.read(4) == GGUF_MAGIC
    except (OSError, ValueError):
        return False


def _model_type(store: Store, files: dict[str, str]) -> str:
    """``detectModelTypeFromFiles``."""
    for filename, digest in files.items():
        if filename.endswith(".safetensors"):
            return "safetensors"
        if filename.endswith(".gguf") or _is_gguf_blob(store, digest):
            return "gguf"
    return ""


def _gguf_layer(store: Store, digest: str, source: str, emit: Emit) -> layers.NewLayer:
    """``ggufLayers``: one uploaded GGUF blob as a model/adapter/projector layer."""
    emit(Progress("parsing GGUF"))
    try:
        path = store.blobs.path(digest)
    except ValueError:
        raise Failed("invalid digest format") from None
    if not path.is_file():
        raise Failed(f"open {path}: no such file or directory")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise BadRequest("supplied file was not in GGUF format")
    try:
        info = read_gguf(path)
    except GGUFError as err:
        raise Failed(str(err)) from None
    media_type = MEDIA_TYPE_MODEL
    if _kind(info) == "adapter":
        media_type = MEDIA_TYPE_ADAPTER
    elif _is_projector(info):
        media_type = MEDIA_TYPE_PROJECTOR
    nl = layers.from_blob(store, digest, media_type, source)
    return layers.NewLayer(nl.layer, nl.status, info, from_files=True)


def detect_chat_template(store: Store, found: list[layers.NewLayer]) -> list[layers.NewLayer]:
    """``detectChatTemplate``: a built-in template (and its stop parameters) matching a GGUF's chat template."""
    out = list(found)
    for nl in found:
        if nl.gguf is None or not nl.gguf.chat_template:
            continue
        named = match_chat_template(nl.gguf.chat_template)
        if named is None:
            continue
        tmpl = layers.from_bytes(store, named.text.encode(), MEDIA_TYPE_TEMPLATE)
        out.append(tmpl.with_status(f"using autodetected template {named.name}"))
        # Every vendored template has a .json with "stop"; Ollama writes it as {"stop":[...]}.
        out.append(layers.from_bytes(store, gojson.encode({"stop": named.stop}), MEDIA_TYPE_PARAMS))
    return out


def from_files(store: Store, files: dict[str, str], emit: Emit, *, adapter: bool) -> list[layers.NewLayer]:
    """``convertModelFromFiles``: GGUF blobs as layers, or a safetensors model converted to one."""
    kind = _model_type(store, files)
    if kind == "safetensors":
        if adapter:
            raise Failed("converting safetensors adapters is not supported by pollama; import a GGUF adapter")
        return convert_files(store, files, emit)
    if kind != "gguf":
        raise BadRequest("unknown type")
    if not files:
        raise BadRequest("no files provided to convert")
    if adapter and len(files) > 1:
        raise BadRequest("only one adapter is currently supported")
    found = [_gguf_layer(store, files[p], p, emit) for p in sorted(files)]
    return detect_chat_template(store, found)  # Ollama runs detection for adapters too
