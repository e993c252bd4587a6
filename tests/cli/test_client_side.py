"""Client-side work that needs no server: the Modelfile turned into a create request and its uploads, the
embedding printout, and the REPL's input handling (multi-line, ``/set``, ``/clear``) on a canned client."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from pollama.cli import run, transfer
from pollama.cli.client import CLIError
from pollama.cli.repl import Repl


def test_modelfile_defaults_to_from_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    modelfile, folder = transfer.read_modelfile(None)
    assert str(modelfile) == "FROM .\n" and folder == str(tmp_path)
    with pytest.raises(CLIError, match="specified Modelfile wasn't found"):
        transfer.read_modelfile(str(tmp_path / "missing"))


def test_build_request_hashes_local_files_by_name(tmp_path: Path) -> None:
    weights = tmp_path / "weights" / "model.gguf"
    weights.parent.mkdir()
    weights.write_bytes(b"GGUF" + b"\0" * 60)
    adapter = tmp_path / "lora.gguf"
    adapter.write_bytes(b"GGUF" + b"\1" * 60)
    (tmp_path / "Modelfile").write_text("FROM ./weights/model.gguf\nADAPTER ./lora.gguf\nPARAMETER top_k 5\n")
    modelfile, folder = transfer.read_modelfile(str(tmp_path / "Modelfile"))
    req, uploads = transfer.build_request("mine", modelfile, folder, "q4_K_M")
    digest = "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest()
    assert req["files"] == {"model.gguf": digest}
    assert list(req["adapters"]) == ["lora.gguf"]
    assert (req["model"], req["quantize"], req["parameters"]) == ("mine", "q4_K_M", {"top_k": 5})
    assert uploads[str(weights)] == digest and len(uploads) == 2
    with pytest.raises(CLIError, match="--draft-quantize requires a DRAFT model"):
        transfer.build_request("mine", modelfile, folder, draft_quantize="q8_0")


def test_request_file_names_are_relative_to_the_common_folder(tmp_path: Path) -> None:
    files = {str(tmp_path / "m" / "a.safetensors"): "d1", str(tmp_path / "m" / "sub" / "b.json"): "d2"}
    assert transfer.request_file_names(files) == {
        str(tmp_path / "m" / "a.safetensors"): "a.safetensors",
        str(tmp_path / "m" / "sub" / "b.json"): "sub/b.json",
    }
    assert transfer.request_file_names({os.path.join("x", "one.gguf"): "d"}) == {
        os.path.join("x", "one.gguf"): "one.gguf"
    }


class Canned:
    def __init__(self, **bodies: Any) -> None:
        self.bodies = bodies
        self.sent: list[tuple[str, Any]] = []

    def request(self, method: str, path: str, body: Any = None) -> Any:
        self.sent.append((path, body))
        return self.bodies[path.rsplit("/", 1)[-1]]

    def show(self, model: str, **extra: Any) -> dict[str, Any]:
        return {"capabilities": ["completion"]}


def test_embedding_models_print_the_first_vector(capsys: pytest.CaptureFixture[str]) -> None:
    client = Canned(embed={"model": "e", "embeddings": [[0.1, -2.5e-07, 3.0], [9.0]]})
    opts = run.RunOptions(model="e", prompt="hello world", keep_alive="5m0s")
    run.embed(client, opts, truncate=False, dimensions=3)  # type: ignore[arg-type]
    assert capsys.readouterr().out == "[0.1,-2.5e-7,3]\n"
    assert client.sent == [
        ("/api/embed", {"model": "e", "input": "hello world", "keep_alive": "5m0s", "truncate": False, "dimensions": 3})
    ]
    with pytest.raises(CLIError, match="no embeddings returned"):
        run.embed(Canned(embed={"embeddings": []}), opts, None, 0)  # type: ignore[arg-type]


class Recorder(Repl):
    """The REPL with the model call replaced by a record of the conversation sent."""

    def __init__(self) -> None:
        super().__init__(Canned(), run.RunOptions(model="m"), think_explicit=False)  # type: ignore[arg-type]
        self.save_history = False
        self.sent: list[list[dict[str, Any]]] = []

    def _reply(self) -> None:
        self.sent.append([dict(m) for m in self.opts.messages])
        self.opts.messages.append({"role": "assistant", "content": "ok"})


def test_repl_multiline_system_parameters_and_clear(capsys: pytest.CaptureFixture[str]) -> None:
    repl = Recorder()
    for line in ['/set system """You are', 'a pirate."""', "/set parameter temperature 0.1", '"""one', 'two"""']:
        assert repl.handle(line)
    out = capsys.readouterr().out
    assert out == "Set system message.\nSet parameter 'temperature' to '0.1'\n"
    assert repl.opts.options == {"temperature": 0.1}
    assert repl.sent == [[{"role": "system", "content": "You are\na pirate."}, {"role": "user", "content": "one\ntwo"}]]
    repl.handle("/clear")
    assert repl.opts.messages == [{"role": "system", "content": "You are\na pirate."}]
    repl.handle("/set format xml")
    repl.handle("/set think high")
    assert capsys.readouterr().out.splitlines() == [
        "Cleared session context",
        "Invalid or missing format. For 'json' mode use '/set format json'",
        "Set 'think' mode to 'high'.",
    ]
    assert repl.opts.think == "high"
    assert repl.handle("/exit") is False


def test_image_paths_become_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pollama.cli import attachments

    png = tmp_path / "my cat.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    escaped = str(png).replace(" ", "\\ ")
    text, images = attachments.extract(f"What is in {escaped}? And /nowhere/x.jpg")
    assert text == "What is in ? And /nowhere/x.jpg"
    assert images == [base64.b64encode(png.read_bytes()).decode()]
    assert capsys.readouterr().err == f"Added image '{png}'\n"
    bad = tmp_path / "fake.jpg"
    bad.write_text("not an image")
    with pytest.raises(CLIError, match="invalid file type: application/octet-stream"):
        attachments.extract(f"see {bad}")


def test_run_flags_reach_the_request() -> None:
    opts = run.RunOptions(model="m", format="json", think="high", keep_alive="5m0s", options={"num_predict": 8})
    assert run._base_request(opts) == {
        "model": "m",
        "format": "json",
        "options": {"num_predict": 8},
        "keep_alive": "5m0s",
        "think": "high",
    }
    schema = run.RunOptions(model="m", format='{"type":"object"}', think=False)
    assert run._base_request(schema) == {"model": "m", "format": {"type": "object"}, "think": False}
    assert run._base_request(run.RunOptions(model="m")) == {"model": "m"}
