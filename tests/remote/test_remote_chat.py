"""Remote models through a live ``pollama serve`` in front of real ``llama-server`` replicas: chat, generate,
streaming, tools, ``format``, logprobs, the ``/v1`` routes through the ``openai`` client, listing, and the
store operations a remote model refuses."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import httpx
import jsonschema
import ollama
import openai
import pytest
from e2e_helpers import Server
from remote_helpers import Upstream

pytestmark = pytest.mark.e2e

GREEDY: dict[str, Any] = {"temperature": 0, "num_predict": 48}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The name of the city"}},
            "required": ["city"],
        },
    },
}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def client(remote_server: Server) -> ollama.Client:
    return ollama.Client(host=remote_server.url, timeout=300)


@pytest.mark.parametrize("model", ["qwen-remote", "qwen-go"])
def test_chat_answers(client: ollama.Client, model: str) -> None:
    r = client.chat(model, [{"role": "user", "content": "What is 2 + 2? Answer with the number only."}], options=GREEDY)
    assert "4" in r.message.content
    assert r.done and r.done_reason == "stop"
    assert r.prompt_eval_count and r.prompt_eval_count > 10 and r.eval_count and r.eval_count > 0
    assert r.eval_duration and r.eval_duration > 0


def render(server: Server, model: str, msgs: list[dict[str, str]]) -> str:
    body = {"model": model, "messages": msgs, "_debug_render_only": True, "stream": False}
    r = httpx.post(server.url + "/api/chat", json=body, timeout=60)
    assert r.status_code == 200, r.text
    rendered: str = r.json()["_debug_info"]["rendered_template"]
    return rendered


def test_upstream_jinja_template_and_configured_go_template(remote_server: Server) -> None:
    """qwen-remote renders with the Jinja template llama-server reports (/props), qwen-go with the built-in's Go
    template from the config: with a system message they agree; without, only the Jinja one adds Qwen's default."""
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    jinja, go = render(remote_server, "qwen-remote", msgs), render(remote_server, "qwen-go", msgs)
    assert jinja == go
    assert go == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert "You are Qwen, created by Alibaba Cloud" in render(remote_server, "qwen-remote", msgs[1:])
    assert render(remote_server, "qwen-go", msgs[1:]).startswith("<|im_start|>user\nhi")


def test_generate_streams_and_returns_context(client: ollama.Client) -> None:
    parts = list(client.generate("qwen-remote", "Count from 1 to 10:", options=GREEDY, stream=True))
    text = "".join(p.response for p in parts)
    assert len([p for p in parts if p.response]) > 3
    assert "1" in text and "5" in text
    final = parts[-1]
    assert final.done and final.eval_count and final.context
    # The context round-trips through the replica's tokenizer.
    again = client.generate("qwen-remote", " 11", context=final.context, options={"num_predict": 1})
    assert again.done


def test_tool_call(client: ollama.Client) -> None:
    question = {"role": "user", "content": "What is the weather in Paris right now?"}
    r = client.chat("qwen-remote", [question], tools=[WEATHER_TOOL], options=GREEDY)
    calls = r.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    assert calls[0].function.arguments == {"city": "Paris"}


def test_tool_call_streamed(client: ollama.Client) -> None:
    question = {"role": "user", "content": "What is the weather in Paris right now?"}
    calls = []
    for part in client.chat("qwen-go", [question], tools=[WEATHER_TOOL], options=GREEDY, stream=True):
        calls += part.message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]


def test_format_schema_validates(client: ollama.Client) -> None:
    for seed in (1, 2):
        r = client.chat(
            "qwen-remote",
            [{"role": "user", "content": "Invent a person."}],
            format=PERSON,
            options={"temperature": 1.0, "seed": seed, "num_predict": 64},
        )
        jsonschema.validate(json.loads(r.message.content), PERSON)


def test_logprobs(remote_server: Server) -> None:
    body = {"model": "qwen-remote", "prompt": "Name a color.", "stream": False, "logprobs": True, "top_logprobs": 2}
    body["options"] = {"temperature": 0, "num_predict": 5}
    r = httpx.post(remote_server.url + "/api/generate", json=body, timeout=120).json()
    lps = r["logprobs"]
    assert len(lps) == r["eval_count"]
    assert "".join(lp["token"] for lp in lps) == r["response"]
    assert all(len(lp["top_logprobs"]) == 2 and lp["logprob"] <= 0 for lp in lps)


def test_openai_client(remote_server: Server) -> None:
    oai = openai.OpenAI(base_url=remote_server.url + "/v1", api_key="unused")
    chunks = list(
        oai.chat.completions.create(
            model="qwen-remote",
            messages=[{"role": "user", "content": "Say hello."}],
            stream=True,
            max_tokens=16,
            temperature=0,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    tool = oai.chat.completions.create(
        model="qwen-remote",
        messages=[{"role": "user", "content": "What is the weather in Paris right now?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        temperature=0,
    )
    call = (tool.choices[0].message.tool_calls or [])[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    completion = oai.completions.create(model="qwen-go", prompt="def add(a, b):", max_tokens=16, temperature=0)
    assert completion.choices[0].text
    assert {"qwen-remote:latest", "qwen-go:latest"} <= {m.id for m in oai.models.list()}


def test_listing(client: ollama.Client, remote_server: Server, upstreams: list[Upstream]) -> None:
    tags = httpx.get(remote_server.url + "/api/tags", timeout=30).json()["models"]
    by_name = {m["name"]: m for m in tags}
    remote = by_name["qwen-remote:latest"]
    assert remote["remote_model"] == "qwen" and remote["remote_host"] == upstreams[0].url
    assert {"completion", "tools"} <= set(remote["capabilities"])
    assert "qwen2.5-coder:0.5b" in by_name  # local models are still listed
    show = client.show("qwen-remote")
    info = show.modelinfo or {}
    assert info["remote.engine"] == "llama-server"
    assert info["remote.upstreams"] == [upstreams[0].url, upstreams[1].url]
    assert info["remote.context_length"] == 2048 and info["general.parameter_count"] > 400_000_000
    assert "tools" in (show.capabilities or []) and "<|im_start|>" in (show.template or "")
    go = client.show("qwen-go")
    assert go.template and "{{" in go.template and "<|im_end|>" in (go.parameters or "")
    assert "temperature" in (go.parameters or "")
    client.generate("qwen-remote", "hi", options={"num_predict": 1})
    running = {m.model: m for m in client.ps().models}
    assert "qwen-remote:latest" in running
    assert running["qwen-remote:latest"].context_length == 2048


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("POST", "/api/pull", {"model": "qwen-remote"}, "pull"),
        ("POST", "/api/push", {"model": "qwen-remote"}, "push"),
        ("DELETE", "/api/delete", {"model": "qwen-remote"}, "delete"),
        ("POST", "/api/copy", {"source": "qwen-remote", "destination": "mine"}, "copy"),
        ("POST", "/api/copy", {"source": "qwen2.5-coder:0.5b", "destination": "qwen-go"}, "copy onto"),
        ("POST", "/api/create", {"model": "qwen-go", "from": "qwen2.5-coder:0.5b"}, "create"),
    ],
)
def test_store_operations_are_refused(
    remote_server: Server, remotes_file: Path, method: str, path: str, body: dict[str, Any], action: str
) -> None:
    r = httpx.request(method, remote_server.url + path, json=body, timeout=30)
    assert r.status_code == 400
    assert r.json()["error"].startswith(f'cannot {action} "qwen-')
    assert "is a remote model served by llama-server" in r.json()["error"] and str(remotes_file) in r.json()["error"]


def test_prompt_longer_than_the_upstream_context_is_a_400(remote_server: Server, upstreams: list[Upstream]) -> None:
    # The replica refuses it (its context is 2048 tokens a slot); that is the request's fault, so no replica is
    # taken out: the next requests are served as before.
    long = {"model": "qwen-go", "prompt": "word " * 3000, "stream": False, "options": {"num_predict": 1}}
    r = httpx.post(remote_server.url + "/api/generate", json=long, timeout=120)
    assert r.status_code == 400, r.text
    assert "context" in r.json()["error"]
    ok = {"model": "qwen-go", "prompt": "hi", "stream": False, "options": {"num_predict": 1}}
    assert httpx.post(remote_server.url + "/api/generate", json=ok, timeout=120).status_code == 200


def test_anthropic_client(remote_server: Server) -> None:
    client = anthropic.Anthropic(base_url=remote_server.url, api_key="unused", timeout=300, max_retries=0)
    msg = client.messages.create(
        model="qwen-remote",
        max_tokens=16,
        extra_body={"temperature": 0},
        messages=[{"role": "user", "content": "What is 2 + 2? Answer with the number only."}],
    )
    assert msg.stop_reason == "end_turn"
    assert "4" in "".join(b.text for b in msg.content if b.type == "text")


def test_embeddings_match_the_local_model(client: ollama.Client, remote_server: Server) -> None:
    """minilm-remote is llama-server with embeddings on over the same GGUF as the built-in all-minilm."""
    texts = ["The sky is blue.", "Pollama speaks Ollama's API."]
    remote = client.embed("minilm-remote", texts)
    local = client.embed("all-minilm", texts)
    assert len(remote.embeddings) == 2 and len(remote.embeddings[0]) == 384
    for r, v in zip(remote.embeddings, local.embeddings, strict=True):
        assert abs(math.fsum(x * x for x in r) - 1) < 1e-4  # normalised, as Ollama gives them
        assert math.fsum(a * b for a, b in zip(r, v, strict=True)) > 0.999
    assert remote.prompt_eval_count and remote.prompt_eval_count > 4
    oai = openai.OpenAI(base_url=remote_server.url + "/v1", api_key="unused")
    vec = oai.embeddings.create(model="minilm-remote", input="The sky is blue.").data[0].embedding
    assert math.fsum(a * b for a, b in zip(vec, remote.embeddings[0], strict=True)) > 0.9999


def test_generic_openai_engine(client: ollama.Client, remote_server: Server) -> None:
    """qwen-generic speaks plain OpenAI to the replica: answers and tool calls work (parsed by pollama), `format`
    is refused rather than left unenforced, and the health check is the models list."""
    r = client.chat(
        "qwen-generic", [{"role": "user", "content": "What is 2 + 2? Answer with the number only."}], options=GREEDY
    )
    assert "4" in r.message.content and r.eval_count
    question = {"role": "user", "content": "What is the weather in Paris right now?"}
    tool = client.chat("qwen-generic", [question], tools=[WEATHER_TOOL], options=GREEDY)
    assert [(c.function.name, c.function.arguments) for c in tool.message.tool_calls or []] == [
        ("get_weather", {"city": "Paris"})
    ]
    body = {"model": "qwen-generic", "prompt": "Invent a person.", "format": PERSON, "stream": False}
    refused = httpx.post(remote_server.url + "/api/generate", json=body, timeout=60)
    assert refused.status_code == 400
    message = '"qwen-generic:latest" cannot constrain its output: its remote engine takes no grammar'
    assert refused.json() == {"error": message}


def test_keep_alive_unloads_a_remote_model(client: ollama.Client, remote_server: Server) -> None:
    client.generate("qwen-go", "hi", options={"num_predict": 1}, keep_alive="10m")
    assert "qwen-go:latest" in {m.model for m in client.ps().models}
    assert client.generate("qwen-go", "", keep_alive=0).done_reason == "unload"
    assert "qwen-go:latest" not in {m.model for m in client.ps().models}
    # Used again, it is loaded again (its replicas checked) and answers.
    assert client.generate("qwen-go", "hi", options={"num_predict": 1}).done


def test_thinking(client: ollama.Client) -> None:
    assert "thinking" in (client.show("qwen-thinks").capabilities or [])
    question = [{"role": "user", "content": "What is 2 + 3?"}]
    r = client.chat("qwen-thinks", question, think=True, options={"temperature": 0, "num_predict": 24})
    # The prompt opened the thinking block, so everything up to a closing tag is thinking, never content.
    assert r.message.thinking
    assert "<think>" not in (r.message.content or "") and "</think>" not in r.message.thinking
    off = client.chat("qwen-thinks", question, think=False, options={"temperature": 0, "num_predict": 8})
    assert not off.message.thinking and off.message.content


def test_cli(remote_server: Server) -> None:
    env = {**os.environ, "OLLAMA_HOST": remote_server.host}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pollama.cli.main", *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = {line.split()[0]: line.split() for line in cli("list").splitlines()[1:]}
    assert listed["qwen-remote:latest"][2] == "-"  # no local size
    shown = cli("show", "qwen-remote")
    assert "Remote model" in shown and "qwen" in shown and "tools" in shown
    # qwen-go's parameters (from the remote models file) make it greedy.
    answer = cli("run", "qwen-go", "What is 2 + 2? Answer with the number only.")
    assert "4" in answer
