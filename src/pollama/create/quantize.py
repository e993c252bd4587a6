"""The quantize step of create (``server/create.go: quantizeLayer``, ``server/quantization.go``).

llama.cpp's quantizer runs in a subprocess (``pollama.runner.quantize``) so an abort inside it cannot kill the
server. Its per-tensor progress becomes Ollama's ``quantizing F16 model to Q4_K_M`` statuses (with the fixed
digest ``0000000000000000000``, ``total`` = the source layer size), then ``verifying conversion``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from pollama.api.responses import Progress
from pollama.create import layers
from pollama.errors import Failed
from pollama.store.gguf_info import read_gguf
from pollama.store.store import Store

log = logging.getLogger("pollama.create")

SUPPORTED = {"F32", "F16", "Q8_0", "Q4_K_S", "Q4_K_M", "Q4_K", "BF16"}
UNQUANTIZED = ("F16", "BF16", "F32")
# The llama_ftype name each accepted spelling stands for (Q4_K is an alias of Q4_K_M).
CANONICAL = {"Q4_K": "Q4_K_M"}
PROGRESS_DIGEST = "0000000000000000000"


def check_type(quant_type: str) -> str:
    """``ggml.ParseFileType``: the canonical type name, or Ollama's error for an unsupported one."""
    if quant_type not in SUPPORTED:
        raise Failed(f"unsupported quantization type {quant_type} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0")
    return CANONICAL.get(quant_type, quant_type)


def quantize_layer(
    store: Store, layer: layers.NewLayer, quant_type: str, emit: Callable[[Progress], None]
) -> layers.NewLayer:
    """Quantize ``layer``'s GGUF to ``quant_type``; the result is a new model layer (without ``from``)."""
    assert layer.gguf is not None
    source = store.blobs.path(layer.digest)
    size = layer.layer.size
    status = f"quantizing {layer.gguf.file_type_name} model to {quant_type}"
    store.blobs.dir.mkdir(parents=True, exist_ok=True)
    # "sha256-" prefix: a crashed run leaves a name that startup prune recognises as stale.
    fd, tmp_name = tempfile.mkstemp(prefix="sha256-quantize-", dir=store.blobs.dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pollama.runner.quantize", str(source), tmp_name, quant_type],
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            assert proc.stdout is not None
            last = -1
            for raw in proc.stdout:
                parts = raw.split()
                if len(parts) != 3 or parts[0] != b"progress":
                    continue
                done, total = int(parts[1]), int(parts[2])
                completed = size * done // total if total else 0
                if completed > last:
                    last = completed
                    emit(Progress(status, PROGRESS_DIGEST, size, completed))
            rc = proc.wait()
            if rc != 0:
                errors.seek(0)
                log.error("quantize failed (%d): %s", rc, errors.read().decode(errors="replace")[-2000:])
                raise Failed(f"llama-quantize failed: exit status {rc}")
        emit(Progress("verifying conversion"))
        new = layers.from_file(store, tmp, layer.media_type)
        return layers.NewLayer(new.layer, new.status, read_gguf(store.blobs.path(new.digest)))
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
