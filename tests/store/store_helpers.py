"""Helpers for store tests that build fixtures by hand, without pollama code."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pollama.store.store import Store


def put_blob(store: Store, data: bytes) -> str:
    """Write a blob the way a hand-made fixture would (no pollama code), returning ``sha256:<hex>``."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store.blobs.dir.mkdir(parents=True, exist_ok=True)
    (store.blobs.dir / digest.replace(":", "-")).write_bytes(data)
    return digest


def age(path: Path, seconds: float) -> None:
    st = path.stat()
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))
