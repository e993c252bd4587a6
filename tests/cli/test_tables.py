"""``list``, ``ps`` and ``show`` output against the golden strings of Ollama's ``cmd/cmd_test.go``
(``TestShowInfo``, ``TestListHandler``), tablewriter's trailing padding included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pollama.cli import models
from pollama.cli.format import table

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
DETAILS = {"family": "test", "parameter_size": "7B", "quantization_level": "FP16"}
MODEL_7B = "  Model\n    architecture    test    \n    parameters      7B      \n    quantization    FP16    \n\n"


class Canned:
    """Stands in for the HTTP client: answers one canned body per path."""

    def __init__(self, bodies: dict[str, Any]) -> None:
        self.bodies = bodies

    def request(self, method: str, path: str, body: Any = None) -> Any:
        return self.bodies[path]


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_list_golden() -> None:
    tags = {
        "models": [
            {"name": "model1", "digest": "sha256:abc123", "size": 1024, "modified_at": iso(NOW - timedelta(hours=24))},
            {"name": "model2", "digest": "sha256:def456", "size": 2048, "modified_at": iso(NOW - timedelta(hours=48))},
        ]
    }
    out = models.list_models(Canned({"/api/tags": tags}), now=NOW)  # type: ignore[arg-type]
    assert out == (
        "NAME      ID              SIZE      MODIFIED     \n"
        "model1    sha256:abc12    1.0 KB    24 hours ago    \n"
        "model2    sha256:def45    2.0 KB    2 days ago      \n"
    )
    filtered = models.list_models(Canned({"/api/tags": tags}), "MODEL1", now=NOW)  # type: ignore[arg-type]
    assert filtered.splitlines()[1:] == ["model1    sha256:abc12    1.0 KB    24 hours ago    "]


def test_list_remote_model_has_no_size() -> None:
    tags = {"models": [{"name": "m:cloud", "digest": "0" * 64, "size": 5, "remote_model": "m", "modified_at": ""}]}
    out = models.list_models(Canned({"/api/tags": tags}), now=NOW)  # type: ignore[arg-type]
    assert out.splitlines()[1].split() == ["m:cloud", "000000000000", "-", "Never"]


def test_ps_columns() -> None:
    ps = {
        "models": [
            {
                "name": "a:latest",
                "digest": "27f77bd276dcccdd",
                "size": 548_000_000,
                "size_vram": 0,
                "context_length": 4096,
                "expires_at": iso(NOW + timedelta(minutes=4, seconds=30)),
            },
            {
                "name": "b:latest",
                "digest": "0123456789abcdef",
                "size": 2_100_000_000,
                "size_vram": 1_092_000_000,
                "context_length": 8192,
                "expires_at": iso(NOW + timedelta(days=365 * 300)),
            },
            {
                "name": "c:latest",
                "digest": "fedcba9876543210",
                "size": 10,
                "size_vram": 10,
                "context_length": 2048,
                "expires_at": iso(NOW - timedelta(seconds=1)),
            },
        ]
    }
    out = models.list_running(Canned({"/api/ps": ps}), now=NOW)  # type: ignore[arg-type]
    assert out == (
        "NAME        ID              SIZE      PROCESSOR          CONTEXT    UNTIL              \n"
        "a:latest    27f77bd276dc    548 MB    100% CPU           4096       4 minutes from now    \n"
        "b:latest    0123456789ab    2.1 GB    48%/52% CPU/GPU    8192       Forever               \n"
        "c:latest    fedcba987654    10 B      100% GPU           2048       Stopping...           \n"
    )


@pytest.mark.parametrize(
    ("size", "vram", "expected"), [(10, 20, "Unknown"), (0, 5, "Unknown"), (100, 25, "75%/25% CPU/GPU")]
)
def test_processor(size: int, vram: int, expected: str) -> None:
    assert models.processor(size, vram) == expected


def test_show_bare_details() -> None:
    assert models.show_info({"details": DETAILS}) == MODEL_7B


def test_show_bare_model_info() -> None:
    info = {
        "general.architecture": "test",
        "general.parameter_count": 7_000_000_000.0,
        "test.context_length": 0.0,
        "test.embedding_length": 0.0,
    }
    assert models.show_info({"details": DETAILS, "model_info": info}) == (
        "  Model\n"
        "    architecture        test    \n"
        "    parameters          7B      \n"
        "    context length      0       \n"
        "    embedding length    0       \n"
        "    quantization        FP16    \n\n"
    )


def test_show_verbose() -> None:
    resp = {
        "details": {**DETAILS, "parameter_size": "8B"},
        "parameters": "\n\t\t\tstop up",
        "model_info": {
            "general.architecture": "test",
            "general.parameter_count": 8_000_000_000.0,
            "some.true_bool": True,
            "some.false_bool": False,
            "test.context_length": 1000.0,
            "test.embedding_length": 11434.0,
        },
        "tensors": [
            {"name": "blk.0.attn_k.weight", "type": "BF16", "shape": [42, 3117]},
            {"name": "blk.0.attn_q.weight", "type": "FP16", "shape": [3117, 42]},
        ],
    }
    assert models.show_info(resp, verbose=True) == (
        "  Model\n"
        "    architecture        test     \n"
        "    parameters          8B       \n"
        "    context length      1000     \n"
        "    embedding length    11434    \n"
        "    quantization        FP16     \n\n"
        "  Parameters\n"
        "    stop    up    \n\n"
        "  Metadata\n"
        "    general.architecture       test     \n"
        "    general.parameter_count    8e+09    \n"
        "    some.false_bool            false    \n"
        "    some.true_bool             true     \n"
        "    test.context_length        1000     \n"
        "    test.embedding_length      11434    \n\n"
        "  Tensors\n"
        "    blk.0.attn_k.weight    BF16    [42 3117]    \n"
        "    blk.0.attn_q.weight    FP16    [3117 42]    \n\n"
    )


def test_show_parameters() -> None:
    params = (
        "\n\t\t\tstop never\n\t\t\tstop gonna\n\t\t\tstop give\n\t\t\tstop you\n\t\t\tstop up\n\t\t\ttemperature 99"
    )
    assert models.show_info({"details": DETAILS, "parameters": params}) == MODEL_7B + (
        "  Parameters\n"
        "    stop           never    \n"
        "    stop           gonna    \n"
        "    stop           give     \n"
        "    stop           you      \n"
        "    stop           up       \n"
        "    temperature    99       \n\n"
    )


def test_show_projector() -> None:
    proj = {
        "general.architecture": "clip",
        "general.parameter_count": 133_700_000.0,
        "clip.vision.embedding_length": 0.0,
        "clip.vision.projection_dim": 0.0,
    }
    assert models.show_info({"details": DETAILS, "projector_info": proj}) == MODEL_7B + (
        "  Projector\n"
        "    architecture        clip       \n"
        "    parameters          133.70M    \n"
        "    embedding length    0          \n"
        "    dimensions          0          \n\n"
    )


def test_show_system_and_license_heads() -> None:
    system = "You are a pirate!\nAhoy, matey!\nWeigh anchor!\n\t\t\t"
    assert models.show_info({"details": DETAILS, "system": system}) == MODEL_7B + (
        "  System\n    You are a pirate!    \n    Ahoy, matey!         \n    ...                  \n\n"
    )
    lic = "MIT License\nCopyright (c) Ollama\n"
    assert models.show_info({"details": DETAILS, "license": lic}) == MODEL_7B + (
        "  License\n    MIT License             \n    Copyright (c) Ollama    \n\n"
    )


def test_show_capabilities_and_requires() -> None:
    resp = {"details": DETAILS, "capabilities": ["vision", "tools"], "requires": "0.19.0"}
    assert models.show_info(resp) == (
        "  Model\n"
        "    architecture    test      \n"
        "    parameters      7B        \n"
        "    quantization    FP16      \n"
        "    requires        0.19.0    \n\n"
        "  Capabilities\n    vision    \n    tools     \n\n"
    )


def test_metadata_lists_are_cut_to_ten_columns() -> None:
    info = {"tokenizer.ggml.tokens": ["<pad>", "<eos>", "<bos>"], "x.scores": [0.5, 1.0]}
    out = models.show_info({"details": DETAILS, "model_info": info}, verbose=True)
    assert "    tokenizer.ggml.tokens    [<pad> ...+2 more]    \n" in out
    assert "    x.scores                 [0.5 1]               \n" in out


def test_table_wraps_cells_with_spaces_at_the_column_width() -> None:
    long = "one two three four five six seven eight"
    assert table([["", long]], col_width=20) == ("    one two three four      \n    five six seven eight    \n")
    # a single word longer than the width is never broken
    assert table([["x" * 40]], col_width=30) == "x" * 40 + "    \n"
