"""``HEAD``/``POST /api/blobs/:digest`` against a real server: status codes, bodies, digest checks, streaming."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_helpers import Server


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_path(models_dir: Path, digest: str) -> Path:
    return models_dir / "blobs" / digest.replace(":", "-")


def test_head_missing_then_upload_then_exists(server: Server, models_dir: Path) -> None:
    data = os.urandom(1000)
    digest = digest_of(data)
    r = httpx.head(f"{server.url}/api/blobs/{digest}")
    assert r.status_code == 404
    r = httpx.post(f"{server.url}/api/blobs/{digest}", content=data)
    assert (r.status_code, r.content) == (201, b"")
    assert blob_path(models_dir, digest).read_bytes() == data
    assert httpx.head(f"{server.url}/api/blobs/{digest}").status_code == 200
    r = httpx.post(f"{server.url}/api/blobs/{digest}", content=data)
    assert (r.status_code, r.content) == (200, b"")


def test_missing_blob_body_for_get_style_clients(server: Server) -> None:
    digest = "sha256:" + "1" * 64
    # HEAD carries no body on the wire; the JSON error is what Ollama's handler produces.
    r = httpx.request("HEAD", f"{server.url}/api/blobs/{digest}")
    assert r.status_code == 404


@pytest.mark.parametrize("method", ["HEAD", "POST"])
@pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "0" * 64, "sha256:" + "g" * 64])
def test_invalid_digest(server: Server, method: str, digest: str) -> None:
    r = httpx.request(method, f"{server.url}/api/blobs/{digest}", content=b"x")
    assert r.status_code == 400
    if method == "POST":
        assert r.json() == {"error": "invalid digest format"}


def test_digest_mismatch(server: Server, models_dir: Path) -> None:
    data = os.urandom(100)
    wrong = "sha256:" + "2" * 64
    r = httpx.post(f"{server.url}/api/blobs/{wrong}", content=data)
    assert r.status_code == 400
    assert r.json() == {"error": f'digest mismatch, expected "{wrong}", got "{digest_of(data)}"'}
    assert not blob_path(models_dir, wrong).exists()
    # As in Ollama, the content is kept under its real digest.
    assert blob_path(models_dir, digest_of(data)).read_bytes() == data


def test_streamed_upload_leaves_no_temp_files(server: Server, models_dir: Path) -> None:
    chunk = os.urandom(1 << 20)
    data = chunk * 8
    digest = digest_of(data)

    def body() -> Iterator[bytes]:
        for _ in range(8):
            yield chunk

    before = {p.name for p in (models_dir / "blobs").iterdir()}
    r = httpx.post(f"{server.url}/api/blobs/{digest}", content=body(), timeout=120)
    assert r.status_code == 201
    after = {p.name for p in (models_dir / "blobs").iterdir()}
    assert after - before == {digest.replace(":", "-")}
    assert blob_path(models_dir, digest).stat().st_size == len(data)


def test_dash_digest_form_is_accepted_for_lookup(server: Server) -> None:
    data = os.urandom(64)
    digest = digest_of(data)
    assert httpx.post(f"{server.url}/api/blobs/{digest}", content=data).status_code == 201
    assert httpx.head(f"{server.url}/api/blobs/{digest.replace(':', '-')}").status_code == 200
