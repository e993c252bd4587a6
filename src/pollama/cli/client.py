"""The CLI's HTTP client for a pollama (or Ollama) server, found through ``OLLAMA_HOST`` as Ollama's client finds it.

It speaks plain JSON dicts: the CLI only reads a few fields of each response, and a dict survives a server that
adds fields. Errors follow Ollama's ``api.Client``: a non-streamed failure is the server's ``error`` text, a
streamed one before the body starts is ``"<code> <reason>: <error>"``, and an ``{"error": …}`` line mid-stream is
its text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterable
from typing import Any

import httpx

from pollama import __version__
from pollama.config import parse_host

NOT_RUNNING = "could not connect to pollama server, run 'pollama serve' to start it"


class CLIError(Exception):
    """An error the CLI prints as ``Error: <message>`` before exiting with status 1."""


class APIError(CLIError):
    """The server answered with an error (Ollama's ``StatusError``)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def host_url(raw: str | None = None) -> str:
    """``envconfig.Host``: ``[scheme://]host[:port][/path]`` with Ollama's default scheme and ports."""
    value = (os.environ.get("OLLAMA_HOST", "") if raw is None else raw).strip().strip("\"'").strip()
    scheme, rest = value.split("://", 1) if "://" in value else ("http", value)
    path = "/" + rest.split("/", 1)[1].rstrip("/") if "/" in rest else ""
    host, port = parse_host(value)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}{path.rstrip('/')}"


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")
    if isinstance(data, dict) and isinstance(error := data.get("error"), str):
        return error
    return body.decode(errors="replace")


class Client:
    """Blocking calls to the server; streamed endpoints yield one dict per NDJSON line."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url or host_url()
        headers = {"User-Agent": f"pollama/{__version__}"}
        # For a server started with OLLAMA_API_KEYS; Ollama's own CLI has no such variable.
        if key := os.environ.get("OLLAMA_API_KEY", "").strip():
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(None, connect=10))

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, body: Any = None, content: Iterable[bytes] | None = None) -> httpx.Response:
        try:
            if content is not None:
                return self._http.request(method, path, content=content)
            return self._http.request(method, path, json=body)
        except httpx.ConnectError as err:
            raise CLIError(NOT_RUNNING) from err
        except httpx.HTTPError as err:
            raise CLIError(str(err) or type(err).__name__) from err

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON call; the decoded body (None when empty)."""
        r = self._send(method, path, body)
        if r.status_code >= 400:
            raise APIError(_error_text(r.content) if r.content else r.reason_phrase, r.status_code)
        return r.json() if r.content else None

    def stream(self, path: str, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """POST ``body`` and yield each line; closing the generator drops the connection (the server stops)."""
        try:
            with self._http.stream("POST", path, json=body, headers={"Accept": "application/x-ndjson"}) as r:
                status = f"{r.status_code} {r.reason_phrase}"
                for line in r.iter_lines():
                    if not line:
                        continue
                    try:
                        data = json.loads(line)
                    except ValueError:
                        raise APIError(f"{status}: {line}" if r.status_code >= 400 else line, r.status_code) from None
                    error = data.get("error") if isinstance(data, dict) else None
                    if r.status_code >= 400:
                        raise APIError(f"{status}: {error}" if error else status, r.status_code)
                    if error:
                        raise APIError(str(error))
                    yield data
        except httpx.ConnectError as err:
            raise CLIError(NOT_RUNNING) from err
        except httpx.HTTPError as err:
            raise CLIError(str(err) or type(err).__name__) from err

    def heartbeat(self) -> None:
        self._send("HEAD", "/")

    def version(self) -> str:
        data = self.request("GET", "/api/version")
        return str(data.get("version", "")) if isinstance(data, dict) else ""

    def show(self, model: str, **extra: Any) -> dict[str, Any]:
        data = self.request("POST", "/api/show", {"model": model, **extra})
        return data if isinstance(data, dict) else {}

    def has_blob(self, digest: str) -> bool:
        r = self._send("HEAD", f"/api/blobs/{digest}")
        return r.status_code == 200

    def create_blob(self, digest: str, chunks: Iterable[bytes]) -> None:
        r = self._send("POST", f"/api/blobs/{digest}", content=chunks)
        if r.status_code >= 400:
            raise APIError(_error_text(r.content) if r.content else r.reason_phrase, r.status_code)
