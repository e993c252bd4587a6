"""``pollama run`` as an interactive chat under a pseudo-terminal (pexpect): typing at the ``>>> `` prompt, the
slash commands, ``\"\"\"`` multi-line input, Ctrl+C in the middle of a reply, Ctrl+D, and history on disk.

The server runs with one parallel slot, so a reply that Ctrl+C did not really stop would hold the slot and the
next prompt would never be answered.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pexpect
import pytest
from e2e_helpers import MODEL, Server

PROMPT = ">>> "
# prompt_toolkit's last write for an entered line (bracketed paste off): what follows is the command's output.
LINE_DONE = "\x1b[?2004l"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-tty")


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server], root: Path) -> Server:
    return start_server(OLLAMA_MODELS=str(root / "models"), HOME=str(root / "server-home"), OLLAMA_NUM_PARALLEL="1")


@pytest.fixture
def chat(server: Server, root: Path) -> Iterator[Callable[..., pexpect.spawn]]:
    spawned: list[pexpect.spawn] = []

    def spawn(*args: str, wait: bool = True) -> pexpect.spawn:
        env = {**os.environ, "OLLAMA_HOST": server.host, "HOME": str(root / "home"), "TERM": "xterm-256color"}
        # pexpect's pty is no terminal emulator: nothing would answer prompt_toolkit's cursor position queries.
        env["PROMPT_TOOLKIT_NO_CPR"] = "1"
        child = pexpect.spawn(
            sys.executable,
            ["-m", "pollama.cli.main", "run", *args],
            env=env,
            encoding="utf-8",
            timeout=120,
            dimensions=(40, 100),
        )
        spawned.append(child)
        if wait:
            child.expect_exact(PROMPT)
        return child

    yield spawn
    for child in spawned:
        child.close(force=True)


def say(child: pexpect.spawn, line: str, *expect: str) -> str:
    """Type a line, wait for each expected text in order and the next prompt; what was printed in between."""
    child.sendline(line)
    child.expect_exact(LINE_DONE)
    seen = ""
    for text in expect:
        child.expect_exact(text)
        seen += child.before + text
    child.expect_exact(PROMPT)
    return seen + child.before


def test_session_commands_and_save(chat: Callable[..., pexpect.spawn], server: Server, root: Path) -> None:
    c = chat(MODEL)
    assert "/set            Set session variables" in say(c, "/?", "Available Commands:")
    say(c, "/set parameter num_predict 8", "Set parameter 'num_predict' to '8'")
    say(c, "/set parameter bogus 1", "Couldn't set parameter: \"unknown parameter 'bogus'\"")
    say(c, "/set parameter stop END STOP", "Set parameter 'stop' to 'END, STOP'")
    say(c, "/set system You are a pirate.", "Set system message.")
    say(c, "/show system", "You are a pirate.")
    say(c, "/set verbose", "Set 'verbose' mode.")
    reply = say(c, "Hello", "eval count:")
    assert "eval duration:" in reply and "prompt eval rate:" in reply
    say(c, "/set quiet", "Set 'quiet' mode.")
    c.sendline('"""')
    c.expect_exact(LINE_DONE)
    c.expect_exact("... ")
    c.sendline("two lines")
    c.expect_exact(LINE_DONE)
    c.expect_exact("... ")
    say(c, 'of text"""')
    shown = say(c, "/show parameters", "User defined parameters:")
    assert "num_predict                    8" in shown and "stop                           [END STOP]" in shown
    say(c, "/save saved-session", "Created new model 'saved-session'")
    say(c, "/foo", "Unknown command '/foo'. Type /? for help")
    say(c, "/set frob", "Unknown command '/set frob'. Type /? for help")
    say(c, "/clear", "Cleared session context")
    say(c, "/load no-such-model", "Couldn't find model 'no-such-model'")
    say(c, "/load saved-session", "Loading model 'saved-session'")
    c.sendline("/bye")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0

    saved = httpx.post(server.url + "/api/show", json={"model": "saved-session"}).json()
    assert saved["system"] == "You are a pirate."
    assert "num_predict                    8" in saved["parameters"]
    user = [m["content"] for m in saved.get("messages", []) if m["role"] == "user"]
    assert user == ["Hello", "\ntwo lines\nof text"]  # as Ollama: the opening """ line counts as a line
    history = (root / "home" / ".ollama" / "history").read_text().splitlines()
    assert "/set system You are a pirate." in history and "/save saved-session" in history


def test_ctrl_c_stops_the_reply_and_ctrl_d_exits(chat: Callable[..., pexpect.spawn]) -> None:
    c = chat(MODEL)
    say(c, "/set parameter num_predict 100000", "Set parameter")
    c.sendline("Tell me a very long story about a lighthouse keeper.")
    c.expect_exact(LINE_DONE)  # the terminal is handed back: Ctrl+C is a signal again
    c.expect(r"[A-Za-z]{3}")  # the reply is streaming
    c.sendintr()
    c.expect_exact(PROMPT)
    # With one slot on the server, this reply only comes if the cancelled one stopped generating.
    say(c, "/set parameter num_predict 4", "Set parameter 'num_predict' to '4'")
    reply = say(c, "Hi")
    assert reply.strip()
    c.sendintr()
    c.expect_exact("Use Ctrl + d or /bye to exit.")
    c.expect_exact(PROMPT)
    c.sendeof()
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0


def test_messages_of_the_modelfile_are_echoed(chat: Callable[..., pexpect.spawn], server: Server) -> None:
    r = httpx.post(
        server.url + "/api/create",
        json={
            "model": "with-history",
            "from": MODEL,
            "parameters": {"num_predict": 4},
            "messages": [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "A cat."}],
            "stream": False,
        },
        timeout=120,
    )
    assert r.status_code == 200, r.text
    child = chat("with-history", wait=False)
    child.expect_exact(">>> Who are you?")
    child.expect_exact("A cat.")
    child.expect_exact(PROMPT)
    child.sendline("/bye")
    child.expect(pexpect.EOF)
