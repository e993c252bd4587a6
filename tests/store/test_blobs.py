"""Blob paths, atomic verified writes, hard-link import, fixBlobs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pollama.store.blobs import Blobs, DigestMismatchError, InvalidDigestError


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_path_accepts_both_spellings(tmp_path: Path) -> None:
    b = Blobs(tmp_path)
    hexd = "ab" * 32
    assert b.path(f"sha256:{hexd}") == tmp_path / f"sha256-{hexd}"
    assert b.path(f"sha256-{hexd}") == tmp_path / f"sha256-{hexd}"
    for bad in ["sha256:abc", "md5:" + hexd, "../../etc/passwd", "sha256:" + "g" * 64]:
        with pytest.raises(InvalidDigestError):
            b.path(bad)


def test_write_stream_verifies_and_renames(tmp_path: Path) -> None:
    b = Blobs(tmp_path / "blobs")
    data = b"hello world" * 1000
    ref = b.write_stream([data[:5], data[5:]], expected=sha(data))
    assert ref.digest == sha(data) and ref.size == len(data) and ref.created
    assert b.path(ref.digest).read_bytes() == data
    assert os.listdir(b.dir) == [f"sha256-{hashlib.sha256(data).hexdigest()}"]
    again = b.write_bytes(data)
    assert again.digest == ref.digest and not again.created


def test_digest_mismatch_leaves_nothing(tmp_path: Path) -> None:
    b = Blobs(tmp_path / "blobs")
    with pytest.raises(DigestMismatchError):
        b.write_bytes(b"abc", expected=sha(b"abd"))
    assert os.listdir(b.dir) == []


def test_error_mid_stream_leaves_nothing(tmp_path: Path) -> None:
    b = Blobs(tmp_path / "blobs")

    def chunks() -> object:
        yield b"part"
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        b.write_stream(chunks())  # type: ignore[arg-type]
    assert os.listdir(b.dir) == []


def test_import_file_hard_links(tmp_path: Path) -> None:
    b = Blobs(tmp_path / "blobs")
    src = tmp_path / "model.gguf"
    src.write_bytes(b"GGUF" + b"\0" * 100)
    ref = b.import_file(src)
    dest = b.path(ref.digest)
    assert dest.read_bytes() == src.read_bytes()
    assert os.stat(dest).st_ino == os.stat(src).st_ino  # same filesystem: linked, not copied
    assert sorted(os.listdir(b.dir)) == [dest.name]
    with pytest.raises(DigestMismatchError):
        b.import_file(src, expected=sha(b"other"))


def test_fix_names(tmp_path: Path) -> None:
    b = Blobs(tmp_path / "blobs")
    b.dir.mkdir()
    hexd = "cd" * 32
    (b.dir / f"sha256:{hexd}").write_bytes(b"x")
    (b.dir / "other:file").write_bytes(b"y")
    b.fix_names()
    assert sorted(os.listdir(b.dir)) == ["other:file", f"sha256-{hexd}"]
