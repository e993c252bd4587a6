"""``/api/create`` end to end: from an existing model, from uploaded GGUF blobs, progress statuses, config and
layer blobs as Ollama writes them, errors, pruning. Uses the official ``ollama`` client where it can.

``tiny_gguf`` writes a loadable llama-architecture GGUF (random weights, a byte-fallback SPM vocab) that
``test_quantize.py`` also uses.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import ollama
import pytest
from e2e_helpers import MODEL, Server

CHATML_JINJA = (
    "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}{% endif %}"
    "{% if system_message is defined %}{{ system_message }}{% endif %}{% for message in messages %}"
    "{% set content = message['content'] %}{% if message['role'] == 'user' %}"
    "{{ '<|im_start|>user\\n' + content + '<|im_end|>\\n<|im_start|>assistant\\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ content + '<|im_end|>' + '\\n' }}{% endif %}{% endfor %}"
)


def tiny_gguf(path: Path, *, chat_template: str | None = CHATML_JINJA, seed: int = 0) -> Path:
    """A 1-block llama model in F16 (rows of 256 so K-quants apply), about 1 MB."""
    import gguf

    rng = np.random.default_rng(seed)
    n_embd, n_ff, n_head = 256, 512, 4
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)] + ["▁", "▁hello", "a", "b"]
    types = [2, 3, 3] + [6] * 256 + [1] * 4
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny")
    w.add_context_length(128)
    w.add_embedding_length(n_embd)
    w.add_block_count(1)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(1)  # MOSTLY_F16
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * len(tokens))
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    if chat_template is not None:
        w.add_chat_template(chat_template)

    def mat(rows: int, cols: int) -> np.ndarray[Any, Any]:
        return (rng.standard_normal((rows, cols)) * 0.05).astype(np.float16)

    w.add_tensor("token_embd.weight", mat(len(tokens), n_embd))
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    w.add_tensor("output.weight", mat(len(tokens), n_embd))
    w.add_tensor("blk.0.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
    for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
        w.add_tensor(f"blk.0.{t}.weight", mat(n_embd, n_embd))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
    w.add_tensor("blk.0.ffn_gate.weight", mat(n_ff, n_embd))
    w.add_tensor("blk.0.ffn_up.weight", mat(n_ff, n_embd))
    w.add_tensor("blk.0.ffn_down.weight", mat(n_embd, n_ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def upload(server: Server, path: Path) -> str:
    data = path.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = httpx.post(f"{server.url}/api/blobs/{digest}", content=data, timeout=60)
    assert r.status_code in (200, 201), r.text
    return digest


def create_lines(server: Server, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    r = httpx.post(f"{server.url}/api/create", json=body, timeout=600)
    return r.status_code, [json.loads(line) for line in r.text.splitlines() if line.strip()]


def blob(models_dir: Path, digest: str) -> bytes:
    return (models_dir / "blobs" / digest.replace(":", "-")).read_bytes()


def manifest(models_dir: Path, name: str, tag: str = "latest") -> dict[str, Any]:
    path = models_dir / "manifests" / "registry.ollama.ai" / "library" / name / tag
    result: dict[str, Any] = json.loads(path.read_bytes())
    return result


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_create_from_model_with_client(server: Server, models_dir: Path) -> None:
    client = ollama.Client(host=server.url)
    progress = list(
        client.create(
            "lc-from",
            from_=MODEL,
            system="You are terse.",
            parameters={"temperature": 0.25, "stop": ["<end>"]},
            license="MIT",
            messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
            stream=True,
        )
    )
    statuses = [p.status for p in progress]
    assert statuses[-2:] == ["writing manifest", "success"]
    assert any(s is not None and s.startswith("using existing layer sha256:") for s in statuses)
    assert any(s is not None and s.startswith("creating new layer sha256:") for s in statuses)
    try:
        shown = client.show("lc-from")
        assert shown.license is not None and shown.license.endswith("\nMIT")  # added to the base license
        assert shown.details.parent_model == "gemma3:270m"
        assert shown.details.family == "gemma3"
        assert shown.parameters is not None and "temperature" in shown.parameters
        assert shown.modelfile is not None and 'SYSTEM "You are terse."' not in shown.modelfile
        assert "SYSTEM You are terse." in shown.modelfile
        raw = httpx.post(f"{server.url}/api/show", json={"model": "lc-from"}).json()
        assert raw["system"] == "You are terse."
        assert raw["messages"] == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        m = manifest(models_dir, "lc-from")
        by_type = {layer["mediaType"].rsplit(".", 1)[1]: layer for layer in m["layers"]}
        assert by_type["model"]["from"] == "gemma3:270m"
        assert blob(models_dir, by_type["system"]["digest"]) == b"You are terse."
        params = json.loads(blob(models_dir, by_type["params"]["digest"]))
        assert params["temperature"] == 0.25 and params["stop"] == ["<end>"]
        assert "top_k" in params  # the base model's parameters are merged in
        assert blob(models_dir, by_type["messages"]["digest"]) == (
            b'[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]\n'
        )
        digests = [layer["digest"] for layer in m["layers"]]
        assert len(digests) == len(set(digests))
        config = json.loads(blob(models_dir, m["config"]["digest"]))
        assert (config["model_format"], config["architecture"], config["os"]) == ("gguf", "amd64", "linux")
        assert config["file_type"] == "Q4_K_M" and config["model_type"]
    finally:
        client.delete("lc-from")


def test_create_from_files_autodetects_template(server: Server, models_dir: Path, tiny: Path) -> None:
    digest = upload(server, tiny)
    status, lines = create_lines(server, {"model": "lc-files", "files": {"tiny.gguf": digest}})
    try:
        assert status == 200
        statuses = [line["status"] for line in lines]
        assert statuses[0] == "parsing GGUF"
        assert f"using existing layer {digest}" in statuses
        assert "using autodetected template chatml" in statuses
        assert statuses[-2:] == ["writing manifest", "success"]
        m = manifest(models_dir, "lc-files")
        model_layer = m["layers"][0]
        assert model_layer == {
            "mediaType": "application/vnd.ollama.image.model",
            "digest": digest,
            "size": tiny.stat().st_size,
            "from": "tiny.gguf",
        }
        config_bytes = blob(models_dir, m["config"]["digest"])
        assert config_bytes.endswith(b"\n")
        config = json.loads(config_bytes)
        assert config == {
            "model_format": "gguf",
            "model_family": "llama",
            "model_families": ["llama"],
            "model_type": config["model_type"],
            "file_type": "F16",
            "architecture": "amd64",
            "os": "linux",
        }
        assert config["model_type"].endswith("K") or config["model_type"].endswith("M")
        shown = httpx.post(f"{server.url}/api/show", json={"model": "lc-files"}).json()
        assert shown["template"].startswith("{{- range .Messages }}") or "<|im_start|>" in shown["template"]
        params = json.loads(blob(models_dir, m["layers"][2]["digest"]))
        assert params == {"stop": ["<|im_start|>", "<|im_end|>"]}
    finally:
        httpx.request("DELETE", f"{server.url}/api/delete", json={"model": "lc-files"})


def test_recreate_prunes_replaced_layers(server: Server, models_dir: Path) -> None:
    client = ollama.Client(host=server.url)
    client.create("lc-prune", from_=MODEL, system="first system prompt")
    try:
        layers = manifest(models_dir, "lc-prune")["layers"]
        old_system = next(x for x in layers if x["mediaType"].endswith("system"))
        # The base parameters are re-encoded as Go encodes them: the same bytes, so the same blob as gemma3's.
        base = manifest(models_dir, "gemma3", "270m")["layers"]
        params = [x["digest"] for x in layers + base if x["mediaType"].endswith("params")]
        assert len(params) == 2 and params[0] == params[1]
        assert (models_dir / "blobs" / old_system["digest"].replace(":", "-")).exists()
        client.create("lc-prune", from_=MODEL, system="second system prompt")
        assert not (models_dir / "blobs" / old_system["digest"].replace(":", "-")).exists()
        shown = httpx.post(f"{server.url}/api/show", json={"model": "lc-prune"}).json()
        assert shown["system"] == "second system prompt"
    finally:
        client.delete("lc-prune")


def test_noprune_keeps_replaced_layers(start_server: Any, models_dir: Path) -> None:
    srv: Server = start_server(OLLAMA_NOPRUNE="1")
    client = ollama.Client(host=srv.url)
    try:
        client.create("lc-noprune", from_=MODEL, system="kept system prompt one")
        old = next(x for x in manifest(models_dir, "lc-noprune")["layers"] if x["mediaType"].endswith("system"))
        client.create("lc-noprune", from_=MODEL, system="kept system prompt two")
        assert (models_dir / "blobs" / old["digest"].replace(":", "-")).exists()
    finally:
        client.delete("lc-noprune")
        srv.stop()


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"model": "lc-x"}, 400, "neither 'from' or 'files' was specified"),
        ({"model": "bad name!", "from": MODEL}, 400, "invalid model name"),
        ({"model": "lc-x", "files": {"../x.gguf": "sha256:" + "0" * 64}}, 400, "file path must be relative"),
        ({"model": "lc-x", "files": {"x.gguf": ""}}, 400, "invalid digest format"),
        (
            {"model": "lc-x", "from": MODEL, "template": "{{ .Prompt"},
            400,
            "template error: template: :1: unclosed action",
        ),
        ({"model": "lc-x", "from": MODEL, "quantize": "q2_k"}, 500, "unsupported quantization type Q2_K"),
        ({"model": "lc-x", "from": MODEL, "quantize": "q8_0"}, 500, "quantization is only supported for F16, BF16"),
        ({"model": "lc-x", "from": "missing-model-xyz"}, 500, "pull model manifest: "),
        ({"model": "lc-x", "from": MODEL, "parameters": {"temperature": "hot"}}, 400, "must be of type float32"),
        ({"model": 5}, 400, "json: cannot unmarshal number into Go struct field CreateRequest.model of type string"),
    ],
)
def test_create_errors(server: Server, body: dict[str, Any], status: int, error: str) -> None:
    r = httpx.post(f"{server.url}/api/create", json={**body, "stream": False}, timeout=60)
    assert r.status_code == status, r.text
    assert error in r.json()["error"]
    assert httpx.post(f"{server.url}/api/show", json={"model": "lc-x"}).status_code == 404


def test_create_error_with_client(server: Server) -> None:
    client = ollama.Client(host=server.url)
    with pytest.raises(ollama.ResponseError) as e:
        client.create("lc-y", from_=MODEL, template="{{ if }}")
    assert e.value.status_code == 400
    assert e.value.error.startswith("template error: ")


def test_create_from_non_gguf_blob(server: Server, tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_bytes(b"not a gguf file at all")
    digest = upload(server, text)
    status, lines = create_lines(server, {"model": "lc-z", "files": {"notes.gguf": digest}})
    assert status == 200  # "parsing GGUF" was already sent, so the error arrives in-band
    assert lines[0] == {"status": "parsing GGUF"}
    assert lines[-1] == {"error": "supplied file was not in GGUF format"}
