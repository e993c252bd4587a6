"""Create from a Hugging Face safetensors directory (``server/create.go: convertFromSafetensors``): the uploaded
blobs are linked under their file names into a temporary directory inside the store, converted to one F16 GGUF
by ``pollama.convert``, and that GGUF becomes the model layer (quantized afterwards if the request asks)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from pollama.api.responses import Progress
from pollama.convert import ConvertError, convert_model
from pollama.create import layers
from pollama.errors import BadRequest, Failed
from pollama.store.gguf_info import read_gguf
from pollama.store.manifest import MEDIA_TYPE_MODEL
from pollama.store.store import Store

FILE_PATH_ERROR = "file path must be relative"


def _valid_path(name: str) -> bool:
    """Go's ``fs.ValidPath``: relative, slash-separated, no empty, ``.`` or ``..`` elements."""
    if name == ".":
        return True
    if not name or name.startswith("/") or name.endswith("/") or "\\" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def convert_files(store: Store, files: dict[str, str], emit: Callable[[Progress], None]) -> list[layers.NewLayer]:
    """The safetensors model in ``files`` (file name → uploaded blob digest) as one new GGUF model layer."""
    store.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.root, prefix="ollama-safetensors") as tmp:
        root = Path(tmp)
        for name, digest in sorted(files.items()):
            if not _valid_path(name):
                raise BadRequest(f"{FILE_PATH_ERROR}: {name}")
            try:
                blob = store.blobs.path(digest)
            except ValueError:
                raise Failed("invalid digest format") from None
            if not blob.is_file():
                raise Failed(f"open {blob}: no such file or directory")
            _link(blob, root.joinpath(*PurePosixPath(name).parts))
        emit(Progress("converting model"))
        out = root / "model.gguf"
        try:
            convert_model(root, out)
        except ConvertError as e:
            # Ollama returns the converter's error as create's (a 500 when not streamed).
            raise Failed(str(e)) from None
        nl = layers.from_file(store, out, MEDIA_TYPE_MODEL)
    info = read_gguf(store.blobs.path(nl.digest))
    return [layers.NewLayer(nl.layer, nl.status, info, from_files=True)]
