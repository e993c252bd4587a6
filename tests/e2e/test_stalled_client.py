"""A client that stops reading a stream (issue 10): its connection stays open, its window shuts, and after
OLLAMA_SEND_TIMEOUT the server cancels the generation and frees the slot, as llama-server's write timeout does."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

from e2e_helpers import MODEL, Server


def stalled_stream(server: Server) -> socket.socket:
    """A raw connection that asks for a long stream of large lines, reads the status line, then stops reading."""
    host, port = server.host.split(":")
    sock = socket.socket()
    # A small receive window and a small segment size (the server's send buffer grows by segments), so the
    # server's writes back up after a couple of hundred kilobytes rather than megabytes.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.connect((host, int(port)))
    body = json.dumps(
        {
            "model": MODEL,
            "prompt": "Count from one to a million, one number per line.",
            "logprobs": True,
            "top_logprobs": 20,
            # Greedy: this prompt then runs on for thousands of tokens, where a sampled answer may end early
            # (the stream would finish and never stall).
            "options": {"num_predict": 100_000, "num_ctx": 2048, "temperature": 0},
        }
    ).encode()
    head = f"POST /api/generate HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: application/json\r\n"
    sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    assert sock.recv(12) == b"HTTP/1.1 200"
    return sock


def test_a_client_that_stops_reading_loses_its_slot(start_server: Callable[..., Server]) -> None:
    server = start_server(OLLAMA_NUM_PARALLEL="1", OLLAMA_SEND_TIMEOUT="2s")
    sock = stalled_stream(server)
    try:
        # The one slot is held by the stalled stream; this request gets it once the server gives up on that one.
        with server.client() as c:
            r = c.post("/api/generate", json={"model": MODEL, "prompt": "Say hi.", "stream": False,
                                              "options": {"num_predict": 5, "num_ctx": 2048}})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["done"] is True
        log = server.log.read_text()
        assert "client stopped reading for 2s (OLLAMA_SEND_TIMEOUT), request cancelled: POST /api/generate" in log
        assert "ASGI callable returned without completing response" not in log
        # The server closed the stalled connection: what it had sent drains, then EOF.
        sock.settimeout(60)
        deadline = time.monotonic() + 120
        while sock.recv(65536):
            assert time.monotonic() < deadline
    finally:
        sock.close()
