"""One upstream replica over HTTP (httpx, async): health, what it reports about its model, streamed completions,
tokenize/detokenize and embeddings, with failures sorted into the replica's fault and the request's.

``ReplicaFailed``: the replica did not answer, answered 5xx, or broke a stream; it should be taken out of
rotation. ``UpstreamRejected``: it answered 4xx, so the request itself is at fault (a 400 for the client).
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import certifi
import httpx

from pollama.engines.remote_config import EngineKind, UpstreamConfig

CONNECT_TIMEOUT = 5.0
HEALTH_TIMEOUT = 5.0


class ReplicaFailed(Exception):
    """The replica is unreachable or broken (connection refused or reset, timeout, 5xx, a stream cut short)."""


class UpstreamRejected(Exception):
    """The replica refused the request (4xx); ``message`` is its explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class UpstreamFacts:
    """What a replica reports about the model it serves (whatever of it the engine exposes)."""

    model_id: str = ""
    n_ctx: int = 0
    n_ctx_train: int = 0
    n_vocab: int = 0
    n_params: int = 0
    size: int = 0
    chat_template: str = ""
    chat_template_tool_use: str = ""
    bos_token: str = ""
    eos_token: str = ""
    add_bos: bool = False
    build: str = ""
    owned_by: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def _error_text(r: httpx.Response) -> str:
    try:
        body = r.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return r.text.strip()[:500] or f"HTTP {r.status_code}"
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return str(err["message"])
    if isinstance(err, str):
        return err
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return r.text.strip()[:500]


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # One context for every client: loading the CA bundle takes ~0.1 s, which each new client would otherwise pay
    # when a remote model loads.
    return ssl.create_default_context(cafile=certifi.where())


class UpstreamClient:
    """HTTP to one replica; ``url`` is its base (the OpenAI API lives under ``/v1``)."""

    def __init__(
        self, cfg: UpstreamConfig, engine: EngineKind, model: str, timeout: float, health_path: str = ""
    ) -> None:
        self.cfg = cfg
        self.health_path = health_path or ("/v1/models" if engine == "openai" else "/health")
        self.url = cfg.url
        self.engine = engine
        self.model = model
        headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
        # Keep-alive connections expire before llama-server's (5 s) so a request never lands on one the server
        # is closing; the streams themselves may run as long as the model generates.
        self._http = httpx.AsyncClient(
            base_url=cfg.url,
            headers=headers,
            verify=_ssl_context(),
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=2.0),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> httpx.Response:
        """One request, retried once on a connection that broke before any answer (a keep-alive race)."""
        extra: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
        for attempt in (1, 2):
            try:
                r = await self._http.request(method, path, **kw, **extra)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
                if attempt == 2:
                    raise ReplicaFailed(f"{type(err).__name__}: {err}") from None
                continue
            except httpx.HTTPError as err:
                raise ReplicaFailed(f"{type(err).__name__}: {err}") from None
            return self._check(r)
        raise AssertionError("unreachable")

    async def _json(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        r = await self._request(method, path, timeout=timeout, **kw)
        try:
            return r.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ReplicaFailed(f"{path} answered with something that is not JSON") from None

    @staticmethod
    def _check(r: httpx.Response) -> httpx.Response:
        if r.status_code >= 500:
            raise ReplicaFailed(f"HTTP {r.status_code}: {_error_text(r)}")
        if r.status_code >= 400:
            raise UpstreamRejected(r.status_code, _error_text(r))
        return r

    async def health(self) -> None:
        """Raises ReplicaFailed unless the replica answers its health endpoint with a success."""
        try:
            await self._request("GET", self.health_path, timeout=HEALTH_TIMEOUT)
        except UpstreamRejected as err:
            raise ReplicaFailed(f"HTTP {err.status}: {err.message}") from None

    async def facts(self) -> UpstreamFacts:
        """What the replica reports: its models list (all engines) and, for llama-server, ``/props`` and whether
        its tokenizer adds BOS."""
        kw: dict[str, Any] = {}
        data = await self._json("GET", "/v1/models", timeout=HEALTH_TIMEOUT)
        models = data.get("data") if isinstance(data, dict) else None
        entry: dict[str, Any] = {}
        if isinstance(models, list):
            dicts = [m for m in models if isinstance(m, dict)]
            entry = next((m for m in dicts if m.get("id") == self.model), dicts[0] if len(dicts) == 1 else {})
        meta: dict[str, Any] = entry["meta"] if isinstance(entry.get("meta"), dict) else {}
        kw["model_id"] = str(entry.get("id", ""))
        kw["owned_by"] = str(entry.get("owned_by", ""))
        max_len = entry.get("max_model_len")  # vLLM
        if isinstance(max_len, int):
            kw["n_ctx"] = kw["n_ctx_train"] = max_len
        for key, src in (("n_ctx_train", "n_ctx_train"), ("n_vocab", "n_vocab"), ("n_params", "n_params")):
            if isinstance(meta.get(src), int):
                kw[key] = meta[src]
        if isinstance(meta.get("size"), int):
            kw["size"] = meta["size"]
        if self.engine == "llama-server":
            props = await self._json("GET", "/props", timeout=HEALTH_TIMEOUT)
            settings = props.get("default_generation_settings") or {}
            if isinstance(settings.get("n_ctx"), int):
                kw["n_ctx"] = settings["n_ctx"]
            for key in ("chat_template", "chat_template_tool_use", "bos_token", "eos_token"):
                if isinstance(props.get(key), str):
                    kw[key] = props[key]
            if isinstance(props.get("build_info"), str):
                kw["build"] = props["build_info"]
            kw["add_bos"] = bool(await self.tokenize("", add_special=True))
        return UpstreamFacts(**kw, extra={"meta": meta})

    async def completion(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The events of a streamed ``/v1/completions`` (``data:`` lines until ``[DONE]``).

        Raises:
            ReplicaFailed: before the first event (nothing sent yet: safe to retry elsewhere) or during the
                stream (the caller's client has text already).
            UpstreamRejected: the replica refused the request.
        """
        for attempt in (1, 2):
            request = self._http.build_request("POST", "/v1/completions", json=body)
            try:
                response = await self._http.send(request, stream=True)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
                if attempt == 2:
                    raise ReplicaFailed(f"{type(err).__name__}: {err}") from None
                continue
            except httpx.HTTPError as err:
                raise ReplicaFailed(f"{type(err).__name__}: {err}") from None
            break
        try:
            if response.status_code >= 400:
                await response.aread()
                self._check(response)
            ended = False
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    if line.startswith("error:"):
                        raise UpstreamRejected(400, line[6:].strip())
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    ended = True
                    break
                event = json.loads(payload)
                if isinstance(event, dict) and "error" in event:
                    problem = event["error"]
                    message = problem.get("message", str(problem)) if isinstance(problem, dict) else str(problem)
                    raise ReplicaFailed(f"stream error: {message}")
                if isinstance(event, dict):
                    yield event
            if not ended:
                raise ReplicaFailed("the stream ended without [DONE]")
        except httpx.HTTPError as err:
            raise ReplicaFailed(f"{type(err).__name__}: {err}") from None
        except json.JSONDecodeError as err:
            raise ReplicaFailed(f"malformed event: {err}") from None
        finally:
            await response.aclose()

    async def tokenize(self, text: str, add_special: bool = False) -> list[int]:
        if self.engine == "llama-server":
            body: dict[str, Any] = {"content": text, "add_special": add_special}
        else:
            body = {"model": self.model, "prompt": text, "add_special_tokens": add_special}
        data = await self._json("POST", "/tokenize", json=body)
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise ReplicaFailed("/tokenize answered without tokens")
        return [int(t["id"]) if isinstance(t, dict) else int(t) for t in tokens]

    async def detokenize(self, tokens: list[int]) -> str:
        body: dict[str, Any] = {"tokens": tokens}
        if self.engine != "llama-server":
            body["model"] = self.model
        data = await self._json("POST", "/detokenize", json=body)
        text = data.get("content", data.get("prompt")) if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise ReplicaFailed("/detokenize answered without text")
        return text

    async def embeddings(self, inputs: list[str]) -> tuple[list[list[float]], int]:
        """The vectors of ``inputs`` in order, and the prompt tokens the replica counted for them all."""
        body = {"model": self.model, "input": inputs, "encoding_format": "float"}
        data = await self._json("POST", "/v1/embeddings", json=body)
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list) or len(rows) != len(inputs):
            raise ReplicaFailed("/v1/embeddings answered without one vector per input")
        rows = sorted(rows, key=lambda r: int(r.get("index", 0)))
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return [[float(x) for x in r["embedding"]] for r in rows], int(usage.get("prompt_tokens", 0))
