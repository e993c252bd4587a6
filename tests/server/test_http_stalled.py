"""The send timeout in process: a client whose connection takes no more bytes has its stream cancelled (so its
generation and slot are freed) after OLLAMA_SEND_TIMEOUT; the live test with a raw socket is
tests/e2e/test_stalled_client.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from pollama.config import FOREVER, Settings
from pollama.server.stalled import SendTimeoutMiddleware

pytestmark = pytest.mark.anyio

SCOPE: Scope = {"type": "http", "method": "POST", "path": "/api/generate", "headers": []}


class Stream:
    """An endless stream that records whether it was closed (as a generation is cancelled when its stream is)."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = False

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def body() -> AsyncIterator[bytes]:
            try:
                while True:
                    self.sent += 1
                    yield b'{"response":"x"}\n'
                    await asyncio.sleep(0)
            finally:
                self.closed = True

        await StreamingResponse(body())(scope, receive, send)


async def never_disconnects() -> Message:
    await asyncio.Event().wait()
    raise AssertionError


def stalls_after(n: int) -> tuple[Send, list[Message]]:
    """A connection that takes ``n`` messages, then blocks as a full socket buffer does."""
    taken: list[Message] = []

    async def send(message: Message) -> None:
        if len(taken) >= n:
            await asyncio.Event().wait()
        taken.append(message)

    return send, taken


async def test_a_stalled_stream_is_cancelled_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    stream = Stream()
    send, taken = stalls_after(5)
    with caplog.at_level(logging.WARNING, logger="pollama"):
        await asyncio.wait_for(SendTimeoutMiddleware(stream.app, 0.2)(SCOPE, never_disconnects, send), 30)
    # The stream, dropped, is closed by the event loop's async-generator finalizer (as on a disconnect).
    for _ in range(500):
        if stream.closed:
            break
        await asyncio.sleep(0.01)
    assert stream.closed
    assert len(taken) == 5
    assert "client stopped reading for 0.2s (OLLAMA_SEND_TIMEOUT), request cancelled: POST /api/generate" in (
        caplog.text
    )


async def test_a_reading_client_is_never_cut() -> None:
    stream = Stream()
    taken: list[Message] = []

    async def send(message: Message) -> None:
        taken.append(message)
        if len(taken) > 2000:
            raise OSError("enough")  # stands in for the client leaving after reading all this

    with pytest.raises(OSError):
        await SendTimeoutMiddleware(stream.app, 0.05)(SCOPE, never_disconnects, send)
    assert len(taken) > 2000


def test_setting() -> None:
    assert Settings.from_env({}).send_timeout == 600
    assert Settings.from_env({"OLLAMA_SEND_TIMEOUT": "2s"}).send_timeout == 2
    assert Settings.from_env({"OLLAMA_SEND_TIMEOUT": "30"}).send_timeout == 30
    assert Settings.from_env({"OLLAMA_SEND_TIMEOUT": "0"}).send_timeout == FOREVER
    assert Settings.from_env({"OLLAMA_SEND_TIMEOUT": "soon"}).send_timeout == 600
