"""Thread control (issue 10): ``num_thread`` as Ollama has it (a positive count reaches llama.cpp, 0 or less
lets it decide), and pollama's OLLAMA_NUM_THREADS, the server's count where request and model leave it at 0."""

from __future__ import annotations

import pytest
from app_harness import TINY, Start

from pollama.config import Settings, go_parse_bool, parse_bool

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("env", "option", "threads"),
    [
        ({}, None, 0),  # llama.cpp decides (the runner uses the physical cores)
        ({}, 3, 3),
        ({}, -1, 0),  # Ollama passes no -t for a count of 0 or less
        ({"OLLAMA_NUM_THREADS": "2"}, None, 2),
        ({"OLLAMA_NUM_THREADS": "2"}, 5, 5),  # the request's own count wins
        ({"OLLAMA_NUM_THREADS": "many"}, None, 0),  # unparseable: the default, with a warning
    ],
)
async def test_num_thread_reaches_the_load_spec(
    start: Start, env: dict[str, str], option: int | None, threads: int
) -> None:
    options = {} if option is None else {"num_thread": option}
    async with start(**env) as srv:
        r = await srv.http.post(
            "/api/generate", json={"model": TINY, "prompt": "hi", "stream": False, "options": options}
        )
        assert r.status_code == 200, r.text
        assert max(0, srv.engine.specs[0].num_thread) == threads


async def test_num_thread_of_the_wrong_type_is_ollamas_error(start: Start) -> None:
    async with start() as srv:
        body = {"model": TINY, "prompt": "hi", "stream": False, "options": {"num_thread": "four"}}
        r = await srv.http.post("/api/generate", json=body)
        assert (r.status_code, r.json()) == (500, {"error": 'option "num_thread" must be of type integer'})


def test_setting_parses() -> None:
    assert Settings.from_env({}).num_threads == 0
    assert Settings.from_env({"OLLAMA_NUM_THREADS": "4"}).num_threads == 4
    assert Settings.from_env({"OLLAMA_NUM_THREADS": "-4"}).num_threads == 0


@pytest.mark.parametrize(
    ("raw", "go"),
    [("1", True), ("t", True), ("T", True), ("TRUE", True), ("True", True), ("true", True),
     ("0", False), ("f", False), ("F", False), ("FALSE", False), ("False", False), ("false", False),
     ("tRuE", None), ("fAlSe", None), ("yes", None), ("no", None), ("", None)],
)  # fmt: skip
def test_bools_parse_exactly_as_go(raw: str, go: bool | None) -> None:
    assert go_parse_bool(raw) is go
    # envconfig.Bool: set but unparseable is true; OLLAMA_FLASH_ATTENTION=fAlSe turns flash attention on.
    assert parse_bool(raw) is (bool(raw) if go is None else go)
    assert Settings.from_env({"OLLAMA_FLASH_ATTENTION": raw}).flash_attention is (None if not raw else parse_bool(raw))


@pytest.mark.parametrize(("raw", "debug"), [("1", 1), ("true", 1), ("2", 2), ("false", 0), ("yes", 0), ("0", 0)])
def test_debug_level_as_ollamas_log_level(raw: str, debug: int) -> None:
    assert Settings.from_env({"OLLAMA_DEBUG": raw}).debug == debug
