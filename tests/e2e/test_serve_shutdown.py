"""SIGTERM on `pollama serve`: in-flight streams are ended, runners are stopped, and the server exits 0."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from e2e_helpers import MODEL, Server

LONG = {"temperature": 0, "num_predict": 100000}


def test_sigterm_with_a_stream_in_flight_stops_runners_and_exits_cleanly(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()
    streaming = threading.Event()
    ended = threading.Event()

    def hold() -> None:
        try:
            with httpx.stream(
                "POST",
                f"{server.url}/api/generate",
                json={"model": MODEL, "prompt": "Go on forever.", "options": LONG},
                timeout=300,
            ) as r:
                for line in r.iter_lines():
                    if line:
                        assert "error" not in json.loads(line)
                        streaming.set()
        except httpx.HTTPError:
            pass  # the connection is closed under the stream: that is the point
        finally:
            ended.set()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert streaming.wait(120), "the stream never started"
    (runner,) = server.runner_pids()

    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=60) == 0, server.log.read_text()
    assert ended.wait(30), "the client was left hanging after the server exited"
    # The runner was stopped by the scheduler's shutdown, not orphaned: it is gone (or a zombie being reaped).
    stat = Path(f"/proc/{runner}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"), stat.read_text()
    log = server.log.read_text()
    assert "Traceback" not in log, log  # the cut stream is one warning line, not an application error
    assert "request cancelled at shutdown" in log, log
