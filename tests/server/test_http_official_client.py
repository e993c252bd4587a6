"""The official ``ollama`` Python client against the app in-process: it parses every answer (list, show, ps,
generate and chat, streamed or not, load and unload) and turns error statuses and error lines into
``ResponseError``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import ollama
import pytest
from app_harness import EMBEDDER, PARAMETER_SIZE, THINKER, TINY, Served

from pollama.errors import RUNNER_STOPPED

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(srv: Served) -> AsyncIterator[ollama.AsyncClient]:
    c = srv.ollama()
    yield c
    await c.close()  # type: ignore[no-untyped-call]


async def test_list_and_show(client: ollama.AsyncClient) -> None:
    listed = {m.model: m for m in (await client.list()).models}
    assert set(listed) == {f"{TINY}:latest", f"{THINKER}:latest", f"{EMBEDDER}:latest"}
    tiny = listed[f"{TINY}:latest"]
    assert tiny.details is not None
    assert (tiny.details.family, tiny.details.parameter_size, tiny.details.quantization_level) == (
        "llama",
        PARAMETER_SIZE,
        "F16",
    )
    assert isinstance(tiny.modified_at, datetime) and tiny.size and tiny.digest
    shown = await client.show(TINY)
    assert shown.capabilities == ["completion"]
    assert shown.parameters is not None and "temperature" in shown.parameters
    assert shown.modelinfo is not None and shown.modelinfo["general.architecture"] == "llama"


async def test_generate(client: ollama.AsyncClient) -> None:
    out = await client.generate(model=TINY, prompt="hello there", raw=True)
    assert (out.response, out.done, out.done_reason, out.eval_count) == ("hello there", True, "stop", 2)
    assert out.total_duration and out.load_duration and out.prompt_eval_count == len("hello there")
    short = await client.generate(model=TINY, prompt="hello there", raw=True, options={"num_predict": 1})
    assert (short.response, short.done_reason) == ("hello", "length")


async def test_generate_stream(client: ollama.AsyncClient) -> None:
    parts = [p async for p in await client.generate(model=TINY, prompt="a b c", raw=True, stream=True)]
    assert [p.response for p in parts] == ["a", " b", " c", ""]
    assert [p.done for p in parts] == [False, False, False, True]
    assert parts[-1].context is None and parts[-1].done_reason == "stop"


async def test_stream_keeps_lines_whole_around_a_next_line_character(client: ollama.AsyncClient) -> None:
    # U+0085 is a line break to str.splitlines and so to httpx's iter_lines under the client; Go's encoder writes it
    # raw, which split the line in two and broke the client's JSON parsing on random-weight models.
    parts = [p async for p in await client.generate(model=TINY, prompt="a\x85b c\u2028d", raw=True, stream=True)]
    assert "".join(p.response for p in parts) == "a\x85b c\u2028d"


async def test_chat(client: ollama.AsyncClient) -> None:
    out = await client.chat(model=TINY, messages=[{"role": "user", "content": "hi"}])
    assert out.message.role == "assistant"
    assert out.message.content == "<user>hi</user><assistant>"
    streamed = [
        p async for p in await client.chat(model=TINY, messages=[{"role": "user", "content": "hi"}], stream=True)
    ]
    assert "".join(p.message.content or "" for p in streamed) == out.message.content
    assert streamed[-1].done and streamed[-1].eval_count == out.eval_count


async def test_load_ps_and_unload(client: ollama.AsyncClient) -> None:
    loaded = await client.generate(model=TINY, prompt="", keep_alive="10m")
    assert (loaded.done, loaded.done_reason) == (True, "load")
    (running,) = (await client.ps()).models
    assert (running.model, running.context_length) == (f"{TINY}:latest", 4096)
    assert isinstance(running.expires_at, datetime)
    unloaded = await client.chat(model=TINY, messages=[], keep_alive=0)
    assert (unloaded.done_reason, unloaded.message.content) == ("unload", "")
    assert (await client.ps()).models == []


async def test_error_statuses_raise_response_error(client: ollama.AsyncClient) -> None:
    with pytest.raises(ollama.ResponseError) as missing:
        await client.generate(model="nope", prompt="hi")
    assert (missing.value.status_code, missing.value.error) == (404, "model 'nope' not found")
    with pytest.raises(ollama.ResponseError) as bad_option:
        await client.chat(model=TINY, messages=[{"role": "user", "content": "hi"}], options={"num_ctx": "8"})
    assert (bad_option.value.status_code, bad_option.value.error) == (500, 'option "num_ctx" must be of type integer')


async def test_error_line_mid_stream_raises_response_error(srv: Served, client: ollama.AsyncClient) -> None:
    srv.engine.die_after = 1
    parts = []
    with pytest.raises(ollama.ResponseError) as died:
        async for part in await client.generate(model=TINY, prompt="a b c", raw=True, stream=True):
            parts.append(part.response)
    assert parts == ["a"]
    assert died.value.error == RUNNER_STOPPED
