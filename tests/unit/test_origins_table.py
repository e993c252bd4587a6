"""``OLLAMA_ORIGINS`` as Ollama reads it: Ollama's own ``TestOrigins`` table (envconfig/config_test.go), and how
gin-contrib/cors v1.7.2 then treats entries Ollama does not trim (start-up refusals, spaced wildcards)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pollama.config import Settings
from pollama.server.app import create_app
from pollama.server.cors import OriginPolicy, allowed_origins

DEFAULTS = [
    "http://localhost",
    "https://localhost",
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1",
    "https://127.0.0.1",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://0.0.0.0",
    "https://0.0.0.0",
    "http://0.0.0.0:*",
    "https://0.0.0.0:*",
    "app://*",
    "file://*",
    "tauri://*",
    "vscode-webview://*",
    "vscode-file://*",
]


@pytest.mark.parametrize(
    ("value", "expect"),
    [
        ("", DEFAULTS),
        ("http://10.0.0.1", ["http://10.0.0.1", *DEFAULTS]),
        ("http://172.16.0.1,https://192.168.0.1", ["http://172.16.0.1", "https://192.168.0.1", *DEFAULTS]),
        ("http://totally.safe,http://definitely.legit", ["http://totally.safe", "http://definitely.legit", *DEFAULTS]),
        # Beyond Ollama's table: entries are split at commas only.
        ("http://a, http://b", ["http://a", " http://b", *DEFAULTS]),
        ("http://a,", ["http://a", "", *DEFAULTS]),
        ("'http://a'", ["http://a", *DEFAULTS]),  # envconfig.Var strips quotes around the whole value
    ],
)
def test_allowed_origins_table(value: str, expect: list[str]) -> None:
    assert allowed_origins(Settings.from_env({"OLLAMA_ORIGINS": value}).origins) == expect


@pytest.mark.parametrize("value", ["http://a, http://b", "http://a,", ",http://a"])
def test_entries_gin_refuses_stop_the_server_from_starting(tmp_path: Path, value: str) -> None:
    settings = Settings.from_env({"OLLAMA_ORIGINS": value, "OLLAMA_MODELS": str(tmp_path)})
    with pytest.raises(ValueError, match="^" + re.escape("bad origin: origins must contain '*' or include http://")):
        create_app(settings)


def test_a_spaced_wildcard_entry_matches_nothing() -> None:
    # " https://*.trusted.dev" is a valid entry (it has a '*') whose prefix starts with a space.
    policy = OriginPolicy(
        allowed_origins(Settings.from_env({"OLLAMA_ORIGINS": "https://a.dev, https://*.trusted.dev"}).origins)
    )
    assert policy.allows("https://a.dev")
    assert not policy.allows("https://app.trusted.dev")
    assert policy.allows(" https://app.trusted.dev")
