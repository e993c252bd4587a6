"""Pull and push against a real registry (Debian's docker-registry, Distribution 2.8) through ``pollama serve``.

Each test uses servers with their own store and ``HOME`` (pulls delete, kill and overwrite models). Bytes the
registry serves are counted by a TCP proxy in front of it (``registry_helpers.CountingProxy``): the resume
test compares what the second pull fetched with what the killed pull had recorded on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest
from e2e_helpers import MODEL, Server
from registry_helpers import CountingProxy, Registry, write_random_model

from pollama.store.names import Name
from pollama.store.store import Store

MB = 1_000_000


class Own:
    """A server with its own store and HOME, restartable with the same environment."""

    def __init__(self, start_server: Callable[..., Server], root: Path) -> None:
        self.models = root / "models"
        self.env = {"OLLAMA_MODELS": str(self.models), "HOME": str(root / "home")}
        self._start = start_server
        self.server = start_server(**self.env)
        self.store = Store(self.models)

    def restart(self) -> None:
        self.server = self._start(**self.env)


@pytest.fixture(scope="module")
def own(start_server: Callable[..., Server], tmp_path_factory: pytest.TempPathFactory) -> Own:
    return Own(start_server, tmp_path_factory.mktemp("own"))


def stream(server: Server, path: str, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    with httpx.stream("POST", server.url + path, json=body, timeout=600) as r:
        lines = [json.loads(line) for line in r.iter_lines() if line]
    return r.status_code, lines


def statuses(lines: list[dict[str, Any]]) -> list[str]:
    """Distinct statuses in order (progress repeats collapsed)."""
    out: list[str] = []
    for line in lines:
        s = line.get("status") or "error: " + line.get("error", "")
        if not out or out[-1] != s:
            out.append(s)
    return out


def test_push_then_pull_back_and_run(own: Own, registry: Registry) -> None:
    name = f"{registry.host}/library/gemma3:270m"
    own.store.copy(Name.parse(MODEL), Name.parse(name))
    original = own.store.load(Name.parse(name))
    assert original is not None
    digests = [layer.digest for layer in original.manifest.all_layers()]

    code, lines = stream(own.server, "/api/push", {"model": name, "insecure": True})
    assert code == 200
    st = statuses(lines)
    assert st[0] == "retrieving manifest" and st[-2:] == ["pushing manifest", "success"]
    assert [s for s in st if s.startswith("pushing ") and s != "pushing manifest"] == [
        f"pushing {d[7:19]}" for d in digests
    ]
    last = {line["digest"]: line for line in lines if "digest" in line}
    assert all(last[d]["completed"] == last[d]["total"] for d in digests)
    served = httpx.get(
        f"{registry.url}/v2/library/gemma3/manifests/270m",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    ).content
    assert [layer["digest"] for layer in json.loads(served)["layers"]] == digests[:-1]

    for n in (name, MODEL):
        assert own.store.delete(Name.parse(n))
    assert not any(own.store.blobs.exists(d) for d in digests)

    code, lines = stream(own.server, "/api/pull", {"model": name, "insecure": True})
    assert code == 200
    st = statuses(lines)
    assert st[0] == "pulling manifest"
    assert st[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    assert [s for s in st if s.startswith("pulling ") and s != "pulling manifest"] == [
        f"pulling {d[7:19]}" for d in digests
    ]
    big = next(line for line in lines if line.get("digest") == digests[0] and line.get("completed"))
    assert big["total"] == original.manifest.layers[0].size
    # Stored byte for byte as served; every blob hashes to its name.
    assert own.store.manifest_path(Name.parse(name)).read_bytes() == served
    for d in digests:
        assert "sha256:" + hashlib.sha256(own.store.blobs.path(d).read_bytes()).hexdigest() == d
    assert not list(own.store.blobs.dir.glob("*partial*"))

    r = httpx.post(
        own.server.url + "/api/generate",
        json={"model": name, "prompt": "Hello", "stream": False, "options": {"num_predict": 3}},
        timeout=300,
    )
    assert r.status_code == 200, r.text
    assert r.json()["eval_count"] > 0


def test_official_client_push_and_pull(own: Own, registry: Registry) -> None:
    name = f"{registry.host}/client/rand:v1"
    manifest = write_random_model(own.models, name, 2 * MB, seed=1)
    client = ollama.Client(host=own.server.url)
    assert client.push(name, insecure=True).status == "success"
    own.store.delete(Name.parse(name))
    assert not own.store.blobs.exists(manifest.layers[0].digest)
    progress = list(client.pull(name, insecure=True, stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    assert own.store.blobs.exists(manifest.layers[0].digest)
    # (/api/tags is not asked: it parses weights as GGUF, and these are random bytes.)
    assert own.store.manifest_path(Name.parse(name)).is_file()


def test_pull_unknown_model(own: Own, registry: Registry) -> None:
    name = f"{registry.host}/library/nothing-here:latest"
    code, lines = stream(own.server, "/api/pull", {"model": name, "insecure": True})
    assert code == 200
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    r = httpx.post(own.server.url + "/api/pull", json={"model": name, "insecure": True, "stream": False})
    assert (r.status_code, r.json()) == (500, {"error": "pull model manifest: file does not exist"})


def test_http_scheme_needs_insecure(own: Own, registry: Registry) -> None:
    r = httpx.post(own.server.url + "/api/pull", json={"model": f"http://{registry.host}/library/x:latest"})
    assert (r.status_code, r.json()) == (500, {"error": "insecure protocol http"})
    r = httpx.post(own.server.url + "/api/pull", json={"model": "a/b/c/d/e"})
    assert (r.status_code, r.json()) == (400, {"error": "invalid model name"})


def test_corrupt_registry_blob_is_a_digest_error(own: Own, registry: Registry) -> None:
    name = f"{registry.host}/library/corrupt:latest"
    manifest = write_random_model(own.models, name, 1 * MB, seed=2)
    assert stream(own.server, "/api/push", {"model": name, "insecure": True})[1][-1] == {"status": "success"}
    own.store.delete(Name.parse(name))
    digest = manifest.layers[0].digest
    data = registry.blob_data(digest)
    raw = bytearray(data.read_bytes())
    raw[1000] ^= 0xFF
    data.write_bytes(bytes(raw))
    got = "sha256:" + hashlib.sha256(raw).hexdigest()

    _, lines = stream(own.server, "/api/pull", {"model": name, "insecure": True})
    assert statuses(lines)[-2:] == [
        "verifying sha256 digest",
        f"error: digest mismatch, file must be downloaded again: want {digest}, got {got}",
    ]
    assert own.store.load(Name.parse(name)) is None
    assert not own.store.blobs.exists(digest)
    assert not list(own.store.blobs.dir.glob(f"{digest.replace(':', '-')}*"))


def test_pull_prunes_previous_layers_of_the_tag(own: Own, registry: Registry) -> None:
    name = f"{registry.host}/library/retag:latest"
    new = write_random_model(own.models, name, 1 * MB, seed=3)
    assert stream(own.server, "/api/push", {"model": name, "insecure": True})[1][-1] == {"status": "success"}
    old = write_random_model(own.models, name, 1 * MB, seed=4)  # the local tag now points at older weights
    _, lines = stream(own.server, "/api/pull", {"model": name, "insecure": True})
    assert statuses(lines)[-3:] == ["writing manifest", "removing unused layers", "success"]
    assert not own.store.blobs.exists(old.layers[0].digest)
    assert own.store.blobs.exists(new.layers[0].digest)


def test_concurrent_pulls_share_one_download(own: Own, registry: Registry, proxy: CountingProxy) -> None:
    name = f"{proxy.host}/library/shared:latest"
    manifest = write_random_model(own.models, name, 8 * MB, seed=5)
    assert stream(own.server, "/api/push", {"model": name, "insecure": True})[1][-1] == {"status": "success"}
    own.store.delete(Name.parse(name))
    big = manifest.layers[0].digest
    proxy.reset()
    proxy.hold(after=2 * MB)
    results: list[list[dict[str, Any]]] = [[], []]
    second_waiting = threading.Event()

    def pull(i: int) -> None:
        with httpx.stream(
            "POST", own.server.url + "/api/pull", json={"model": name, "insecure": True}, timeout=600
        ) as r:
            for line in r.iter_lines():
                results[i].append(json.loads(line))
                if i == 1 and results[i][-1].get("digest") == big:
                    second_waiting.set()

    threads = [threading.Thread(target=pull, args=(0,))]
    threads[0].start()
    assert proxy.held.wait(120)
    threads.append(threading.Thread(target=pull, args=(1,)))
    threads[1].start()
    assert second_waiting.wait(120)
    proxy.release()
    for t in threads:
        t.join(300)
    assert results[0][-1] == results[1][-1] == {"status": "success"}
    # One copy of the weights went over the wire (plus headers and the small config blob).
    assert manifest.size <= proxy.down < manifest.size + 64_000


def test_pull_resumes_after_kill(own: Own, registry: Registry, proxy: CountingProxy) -> None:
    name = f"{proxy.host}/library/resume:latest"
    size = 130 * MB  # two parts (100 MB + 30 MB)
    manifest = write_random_model(own.models, name, size, seed=6)
    assert stream(own.server, "/api/push", {"model": name, "insecure": True})[1][-1] == {"status": "success"}
    own.store.delete(Name.parse(name))
    big = own.store.blobs.path(manifest.layers[0].digest)

    proxy.reset()
    proxy.hold(after=50 * MB)

    def first_pull() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
            stream(own.server, "/api/pull", {"model": name, "insecure": True})

    t = threading.Thread(target=first_pull)
    t.start()
    assert proxy.held.wait(120)
    own.server.proc.kill()
    own.server.proc.wait()
    t.join(60)
    states = [json.loads(p.read_bytes()) for p in big.parent.glob(big.name + "-partial-*")]
    assert sorted(s["N"] for s in states) == [0, 1]
    recorded = sum(s["Completed"] for s in states)
    assert 0 < recorded < size
    assert Path(f"{big}-partial").stat().st_size == size

    proxy.release()
    proxy.reset()
    own.restart()  # startup prune must leave the fresh partial alone
    _, lines = stream(own.server, "/api/pull", {"model": name, "insecure": True})
    assert lines[-1] == {"status": "success"}
    assert "sha256:" + hashlib.sha256(big.read_bytes()).hexdigest() == manifest.layers[0].digest
    # Exactly the bytes not recorded on disk were fetched again (plus headers, and the small config blob).
    remaining = manifest.size - recorded
    assert remaining <= proxy.down < remaining + 16_000
    assert not list(big.parent.glob("*partial*"))


def test_push_mounts_layers_from_the_model_they_came_from(
    start_server: Callable[..., Server], tmp_path: Path, registry: Registry, proxy: CountingProxy
) -> None:
    server = start_server(OLLAMA_MODELS=str(tmp_path / "models"), HOME=str(tmp_path / "home"))
    store = Store(tmp_path / "models")
    base = f"{proxy.host}/mnt/base:v1"
    derived = f"{proxy.host}/mnt/derived:v1"
    store.copy(Name.parse(MODEL), Name.parse(base))
    assert stream(server, "/api/push", {"model": base, "insecure": True})[1][-1] == {"status": "success"}
    # A model created from the pushed one: its layers name it as their source ("from").
    created = httpx.post(
        server.url + "/api/create",
        json={"model": derived, "from": base, "system": "Be brief.", "stream": False},
        timeout=300,
    )
    assert created.json() == {"status": "success"}
    weights = store.resolve(derived)
    assert weights is not None and weights.manifest.layers[0].from_
    proxy.reset()
    code, lines = stream(server, "/api/push", {"model": derived, "insecure": True})
    assert code == 200 and lines[-1] == {"status": "success"}
    # The 253 MB of weights were mounted from mnt/base inside the registry, not sent again.
    assert proxy.up < 1 * MB
    head = httpx.head(f"{registry.url}/v2/mnt/derived/blobs/{weights.manifest.layers[0].digest}")
    assert head.status_code == 200
