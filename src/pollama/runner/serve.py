"""The runner process's side of the connection: a reader thread that decodes frames, tokenizes embedding inputs
and answers detokenize itself (so they never wait behind a decode step); a tokenizer thread that tokenizes
completion prompts and answers tokenize and count, cancellable between chunks (so a huge text never keeps the
reader from seeing its cancel); and a locked writer shared with the engine threads."""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any

from pollama.errors import PROMPT_TOO_LONG
from pollama.runner import protocol as p
from pollama.runner.embedding import Embedder
from pollama.runner.engine import Engine
from pollama.runner.inflight import Request
from pollama.runner.llama import Model
from pollama.runner.tokenizing import Cancelled, count, prompt_tokens, tokens

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


class Tokenizer:
    """The tokenizer thread: completion prompts (then handed to the engine), tokenize and count, one at a time
    in arrival order. A cancel marks a job that is queued or running; it is dropped at its next chunk."""

    def __init__(self, conn: Connection, model: Model, engine: Engine) -> None:
        self._conn = conn
        self._model = model
        self._engine = engine
        self._jobs: queue.SimpleQueue[tuple[int, dict[str, Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Jobs queued or running, each with its cancel flag.
        self._pending: dict[int, threading.Event] = {}
        self._thread = threading.Thread(target=self._run, name="runner-tokenizer", daemon=True)
        self._thread.start()

    def put(self, req_id: int, msg: dict[str, Any]) -> None:
        with self._lock:
            self._pending[req_id] = threading.Event()
        self._jobs.put((req_id, msg))

    def cancel(self, req_id: int) -> None:
        with self._lock:
            flag = self._pending.get(req_id)
            if flag is not None:
                flag.set()

    def shutdown(self) -> None:
        with self._lock:
            for flag in self._pending.values():
                flag.set()
        self._jobs.put(None)

    def _tokenize(self, text: str, add_special: bool) -> list[int]:
        return self._model.tokenize(text, add_special=add_special)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            req_id, msg = job
            with self._lock:
                flag = self._pending.get(req_id) or threading.Event()
            try:
                self._do(req_id, msg, flag.is_set)
            except Cancelled:
                log.info("request %d cancelled while its text was being tokenized", req_id)
            except (ValueError, KeyError, TypeError) as e:
                err: p.ErrorMsg = {"op": "error", "id": req_id, "kind": "bad_request", "message": str(e)}
                self._conn.send([p.encode(err)])
            finally:
                with self._lock:
                    self._pending.pop(req_id, None)

    def _do(self, req_id: int, msg: dict[str, Any], cancelled: Callable[[], bool]) -> None:
        op = msg["op"]
        if op == "completion":
            self._completion(req_id, msg, cancelled)
        elif op == "tokenize":
            toks = tokens(self._tokenize, msg["text"], add_special=bool(msg.get("add_special")), cancelled=cancelled)
            reply: p.TokensMsg = {"op": "tokens", "id": req_id, "tokens": toks}
            self._conn.send([p.encode(reply)])
        else:
            limit = msg.get("limit")
            n = count(
                self._tokenize,
                msg["text"],
                add_special=bool(msg.get("add_special")),
                cancelled=cancelled,
                limit=None if limit is None else int(limit),
            )
            counted: p.CountMsg = {"op": "count", "id": req_id, "count": n}
            self._conn.send([p.encode(counted)])

    def _completion(self, req_id: int, msg: dict[str, Any], cancelled: Callable[[], bool]) -> None:
        shift = bool(msg["shift"])
        num_keep = int(msg["num_keep"])
        toks = prompt_tokens(
            self._tokenize, msg["prompt"], num_ctx=self._engine.num_ctx, num_keep=num_keep, shift=shift,
            cancelled=cancelled,
        )  # fmt: skip
        if toks is None:
            err: p.ErrorMsg = {"op": "error", "id": req_id, "kind": "prompt_too_long", "message": PROMPT_TOO_LONG}
            self._conn.send([p.encode(err)])
            return
        req = Request(
            id=req_id,
            tokens=toks,
            sampling=p.sampling_from_msg(msg["sampling"]),
            num_predict=int(msg["num_predict"]),
            stop=list(msg["stop"]),
            num_keep=num_keep,
            shift=shift,
            grammar=msg.get("grammar"),
            grammar_triggers=tuple(msg.get("grammar_triggers") or ()),
            logprobs=bool(msg.get("logprobs")),
            top_logprobs=int(msg.get("top_logprobs") or 0),
            logit_bias=p.logit_bias_from_msg(msg.get("logit_bias")),
        )
        # Under the lock, so that a cancel arriving now either sees the job pending or finds it in the engine.
        with self._lock:
            if not cancelled():
                self._engine.submit(req)


def read_loop(conn: Connection, model: Model, engine: Engine, embedder: Embedder) -> None:
    """Runs on the reader thread until the server closes the connection, then stops the engines."""
    tokenizer = Tokenizer(conn, model, engine)
    try:
        while (msg := conn.recv()) is not None:
            handle(conn, model, engine, msg, embedder, tokenizer)
    except (OSError, ValueError) as e:
        log.error("connection to server failed: %s", e)
    finally:
        tokenizer.shutdown()
        embedder.shutdown()
        engine.shutdown()


def handle(
    conn: Connection, model: Model, engine: Engine, msg: dict[str, Any], embedder: Embedder, tokenizer: Tokenizer
) -> None:
    op, req_id = msg["op"], int(msg.get("id", 0))
    try:
        if op in ("completion", "tokenize", "count"):
            tokenizer.put(req_id, msg)
        elif op == "embed":
            embedder.embed(req_id, [str(x) for x in msg["inputs"]], bool(msg["truncate"]))
        elif op == "cancel":
            # The tokenizer first: a completion it hands over after this is found in the engine's queue.
            tokenizer.cancel(req_id)
            engine.cancel(req_id)
            embedder.cancel(req_id)
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
