"""The runner process's side of the connection: a reader thread that decodes frames, tokenizes completion
prompts and embedding inputs and answers tokenize/detokenize itself (so they never wait behind a decode step),
and a locked writer shared with the engine thread and the embedding engine's thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any

from pollama.runner import protocol as p
from pollama.runner.embedding import Embedder
from pollama.runner.engine import Engine, Request
from pollama.runner.llama import Model

log = logging.getLogger("pollama.runner")


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, frames: list[bytes]) -> None:
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        # If the server went away, the reader sees EOF and shuts the engine down.
        with self._lock, contextlib.suppress(OSError):
            self._sock.sendall(data)

    def _recv_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def recv(self) -> dict[str, Any] | None:
        head = self._recv_exact(p.HEADER.size)
        if head is None:
            return None
        (size,) = p.HEADER.unpack(head)
        if size > p.MAX_FRAME:
            raise ValueError(f"frame too large: {size}")
        body = self._recv_exact(size)
        return None if body is None else p.decode(body)


def read_loop(conn: Connection, model: Model, engine: Engine, embedder: Embedder) -> None:
    """Runs on the reader thread until the server closes the connection, then stops the engines."""
    try:
        while (msg := conn.recv()) is not None:
            handle(conn, model, engine, msg, embedder)
    except (OSError, ValueError) as e:
        log.error("connection to server failed: %s", e)
    finally:
        embedder.shutdown()
        engine.shutdown()


def handle(conn: Connection, model: Model, engine: Engine, msg: dict[str, Any], embedder: Embedder) -> None:
    op, req_id = msg["op"], int(msg.get("id", 0))
    try:
        if op == "completion":
            engine.submit(
                Request(
                    id=req_id,
                    tokens=model.tokenize(msg["prompt"], add_special=True),
                    sampling=p.sampling_from_msg(msg["sampling"]),
                    num_predict=int(msg["num_predict"]),
                    stop=list(msg["stop"]),
                    num_keep=int(msg["num_keep"]),
                    shift=bool(msg["shift"]),
                    grammar=msg.get("grammar"),
                    grammar_triggers=tuple(msg.get("grammar_triggers") or ()),
                    logprobs=bool(msg.get("logprobs")),
                    top_logprobs=int(msg.get("top_logprobs") or 0),
                    logit_bias=p.logit_bias_from_msg(msg.get("logit_bias")),
                )
            )
        elif op == "embed":
            embedder.embed(req_id, [str(x) for x in msg["inputs"]], bool(msg["truncate"]))
        elif op == "cancel":
            engine.cancel(req_id)
            embedder.cancel(req_id)
        elif op == "tokenize":
            tokens: p.TokensMsg = {
                "op": "tokens",
                "id": req_id,
                "tokens": model.tokenize(msg["text"], add_special=bool(msg.get("add_special", False))),
            }
            conn.send([p.encode(tokens)])
        elif op == "detokenize":
            text: p.TextMsg = {"op": "text", "id": req_id, "text": model.detokenize(list(msg["tokens"]))}
            conn.send([p.encode(text)])
        else:
            raise ValueError(f"unknown op {op!r}")
    except (ValueError, KeyError, TypeError) as e:
        err: p.ErrorMsg = {"op": "error", "id": req_id, "kind": "bad_request", "message": str(e)}
        conn.send([p.encode(err)])


def serve(sock: socket.socket, model: Model) -> None:
    """Announce readiness, then run the engine on this thread until the server disconnects."""
    conn = Connection(sock)
    engine = Engine(model, conn.send)
    embedder = Embedder(model, conn.send)
    ready: p.ReadyMsg = {"op": "ready", "info": model.info().__dict__}
    conn.send([p.encode(ready)])
    reader = threading.Thread(target=read_loop, args=(conn, model, engine, embedder), name="runner-reader", daemon=True)
    reader.start()
    engine.run()
