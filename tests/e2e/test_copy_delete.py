"""``/api/copy`` and ``/api/delete`` end to end, with the official client and raw HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import ollama
import pytest
from e2e_helpers import MODEL, Server


def names(server: Server) -> set[str]:
    return {m["name"] for m in httpx.get(f"{server.url}/api/tags").json()["models"]}


def test_copy_then_delete_with_client(server: Server, models_dir: Path) -> None:
    client = ollama.Client(host=server.url)
    client.copy(MODEL, "lc-copy:v1")
    try:
        assert "lc-copy:v1" in names(server)
        src = models_dir / "manifests/registry.ollama.ai/library/gemma3/270m"
        dst = models_dir / "manifests/registry.ollama.ai/library/lc-copy/v1"
        assert dst.read_bytes() == src.read_bytes()
        assert client.show("lc-copy:v1").details.family == "gemma3"
    finally:
        client.delete("lc-copy:v1")
    assert "lc-copy:v1" not in names(server)
    assert not (models_dir / "manifests/registry.ollama.ai/library/lc-copy").exists()
    # The shared blobs are still used by the original.
    for layer in json.loads(src.read_bytes())["layers"]:
        assert (models_dir / "blobs" / layer["digest"].replace(":", "-")).exists()
    assert MODEL in names(server)


def test_delete_removes_unshared_blobs_and_unloads(server: Server, models_dir: Path) -> None:
    client = ollama.Client(host=server.url)
    client.create("lc-del", from_=MODEL, system="a system prompt only lc-del has")
    m = json.loads((models_dir / "manifests/registry.ollama.ai/library/lc-del/latest").read_bytes())
    system = next(x for x in m["layers"] if x["mediaType"].endswith("system"))
    client.delete("lc-del")
    assert not (models_dir / "blobs" / system["digest"].replace(":", "-")).exists()
    # The config is byte-identical to gemma3's own (same family, size, file type), so it is shared and stays.
    base = json.loads((models_dir / "manifests/registry.ollama.ai/library/gemma3/270m").read_bytes())
    assert m["config"]["digest"] == base["config"]["digest"]
    assert (models_dir / "blobs" / m["config"]["digest"].replace(":", "-")).exists()
    model_layer = next(x for x in m["layers"] if x["mediaType"].endswith("model"))
    assert (models_dir / "blobs" / model_layer["digest"].replace(":", "-")).exists()  # gemma3 still uses it


def test_delete_running_model_unloads_it(server: Server, tmp_path: Path) -> None:
    from test_create import create_lines, tiny_gguf, upload

    digest = upload(server, tiny_gguf(tmp_path / "del.gguf", seed=7))
    status, _ = create_lines(server, {"model": "lc-del-running", "files": {"m.gguf": digest}, "stream": False})
    assert status == 200
    r = httpx.post(
        f"{server.url}/api/generate",
        json={"model": "lc-del-running", "prompt": "hi", "stream": False, "options": {"num_predict": 1}},
        timeout=300,
    )
    assert r.status_code == 200, r.text
    assert "lc-del-running:latest" in {m["name"] for m in httpx.get(f"{server.url}/api/ps").json()["models"]}
    assert httpx.request("DELETE", f"{server.url}/api/delete", json={"model": "lc-del-running"}).status_code == 200
    assert "lc-del-running:latest" not in {m["name"] for m in httpx.get(f"{server.url}/api/ps").json()["models"]}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"source": "nope-missing", "destination": "lc-c"}, 404, 'model "nope-missing" not found'),
        ({"source": "bad name!", "destination": "lc-c"}, 400, 'source "bad name!" is invalid'),
        ({"source": MODEL, "destination": "bad:na:me"}, 400, 'destination "bad:na:me" is invalid'),
    ],
)
def test_copy_errors(server: Server, body: dict[str, str], status: int, error: str) -> None:
    r = httpx.post(f"{server.url}/api/copy", json=body)
    assert (r.status_code, r.json()) == (status, {"error": error})


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"model": "nope-missing"}, 404, "model 'nope-missing' not found"),
        ({"name": "Nope-Missing:X"}, 404, "model 'Nope-Missing:X' not found"),
        ({"model": "bad name!"}, 400, 'name "bad name!" is invalid'),
        ({"model": ""}, 400, 'name "" is invalid'),
    ],
)
def test_delete_errors(server: Server, body: dict[str, str], status: int, error: str) -> None:
    r = httpx.request("DELETE", f"{server.url}/api/delete", json=body)
    assert (r.status_code, r.json()) == (status, {"error": error})


def test_delete_with_client_missing(server: Server) -> None:
    with pytest.raises(ollama.ResponseError) as e:
        ollama.Client(host=server.url).delete("nope-missing")
    assert e.value.status_code == 404


def test_delete_is_case_insensitive(server: Server) -> None:
    client = ollama.Client(host=server.url)
    client.copy(MODEL, "lc-case")
    client.delete("LC-Case:LATEST")
    assert "lc-case:latest" not in names(server)


def test_copy_and_delete_empty_body(server: Server) -> None:
    assert httpx.post(f"{server.url}/api/copy", content=b"").json() == {"error": "missing request body"}
    r = httpx.request("DELETE", f"{server.url}/api/delete", content=b"")
    assert (r.status_code, r.json()) == (400, {"error": "missing request body"})
