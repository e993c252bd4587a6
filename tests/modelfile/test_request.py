"""Modelfile → create request tests (Ollama's ``TestCreateRequest*`` and ``FormatParams`` rules)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pollama.modelfile.parser import parse
from pollama.modelfile.request import CreateRequestError, create_request, format_param, valid_semver


def req(text: str, relative_dir: str = "") -> dict[str, object]:
    return create_request(parse(text), relative_dir)


def test_from_name() -> None:
    assert req("FROM test") == {"from": "test"}
    assert req("FROM test\nTEMPLATE some template\n") == {"from": "test", "template": "some template"}


def test_license_params_messages() -> None:
    assert req("FROM test\nLICENSE single license\nPARAMETER temperature 0.5\nMESSAGE user Hello\n") == {
        "from": "test",
        "license": ["single license"],
        "parameters": {"temperature": 0.5},
        "messages": [{"role": "user", "content": "Hello"}],
    }


def test_full() -> None:
    text = (
        "FROM test\nPARAMETER temperature 0.5\nPARAMETER top_k 1\nSYSTEM You are a bot.\nLICENSE license1\n"
        "LICENSE license2\nMESSAGE user Hello there!\nMESSAGE assistant Hi! How are you?\n"
    )
    assert req(text) == {
        "from": "test",
        "system": "You are a bot.",
        "license": ["license1", "license2"],
        "parameters": {"temperature": 0.5, "top_k": 1},
        "messages": [{"role": "user", "content": "Hello there!"}, {"role": "assistant", "content": "Hi! How are you?"}],
    }


def test_stop_accumulates() -> None:
    r = req("FROM x\nPARAMETER stop <a>\nPARAMETER stop <b>\n")
    assert r["parameters"] == {"stop": ["<a>", "<b>"]}


def test_deprecated_parameter_warns_and_drops() -> None:
    warnings: list[str] = []
    r = create_request(parse("FROM x\nPARAMETER mirostat 1\nPARAMETER seed 3\n"), "", warnings.append)
    assert r["parameters"] == {"seed": 3}
    assert warnings == ["warning: parameter mirostat is deprecated"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("numa true", "unknown parameter 'numa'"),
        ("Temperature 1", "unknown parameter 'Temperature'"),
        ("temperature hot", "invalid float value [hot]"),
        ("temperature 1e40", "invalid float value [1e40]"),
        ("top_k 1.5", "invalid int value [1.5]"),
        ("seed 1_000", "invalid int value [1_000]"),
        ("use_mmap yes", "invalid bool value [yes]"),
    ],
)
def test_parameter_errors(line: str, message: str) -> None:
    with pytest.raises(CreateRequestError) as e:
        req(f"FROM x\nPARAMETER {line}\n")
    assert str(e.value) == message


def test_parameter_types() -> None:
    assert format_param("temperature", ["0.1"]) == 0.1  # float32 shortest form, as the Go client sends it
    assert format_param("num_ctx", ["+8"]) == 8
    assert format_param("main_gpu", ["-1"]) == -1
    assert format_param("use_mmap", ["T"]) is True
    assert format_param("use_mmap", ["0"]) is False
    assert format_param("stop", ["x"]) == ["x"]


@pytest.mark.parametrize(
    ("version", "ok"),
    [("v0.14.0", True), ("v1", True), ("v1.2", True), ("v1.2.3-rc.1+build.5", True), ("v01.2.3", False)],
)
def test_semver(version: str, ok: bool) -> None:
    assert valid_semver(version) is ok


def test_requires() -> None:
    assert req("FROM x\nREQUIRES 0.14.0\n")["requires"] == "0.14.0"
    assert req("FROM x\nREQUIRES v0.14.0\n")["requires"] == "0.14.0"
    with pytest.raises(CreateRequestError, match=r"requires must be a valid semver \(e.g. 0.14.0\)"):
        req("FROM x\nREQUIRES latest\n")


def test_renderer_parser() -> None:
    assert req("FROM x\nRENDERER r\nPARSER p\n") == {"from": "x", "renderer": "r", "parser": "p"}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_files(tmp_path: Path) -> None:
    a = tmp_path / "a.gguf"
    b = tmp_path / "b.gguf"
    a.write_bytes(b"GGUF one")
    b.write_bytes(b"GGUF two")
    assert req(f"FROM {a}") == {"files": {str(a): _digest(b"GGUF one")}}
    assert req(f"FROM {a}\nFROM {b}") == {"files": {str(a): _digest(b"GGUF one"), str(b): _digest(b"GGUF two")}}
    # Relative to the Modelfile's directory.
    assert req("FROM ./a.gguf", str(tmp_path)) == {"files": {str(a): _digest(b"GGUF one")}}
    assert req("FROM x\nADAPTER a.gguf", str(tmp_path))["adapters"] == {str(a): _digest(b"GGUF one")}


def test_missing_adapter_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        req("FROM x\nADAPTER missing.gguf", str(tmp_path))


def test_draft_files(tmp_path: Path) -> None:
    draft = tmp_path / "draft.gguf"
    draft.write_bytes(b"draft")
    assert req("FROM base\nDRAFT ./draft.gguf\n", str(tmp_path))["draft_files"] == {str(draft): _digest(b"draft")}


def test_draft_rejects_same_file(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"model")
    with pytest.raises(CreateRequestError, match="DRAFT must not reference the same local path as FROM"):
        req("FROM ./model.gguf\nDRAFT ./model.gguf\n", str(tmp_path))


def test_directory_gguf(tmp_path: Path) -> None:
    binary = bytes(range(256)) * 2
    (tmp_path / "model.gguf").write_bytes(binary)
    (tmp_path / "config.json").write_text('{"config": true}')
    files = req("FROM .", str(tmp_path))["files"]
    assert isinstance(files, dict)
    assert sorted(Path(p).name for p in files) == ["config.json", "model.gguf"]


def test_directory_without_model(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("content")
    with pytest.raises(CreateRequestError, match="no Modelfile or safetensors files found"):
        req("FROM .", str(tmp_path))
