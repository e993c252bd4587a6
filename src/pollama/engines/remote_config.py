"""The remote models file (``OLLAMA_REMOTES``, default ``~/.ollama/remotes.toml``): which model names are served by
remote OpenAI-compatible engines, where their replicas are, and how to talk to them.

```toml
[defaults]                      # optional; every key may also be set per model
health_interval = 5             # seconds between health checks of each replica
timeout = 600                   # seconds an upstream may take to answer (connect: 5)

[[models]]
name = "qwen-coder-32b"         # the name clients use (Ollama's naming rules)
model = "Qwen/Qwen2.5-Coder-32B-Instruct"   # the model id upstream (default: the name)
engine = "vllm"                 # "vllm", "llama-server" or "openai" (any other OpenAI-compatible server)
upstreams = ["http://gpu1:8000", { url = "http://gpu2:8000", api_key_env = "GPU2_KEY", parallel = 64 }]
api_key = "..."                 # sent as Bearer to every upstream without its own key
parallel = 32                   # requests each replica serves at once before others are preferred
template = '''{{ .Prompt }}'''  # a Go template as in a Modelfile; or chat_template = Jinja (Hugging Face)
system = "You are terse."
parameters = { temperature = 0.2, stop = ["<|im_end|>"] }
capabilities = ["completion", "tools"]      # optional: what the model can do (default: from the template)
context_length = 32768          # optional: the context (default: what the upstream reports)
health_path = "/health"         # optional: what a health check GETs (default: /health; /v1/models for "openai")
```

Parsing only: no network here. ``RemoteConfigError`` says which entry is wrong and why.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pollama.api.options import KINDS, Options, apply
from pollama.errors import PollamaError
from pollama.store.names import Name

EngineKind = Literal["llama-server", "vllm", "openai"]
ENGINE_KINDS: tuple[str, ...] = get_args(EngineKind)
CAPABILITIES = ("completion", "embedding", "tools", "insert", "thinking", "vision")

DEFAULT_HEALTH_INTERVAL = 5.0
DEFAULT_TIMEOUT = 600.0
DEFAULT_PARALLEL = 4


class RemoteConfigError(ValueError):
    """The remote models file cannot be read or describes something invalid."""


@dataclass(frozen=True)
class UpstreamConfig:
    """One replica: its base URL (without ``/v1``), the key it wants and how many requests it serves at once."""

    url: str
    api_key: str = field(default="", repr=False)
    parallel: int = DEFAULT_PARALLEL


@dataclass(frozen=True)
class RemoteModel:
    """One model name served by remote replicas."""

    name: Name
    model: str
    engine: EngineKind
    upstreams: tuple[UpstreamConfig, ...]
    template: str | None = None
    """A Go template (Modelfile ``TEMPLATE``)."""
    chat_template: str | None = None
    """A Hugging Face Jinja chat template; with neither, a llama-server upstream's own template is used."""
    system: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    context_length: int = 0
    health_interval: float = DEFAULT_HEALTH_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    health_path: str = ""
    """Path a health check GETs under each upstream URL; empty: the engine's usual one."""

    @property
    def display_name(self) -> str:
        return self.name.display_shortest()

    @property
    def capacity(self) -> int:
        """Requests all replicas together serve at once: the scheduler's slots for this model."""
        return sum(u.parallel for u in self.upstreams)


@dataclass(frozen=True)
class RemoteConfig:
    """Every remote model of the file, and where it was read from (for messages)."""

    path: Path | None = None
    models: tuple[RemoteModel, ...] = ()
    mtime: float = 0.0

    def find(self, name: str | Name) -> RemoteModel | None:
        """The remote model ``name`` designates (Ollama's case-insensitive name matching), if any."""
        parsed = name if isinstance(name, Name) else Name.parse(name)
        if not parsed.is_valid():
            return None
        for model in self.models:
            if model.name.equal_fold(parsed):
                return model
        return None


def default_path() -> Path:
    return Path.home() / ".ollama" / "remotes.toml"


def load(path: Path, *, required: bool) -> RemoteConfig:
    """Read the remote models file; a missing file is an empty configuration unless ``required``."""
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        if required:
            raise RemoteConfigError(f"{path}: no such file") from None
        return RemoteConfig(path)
    except OSError as err:
        raise RemoteConfigError(f"{path}: {err.strerror or err}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise RemoteConfigError(f"{path}: {err}") from None
    try:
        return RemoteConfig(path, parse(doc), mtime)
    except RemoteConfigError as err:
        raise RemoteConfigError(f"{path}: {err}") from None


def parse(doc: Mapping[str, Any], env: Mapping[str, str] | None = None) -> tuple[RemoteModel, ...]:
    """The models of a parsed TOML document; ``env`` resolves ``api_key_env`` (default: the environment)."""
    env = os.environ if env is None else env
    unknown = set(doc) - {"defaults", "models"}
    if unknown:
        raise RemoteConfigError(f"unknown top-level key {sorted(unknown)[0]!r} (expected [defaults] and [[models]])")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise RemoteConfigError("[defaults] must be a table")
    entries = doc.get("models", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RemoteConfigError("models must be an array of tables ([[models]])")
    models: list[RemoteModel] = []
    for i, entry in enumerate(entries):
        where = f"models[{i}]" + (f" ({entry['name']})" if isinstance(entry.get("name"), str) else "")
        try:
            model = _model({**defaults, **entry}, env)
        except RemoteConfigError as err:
            raise RemoteConfigError(f"{where}: {err}") from None
        if any(m.name.equal_fold(model.name) for m in models):
            raise RemoteConfigError(f"{where}: the name {model.display_name!r} is used twice")
        models.append(model)
    return tuple(models)


_MODEL_KEYS = {
    "name", "model", "engine", "upstreams", "api_key", "api_key_env", "parallel", "template", "chat_template",
    "system", "parameters", "capabilities", "context_length", "health_interval", "timeout", "health_path",
}  # fmt: skip
_UPSTREAM_KEYS = {"url", "api_key", "api_key_env", "parallel"}


def _model(d: Mapping[str, Any], env: Mapping[str, str]) -> RemoteModel:
    unknown = set(d) - _MODEL_KEYS
    if unknown:
        raise RemoteConfigError(f"unknown key {sorted(unknown)[0]!r}")
    raw_name = _str(d, "name", required=True)
    name = Name.parse(raw_name)
    if not name.is_valid():
        raise RemoteConfigError(f"invalid model name {raw_name!r}")
    engine = _str(d, "engine") or "openai"
    if engine not in ENGINE_KINDS:
        raise RemoteConfigError(f"engine must be one of {', '.join(ENGINE_KINDS)}, not {engine!r}")
    template, chat_template = _opt_str(d, "template"), _opt_str(d, "chat_template")
    if template is not None and chat_template is not None:
        raise RemoteConfigError("give template (Go) or chat_template (Jinja), not both")
    key = _api_key(d, env)
    parallel = _positive_int(d, "parallel", DEFAULT_PARALLEL)
    upstreams = d.get("upstreams")
    if isinstance(upstreams, str | dict):
        upstreams = [upstreams]
    if not isinstance(upstreams, list) or not upstreams:
        raise RemoteConfigError("upstreams must list at least one URL")
    ups = tuple(_upstream(u, key, parallel, env) for u in upstreams)
    if len({u.url for u in ups}) != len(ups):
        raise RemoteConfigError("an upstream URL is listed twice")
    health_path = _str(d, "health_path")
    if health_path and not health_path.startswith("/"):
        raise RemoteConfigError("health_path must start with /")
    capabilities = d.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(c in CAPABILITIES for c in capabilities):
        raise RemoteConfigError(f"capabilities must be a list of {', '.join(CAPABILITIES)}")
    return RemoteModel(
        name=name,
        model=_str(d, "model") or raw_name,
        engine=engine,  # type: ignore[arg-type]  # checked against ENGINE_KINDS above
        upstreams=ups,
        template=template,
        chat_template=chat_template,
        system=_str(d, "system"),
        parameters=_parameters(d.get("parameters", {})),
        capabilities=tuple(dict.fromkeys(capabilities)),
        context_length=_positive_int(d, "context_length", 0, zero=True),
        health_interval=_seconds(d, "health_interval", DEFAULT_HEALTH_INTERVAL),
        timeout=_seconds(d, "timeout", DEFAULT_TIMEOUT),
        health_path=health_path,
    )


def _upstream(u: object, key: str, parallel: int, env: Mapping[str, str]) -> UpstreamConfig:
    if isinstance(u, str):
        u = {"url": u}
    if not isinstance(u, dict):
        raise RemoteConfigError("an upstream must be a URL or a table with url")
    unknown = set(u) - _UPSTREAM_KEYS
    if unknown:
        raise RemoteConfigError(f"unknown upstream key {sorted(unknown)[0]!r}")
    url = _str(u, "url", required=True).rstrip("/")
    # Operators paste the OpenAI base URL; the engines' own endpoints (/health, /tokenize) live above /v1.
    url = url.removesuffix("/v1")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteConfigError(f"upstream URL {url!r} must be http(s)://host[:port]")
    return UpstreamConfig(url=url, api_key=_api_key(u, env) or key, parallel=_positive_int(u, "parallel", parallel))


def _api_key(d: Mapping[str, Any], env: Mapping[str, str]) -> str:
    key = _str(d, "api_key")
    var = _str(d, "api_key_env")
    if var:
        if var not in env:
            raise RemoteConfigError(f"api_key_env names {var}, which is not set")
        key = env[var].strip()
    return key


def _parameters(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RemoteConfigError("parameters must be a table")
    for key in raw:
        if key not in KINDS:
            raise RemoteConfigError(f"unknown parameter {key!r}")
    try:
        apply(Options(), raw)
    except PollamaError as err:
        raise RemoteConfigError(f"parameters: {err.message}") from None
    return dict(raw)


def _str(d: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    v = d.get(key)
    if v is None:
        if required:
            raise RemoteConfigError(f"{key} is required")
        return ""
    if not isinstance(v, str):
        raise RemoteConfigError(f"{key} must be a string")
    if required and not v.strip():
        raise RemoteConfigError(f"{key} is required")
    return v


def _opt_str(d: Mapping[str, Any], key: str) -> str | None:
    return _str(d, key) if key in d else None


def _positive_int(d: Mapping[str, Any], key: str, default: int, *, zero: bool = False) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (v == 0 and not zero):
        raise RemoteConfigError(f"{key} must be a {'non-negative' if zero else 'positive'} integer")
    return v


def _seconds(d: Mapping[str, Any], key: str, default: float) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise RemoteConfigError(f"{key} must be a positive number of seconds")
    return float(v)
