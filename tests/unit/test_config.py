"""OLLAMA_* parsing: host, durations, booleans, defaults."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pollama.config import DurationError, Settings, parse_bool, parse_go_duration, parse_host


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
