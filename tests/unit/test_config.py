"""OLLAMA_* parsing: host, durations, booleans, defaults."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pollama.config import (
    FOREVER,
    DurationError,
    Settings,
    parse_bool,
    parse_go_duration,
    parse_host,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ("127.0.0.1", 11434)),
        ("0.0.0.0", ("0.0.0.0", 11434)),
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("http://example.com", ("example.com", 80)),
        ("https://example.com", ("example.com", 443)),
        ("http://10.0.0.1:1234/path", ("10.0.0.1", 1234)),
        ("[::1]:9000", ("::1", 9000)),
        ("127.0.0.1:notaport", ("127.0.0.1", 11434)),
        (":5000", ("127.0.0.1", 5000)),
    ],
)
def test_parse_host(raw: str, expected: tuple[str, int]) -> None:
    assert parse_host(raw) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("0", 0), ("1.5s", 1.5), ("-1s", -1), ("300ms", 0.3), ("2h", 7200)],
)
def test_go_duration(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


def test_go_duration_errors() -> None:
    with pytest.raises(DurationError, match='time: missing unit in duration "300"'):
        parse_go_duration("300")
    with pytest.raises(DurationError, match='time: invalid duration "abc"'):
        parse_go_duration("abc")


def test_bool_parsing_matches_go() -> None:
    assert parse_bool("") is False
    assert parse_bool("0") is False and parse_bool("false") is False
    assert parse_bool("1") is True and parse_bool("TRUE") is True
    assert parse_bool("yes please") is True  # Ollama: unparseable non-empty means true


def test_settings_defaults_and_overrides(tmp_path: Path) -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.num_parallel, s.max_queue, s.context_length, s.keep_alive) == (
        "127.0.0.1",
        11434,
        4,
        512,
        4096,
        300,
    )
    assert s.models == Path.home() / ".ollama" / "models"
    s = Settings.from_env(
        {
            "OLLAMA_HOST": " '0.0.0.0:1234' ",
            "OLLAMA_MODELS": str(tmp_path),
            "OLLAMA_NUM_PARALLEL": "2",
            "OLLAMA_MAX_QUEUE": "7",
            "OLLAMA_CONTEXT_LENGTH": "8192",
            "OLLAMA_KEEP_ALIVE": "-1",
            "OLLAMA_NOPRUNE": "1",
            "OLLAMA_MAX_LOADED_MODELS": "bogus",
        }
    )
    assert (s.host, s.port, s.models, s.num_parallel, s.max_queue, s.context_length) == (
        "0.0.0.0",
        1234,
        tmp_path,
        2,
        7,
        8192,
    )
    assert math.isinf(s.keep_alive) and s.noprune and s.max_loaded_models == 3
    assert Settings.from_env({"OLLAMA_KEEP_ALIVE": "600"}).keep_alive == 600
    assert Settings.from_env({"OLLAMA_KEEP_ALIVE": "10m"}).keep_alive == 600
    assert Settings.from_env({"OLLAMA_KEEP_ALIVE": "nonsense"}).keep_alive == 300


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost:11434", True),
        ("127.0.0.1:11434", True),
        ("[::1]:11434", True),
        ("192.168.1.5", True),
        ("", True),
        ("myapp.localhost", True),
        ("printer.local", True),
        ("svc.internal:80", True),
        ("evil.example.com", False),
        ("8.8.8.8", False),
    ],
)
def test_allowed_hosts(host: str, allowed: bool) -> None:
    from pollama.server.hosts import host_allowed

    assert host_allowed(host, "thismachine") is allowed


def test_engine_settings_defaults() -> None:
    s = Settings.from_env({})
    assert (s.flash_attention, s.kv_cache_type, s.load_timeout) == (None, "f16", 300.0)


@pytest.mark.parametrize(
    ("raw", "expected"), [("", None), ("1", True), ("true", True), ("yes", True), ("0", False), ("false", False)]
)
def test_flash_attention(raw: str, expected: bool | None) -> None:
    assert Settings.from_env({"OLLAMA_FLASH_ATTENTION": raw}).flash_attention is expected


@pytest.mark.parametrize(
    ("kv", "fa", "expected"),
    [
        ("q8_0", "1", "q8_0"),
        ("Q4_0", "1", "q4_0"),
        ("f16", "1", "f16"),
        ("", "1", "f16"),
        ("q8_0", "", "f16"),
        ("q8_0", "0", "f16"),
        ("q5_1", "1", "f16"),
        ("bogus", "1", "f16"),
    ],
)
def test_kv_cache_type(kv: str, fa: str, expected: str) -> None:
    env = {"OLLAMA_KV_CACHE_TYPE": kv, "OLLAMA_FLASH_ATTENTION": fa}
    assert Settings.from_env(env).kv_cache_type == expected


def test_kv_cache_type_fallbacks_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="pollama"):
        Settings.from_env({"OLLAMA_KV_CACHE_TYPE": "q8_0"})
        Settings.from_env({"OLLAMA_KV_CACHE_TYPE": "bogus", "OLLAMA_FLASH_ATTENTION": "1"})
    assert "quantized kv cache requested but flash attention disabled" in caplog.text
    assert "kv cache type not supported" in caplog.text


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("", 300.0), ("10m", 600.0), ("1h30m", 5400.0), ("90", 90.0), ("0", FOREVER), ("-1s", FOREVER), ("x", 300.0)],
)
def test_load_timeout(raw: str, seconds: float) -> None:
    assert Settings.from_env({"OLLAMA_LOAD_TIMEOUT": raw}).load_timeout == seconds
