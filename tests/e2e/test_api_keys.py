"""API keys against a live server started with ``OLLAMA_API_KEYS``: the official ``ollama``, ``openai`` and
``anthropic`` clients and the CLI work with the key and fail without it, each error in its API's shape."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import anthropic
import httpx
import ollama
import openai
import pytest
from e2e_helpers import Server

QWEN = "qwen2.5-coder:0.5b"
KEY = "pk-e2e-7f3a9c"
SAY_HI = [{"role": "user", "content": "Say hi."}]


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    own = start_server(OLLAMA_API_KEYS=f"{KEY},other-key")
    yield own
    own.stop()


def test_root_is_open_and_the_rest_is_not(server: Server) -> None:
    assert httpx.get(server.url).text == "Ollama is running"
    r = httpx.get(f"{server.url}/api/tags")
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized"}


def test_ollama_client(server: Server) -> None:
    client = ollama.Client(host=server.url, headers={"Authorization": f"Bearer {KEY}"})
    reply = client.chat(model=QWEN, messages=SAY_HI, options={"num_predict": 4, "temperature": 0})
    assert reply.done and reply.message.role == "assistant" and reply.message.content
    wrong = ollama.Client(host=server.url, headers={"Authorization": "Bearer wrong"})
    with pytest.raises(ollama.ResponseError) as err:
        wrong.list()
    assert err.value.status_code == 401 and err.value.error == "unauthorized"


def test_openai_client(server: Server) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, timeout=300, max_retries=0)
    reply = client.chat.completions.create(model=QWEN, messages=SAY_HI, max_tokens=4, temperature=0)  # type: ignore[arg-type]
    assert reply.choices[0].message.content
    wrong = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", timeout=30, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        wrong.models.list()
    assert err.value.status_code == 401 and err.value.code == "invalid_api_key"


def test_anthropic_client(server: Server) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key=KEY, timeout=300, max_retries=0)
    msg = client.messages.create(model=QWEN, max_tokens=4, messages=SAY_HI, extra_body={"temperature": 0})  # type: ignore[arg-type]
    assert msg.type == "message" and msg.content
    wrong = anthropic.Anthropic(base_url=server.url, api_key="wrong", timeout=30, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as err:
        wrong.messages.create(model=QWEN, max_tokens=4, messages=SAY_HI)  # type: ignore[arg-type]
    assert err.value.status_code == 401
    assert err.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": err.value.request_id,
    }


def test_cli_with_and_without_the_key(server: Server) -> None:
    def pollama_list(**env: str) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if k != "OLLAMA_API_KEY"} | {"OLLAMA_HOST": server.host, **env}
        cmd = [sys.executable, "-m", "pollama.cli.main", "list"]
        return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=60, check=False)

    ok = pollama_list(OLLAMA_API_KEY=KEY)
    assert ok.returncode == 0, ok.stderr
    assert QWEN in ok.stdout
    refused = pollama_list()
    assert refused.returncode == 1
    assert "unauthorized" in refused.stderr


def test_keys_are_not_logged(server: Server) -> None:
    # Runs last in the module: every request above, accepted and refused, has been answered.
    assert "Listening on" in server.log.read_text()
    assert KEY not in server.log.read_text() and "other-key" not in server.log.read_text()
