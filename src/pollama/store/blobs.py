"""Content-addressed blob files under ``<models>/blobs`` (``manifest/paths.go``, ``manifest/layer.go``).

Blobs are named ``sha256-<64 hex>``. Every write goes to a temp file in the same directory and is renamed
into place only after its sha256 is known (and checked, when the caller expects a digest), so a reader never
sees a partial blob and a failed write leaves nothing behind. Temp names start with ``sha256-`` like Ollama's,
so a crashed writer's leftovers fail the digest-name check and startup prune removes them after an hour.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_DIGEST_RE = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")
_CHUNK = 1 << 20


class InvalidDigestError(ValueError):
    """Not a ``sha256:<64 hex>`` digest (Ollama's ``ErrInvalidDigestFormat``)."""

    def __init__(self, digest: str) -> None:
        super().__init__(f"invalid digest format: {digest!r}")


class DigestMismatchError(ValueError):
    """The written bytes do not hash to the expected digest."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"digest mismatch, expected {expected!r}, got {actual!r}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class BlobRef:
    digest: str  # "sha256:<hex>"
    size: int
    created: bool  # False when an identical blob was already present


def is_valid_digest(digest: str) -> bool:
    return bool(_DIGEST_RE.match(digest))


def normalize_digest(digest: str) -> str:
    """``sha256-<hex>`` or ``sha256:<hex>`` → ``sha256:<hex>``; raises InvalidDigestError otherwise."""
    if not is_valid_digest(digest):
        raise InvalidDigestError(digest)
    return "sha256:" + digest[7:]


def iter_file(f: BinaryIO, chunk: int = _CHUNK) -> Iterator[bytes]:
    while block := f.read(chunk):
        yield block


class Blobs:
    """The ``blobs`` directory of a store."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def path(self, digest: str) -> Path:
        """``blobs/sha256-<hex>`` for a digest in either spelling."""
        return self.dir / normalize_digest(digest).replace(":", "-")

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def fix_names(self) -> None:
        """``fixBlobs``: rename files called ``sha256:<x>`` (older Ollama, or copied from Windows) to ``sha256-<x>``."""
        if not self.dir.is_dir():
            return
        for dirpath, _dirs, files in os.walk(self.dir):
            for name in files:
                typ, sep, rest = name.partition(":")
                if sep and typ == "sha256":
                    os.rename(os.path.join(dirpath, name), os.path.join(dirpath, f"sha256-{rest}"))

    def write_stream(self, chunks: Iterable[bytes], expected: str | None = None) -> BlobRef:
        """Store the concatenated ``chunks`` as a blob; verify against ``expected`` when given."""
        want = normalize_digest(expected) if expected is not None else None
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="sha256-", dir=self.dir)
        tmp = Path(tmp_name)
        try:
            h = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for block in chunks:
                    h.update(block)
                    out.write(block)
                    size += len(block)
            digest = "sha256:" + h.hexdigest()
            if want is not None and digest != want:
                raise DigestMismatchError(want, digest)
            return self._commit(tmp, digest, size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def write_bytes(self, data: bytes, expected: str | None = None) -> BlobRef:
        return self.write_stream([data], expected)

    def write_file(self, f: BinaryIO, expected: str | None = None) -> BlobRef:
        return self.write_stream(iter_file(f), expected)

    def import_file(self, src: Path, expected: str | None = None) -> BlobRef:
        """Add an existing file as a blob: hard link when on the same filesystem, copy otherwise.

        The file is hashed first (one read); linking then costs nothing, which matters for multi-GB GGUFs.
        """
        h = hashlib.sha256()
        with src.open("rb") as f:
            for block in iter_file(f):
                h.update(block)
        digest = "sha256:" + h.hexdigest()
        if expected is not None and normalize_digest(expected) != digest:
            raise DigestMismatchError(normalize_digest(expected), digest)
        size = src.stat().st_size
        dest = self.path(digest)
        if dest.is_file():
            _touch(dest)
            return BlobRef(digest, dest.stat().st_size, False)
        self.dir.mkdir(parents=True, exist_ok=True)
        # Link to a temp name first, then rename, so the final name appears atomically either way.
        tmp = self.dir / f"sha256-link-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            try:
                os.link(src, tmp)
            except OSError:
                with src.open("rb") as f:
                    return self.write_file(f, digest)
            # A link shares the user's inode: leave its permissions alone.
            return self._commit(tmp, digest, size, chmod=False)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _commit(self, tmp: Path, digest: str, size: int, chmod: bool = True) -> BlobRef:
        dest = self.path(digest)
        if dest.is_file():
            # Identical content already stored (another writer won); refresh mtime so prune's grace applies.
            _touch(dest)
            return BlobRef(digest, size, False)
        if chmod:
            os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
        _touch(dest)
        return BlobRef(digest, size, True)

    def remove(self, digest: str) -> bool:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True


def _touch(path: Path) -> None:
    # Ollama touches reused layers (touchLayer) so a blob just referenced is not pruned as stale.
    with contextlib.suppress(OSError):
        os.utime(path)
