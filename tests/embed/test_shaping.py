"""Model-free parts of the embedding path: reading ``input``, normalising and cutting vectors, Go's JSON of
float32 rows, fitting tokens to the context, the runner frame, the legacy route's raw/normalised choice, and
create's conversion of uploaded safetensors blobs into a GGUF layer."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from bert_fixture import write_bert_dir

from pollama.api.embed import EmbedRequest, float32_rows_json
from pollama.create.safetensors import convert_files
from pollama.errors import BadRequest, Failed
from pollama.gojson import Float32, marshal
from pollama.inference.embed import NAN_OR_INF, legacy_raw, shape_vectors
from pollama.runner.embed_protocol import embeddings_body, result_from_body
from pollama.runner.embedding import InputTooLong, fit_tokens
from pollama.store.store import Store


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, []), ("", []), ("hi", ["hi"]), (["a", "", "b"], ["a", "", "b"]), ([], [])],
)
def test_inputs_as_ollama_reads_them(raw: object, expected: list[str]) -> None:
    assert EmbedRequest(input=raw).inputs() == expected


@pytest.mark.parametrize("raw", [1, 1.5, True, {"a": "b"}, ["a", 1], [None], [["a"]]])
def test_other_inputs_are_invalid_input_type(raw: object) -> None:
    with pytest.raises(BadRequest, match=r"^invalid input type$"):
        EmbedRequest(input=raw).inputs()


def test_vectors_are_unit_length_and_dimensions_renormalise() -> None:
    rows = np.array([[3.0, 4.0, 12.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    out = shape_vectors(rows, None)
    np.testing.assert_allclose(out[0], [3 / 13, 4 / 13, 12 / 13], rtol=1e-6)
    np.testing.assert_array_equal(out[1], [0, 0, 0])  # a zero vector stays zero instead of dividing by 0
    cut = shape_vectors(rows, 2)
    np.testing.assert_allclose(cut[0], [0.6, 0.8], rtol=1e-6)
    # dimensions outside 0 < d < length change nothing
    for d in (0, 3, 7, -1):
        assert shape_vectors(rows, d).shape == (2, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_is_an_error(bad: float) -> None:
    rows = np.array([[1.0, bad]], dtype=np.float32)
    with pytest.raises(BadRequest, match=f"^{NAN_OR_INF}$"):
        shape_vectors(rows, None)


def test_float32_rows_are_go_json() -> None:
    rng = np.random.default_rng(1)
    rows = (rng.standard_normal((5, 64)) / 10).astype(np.float32)
    rows[0, :9] = [1e-5, 3e-7, 0.0, -0.0, 1.0, -2.5, 1e-6, 123456789.0, 5e-45]
    expected = "[" + ",".join("[" + ",".join(marshal(Float32(float(x))) for x in r) + "]" for r in rows) + "]"
    assert float32_rows_json(rows) == expected
    assert float32_rows_json(np.zeros((0, 0), np.float32)) == "[]"


def test_fit_tokens() -> None:
    toks = [101, 1, 2, 3, 4, 5, 102]
    assert fit_tokens(toks, 7, truncate=False, keep_last=True) == toks
    # the separator the tokenizer appended stays last, as a tokenizer truncating to max_length keeps it
    assert fit_tokens(toks, 4, truncate=True, keep_last=True) == [101, 1, 2, 102]
    assert fit_tokens(toks, 4, truncate=True, keep_last=False) == [101, 1, 2, 3]
    with pytest.raises(InputTooLong, match=r"^the input length exceeds the context length$"):
        fit_tokens(toks, 6, truncate=False, keep_last=True)


def test_runner_frame_round_trip() -> None:
    rows = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    body = embeddings_body([r.tobytes() for r in rows], 4, [5, 6, 7])
    back = result_from_body(dict(body))
    np.testing.assert_array_equal(back.vectors, rows)
    assert back.counts == [5, 6, 7]
    with pytest.raises(ValueError, match="malformed"):
        result_from_body({**body, "dim": 5})


def _bert_gguf(tmp_path: Path, normalize: bool) -> Path:
    from pollama.convert import convert_model

    src = write_bert_dir(tmp_path / f"src{normalize}", normalize=normalize)
    out = tmp_path / f"m{normalize}.gguf"
    convert_model(src, out)
    return out


def test_legacy_route_normalises_unless_the_bert_gguf_says_not(tmp_path: Path) -> None:
    assert legacy_raw(str(_bert_gguf(tmp_path, True))) is False
    assert legacy_raw(str(_bert_gguf(tmp_path, False))) is True
    plain = tmp_path / "llama.gguf"
    w = gguf.GGUFWriter(str(plain), "llama")
    w.add_tensor("token_embd.weight", np.zeros((4, 4), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert legacy_raw(str(plain)) is False  # no pooling type: a completion model, normalised


def _upload(store: Store, root: Path) -> dict[str, str]:
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        files[path.relative_to(root).as_posix()] = store.blobs.write_bytes(path.read_bytes()).digest
    return files


def test_create_converts_uploaded_safetensors_blobs(tmp_path: Path) -> None:
    store = Store(tmp_path / "models")
    files = _upload(store, write_bert_dir(tmp_path / "src"))
    statuses: list[str] = []
    (layer,) = convert_files(store, files, lambda p: statuses.append(p.status))
    assert statuses == ["converting model"]
    assert layer.media_type == "application/vnd.ollama.image.model"
    assert layer.gguf is not None and layer.gguf.architecture == "bert" and layer.gguf.file_type_name == "F16"
    assert store.blobs.path(layer.digest).is_file()
    assert not [p for p in store.root.iterdir() if p.name.startswith("ollama-safetensors")]  # temp dir removed


def test_create_refuses_paths_outside_the_model_dir(tmp_path: Path) -> None:
    store = Store(tmp_path / "models")
    files = _upload(store, write_bert_dir(tmp_path / "src"))
    files["../escape.json"] = files["config.json"]
    with pytest.raises(BadRequest, match=r"^file path must be relative: \.\./escape\.json$"):
        convert_files(store, files, lambda p: None)


def test_create_reports_the_converters_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "models")
    files = _upload(store, write_bert_dir(tmp_path / "src", arch="MistralForCausalLM"))
    with pytest.raises(Failed, match=r'^unsupported architecture "MistralForCausalLM"$'):
        convert_files(store, files, lambda p: None)
