"""Name parsing and validity, table-driven from Ollama's types/model/name_test.go."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from pollama.store.names import InvalidNameError, Name

PART80 = "8" * 80
PART350 = "3" * 350

PARSE_CASES = [
    (
        "registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_K",
        Name("registry.ollama.ai", "library", "dolphin-mistral", "7b-v2.6-dpo-laser-q6_K"),
        "registry.ollama.ai/library/dolphin-mistral/7b-v2.6-dpo-laser-q6_K",
    ),
    (
        "scheme://host:port/namespace/model:tag",
        Name("host:port", "namespace", "model", "tag", "scheme"),
        "host:port/namespace/model/tag",
    ),
    ("host/namespace/model:tag", Name("host", "namespace", "model", "tag"), "host/namespace/model/tag"),
    ("host:port/namespace/model:tag", Name("host:port", "namespace", "model", "tag"), "host:port/namespace/model/tag"),
    ("host/namespace/model", Name("host", "namespace", "model"), "host/namespace/model/latest"),
    ("host:port/namespace/model", Name("host:port", "namespace", "model"), "host:port/namespace/model/latest"),
    ("namespace/model", Name(namespace="namespace", model="model"), "registry.ollama.ai/namespace/model/latest"),
    ("model", Name(model="model"), "registry.ollama.ai/library/model/latest"),
    ("h/nn/mm:t", Name("h", "nn", "mm", "t"), "h/nn/mm/t"),
    (
        f"{PART80}/{PART80}/{PART80}:{PART80}",
        Name(PART80, PART80, PART80, PART80),
        f"{PART80}/{PART80}/{PART80}/{PART80}",
    ),
    (
        f"{PART350}/{PART80}/{PART80}:{PART80}",
        Name(PART350, PART80, PART80, PART80),
        f"{PART350}/{PART80}/{PART80}/{PART80}",
    ),
]


@pytest.mark.parametrize(("text", "bare", "path"), PARSE_CASES)
def test_parse_parts(text: str, bare: Name, path: str) -> None:
    assert Name.parse_bare(text) == bare
    assert Name.parse(text).manifest_relpath() == PurePath(path)


VALIDITY = {
    "": False,
    "_why/_the/_lucky:_stiff": True,
    "h/n/m:t": True,
    "host/namespace/model:tag": True,
    "host/namespace/model": False,
    "namespace/model": False,
    "model": False,
    f"{PART80}/{PART80}/{PART80}:{PART80}": True,
    f"{PART350}/{PART80}/{PART80}:{PART80}": True,
    "h/nn/mm:t": True,
    "m": False,
    "n/m:": False,
    "h/n/m": False,
    "@t": False,
    "m@d": False,
    "^": False,
    "mm:": False,
    "/nn/mm": False,
    "//": False,
    "//mm": False,
    "hh//": False,
    "//mm:@": False,
    "00@": False,
    "@": False,
    "-hh/nn/mm:tt": False,
    "hh/-nn/mm:tt": False,
    "hh/nn/-mm:tt": False,
    "hh/nn/mm:-tt": False,
    "host:https/namespace/model:tag": True,
    "host/name:space/model:tag": False,
    # lengths just over the limits
    f"{PART350}3/{PART80}/{PART80}:{PART80}": False,
    f"h/{PART80}8/m:t": False,
    "h/n.s/m:t": False,  # "." not allowed in a namespace
    "h/n/m.x:t.y": True,
}


@pytest.mark.parametrize(("text", "valid"), sorted(VALIDITY.items()))
def test_validity_bare_and_roundtrip(text: str, valid: bool) -> None:
    n = Name.parse_bare(text)
    assert n.is_valid() is valid
    if valid:
        assert str(n) == text


def test_missing_part_marker() -> None:
    assert Name.parse_bare("n/m:") == Name(namespace="n", model="m", tag="!MISSING!")
    assert Name.parse_bare("/nn/mm") == Name(host="!MISSING!", namespace="nn", model="mm")


def test_defaults_and_str() -> None:
    assert str(Name.parse("xx")) == "registry.ollama.ai/library/xx:latest"
    assert str(Name.parse("gemma3:270m")) == "registry.ollama.ai/library/gemma3:270m"
    assert Name.parse("x").scheme == "https"
    assert Name.parse("http://h/n/m:t").scheme == "http"
    assert Name.parse("@sha256-abc").is_valid() is False
    assert Name.parse("model@sha256:abc").is_valid() is False


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("registry.ollama.ai/library/model:latest", "model:latest"),
        ("registry.ollama.ai/library/model:tag", "model:tag"),
        ("registry.ollama.ai/namespace/model:tag", "namespace/model:tag"),
        ("host/namespace/model:tag", "host/namespace/model:tag"),
        ("host/library/model:tag", "host/library/model:tag"),
        ("REGISTRY.ollama.ai/LIBRARY/Model:Tag", "Model:Tag"),
    ],
)
def test_display_shortest(text: str, short: str) -> None:
    assert Name.parse_bare(text).display_shortest() == short


def test_display_shortest_with_defaults() -> None:
    assert Name.parse("gemma3:270m").display_shortest() == "gemma3:270m"
    assert Name.parse("myns/x").display_shortest() == "myns/x:latest"
    assert Name.parse("host/ns/x:tag").display_shortest() == "host/ns/x:tag"


@pytest.mark.parametrize(
    ("rel", "want"),
    [
        ("host/namespace/model/tag", Name("host", "namespace", "model", "tag")),
        ("host:port/namespace/model/tag", Name("host:port", "namespace", "model", "tag")),
        ("namespace/model/tag", None),
        ("model/tag", None),
        ("model", None),
        ("../../model/tag", None),
        ("./namespace/./tag", None),
        ("/path/to/random/file", None),
    ],
)
def test_from_manifest_path(rel: str, want: Name | None) -> None:
    assert Name.from_manifest_path(rel) == want


def test_manifest_relpath_rejects_invalid() -> None:
    with pytest.raises(InvalidNameError, match='name "m" is invalid'):
        Name.parse_bare("m").manifest_relpath()


def test_equal_fold() -> None:
    assert Name.parse("LLaMA3:Latest").equal_fold(Name.parse("llama3:latest"))
    assert not Name.parse("llama3:8b").equal_fold(Name.parse("llama3:latest"))
