"""Configuration from the ``OLLAMA_*`` environment variables, read in this one place.

Parsing follows Ollama's ``envconfig``: values are trimmed of spaces and surrounding quotes, an unparseable
non-empty boolean counts as true, an invalid number falls back to the default.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("pollama")

FOREVER = math.inf
_DEFAULT_KEEP_ALIVE = 300.0


def _clean(env: Mapping[str, str], key: str) -> str:
    return env.get(key, "").strip().strip("\"'").strip()


_GO_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_GO_FALSE = ("0", "f", "F", "false", "FALSE", "False")


def go_parse_bool(value: str) -> bool | None:
    """Go's ``strconv.ParseBool``: exactly its spellings, ``None`` for anything else."""
    return True if value in _GO_TRUE else False if value in _GO_FALSE else None


def parse_bool(value: str, default: bool = False) -> bool:
    """Ollama's ``envconfig.Bool``: a value Go's ParseBool fails on (``yes``, ``fAlSe``) still means "set"."""
    if not value:
        return default
    parsed = go_parse_bool(value)
    return True if parsed is None else parsed


def _uint(env: Mapping[str, str], key: str, default: int) -> int:
    raw = _clean(env, key)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        log.warning("invalid environment variable, using default: %s=%s default=%d", key, raw, default)
        return default
    return value if value >= 0 else default


_DURATION_RE = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class DurationError(ValueError):
    pass


def parse_go_duration(text: str) -> float:
    """Parse a Go ``time.Duration`` string (``"5m"``, ``"1h30m"``, ``"-1s"``, ``"0"``) into seconds."""
    s = text
    if s in ("0", "+0", "-0"):
        return 0.0
    sign = 1.0
    if s and s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if not s:
        raise DurationError(f'time: invalid duration "{text}"')
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _DURATION_RE.match(s, pos)
        if m is None:
            if re.fullmatch(r"[0-9]*\.?[0-9]+", s[pos:]):
                raise DurationError(f'time: missing unit in duration "{text}"')
            raise DurationError(f'time: invalid duration "{text}"')
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return sign * total


def parse_host(raw: str) -> tuple[str, int]:
    """``OLLAMA_HOST`` as Ollama reads it: ``[scheme://]host[:port][/path]``."""
    default_port = 11434
    value = raw or "127.0.0.1:11434"
    scheme = "http"
    if "://" in value:
        scheme, value = value.split("://", 1)
    if scheme == "https":
        default_port = 443
    elif scheme == "http" and raw and "://" in raw:
        default_port = 80
    value = value.split("/", 1)[0]
    host, port = value, default_port
    if value.startswith("["):
        end = value.find("]")
        host = value[1:end]
        rest = value[end + 1 :]
        if rest.startswith(":"):
            port = _port(rest[1:], default_port)
    elif value.count(":") == 1:
        host, p = value.split(":")
        port = _port(p, default_port)
    if not host:
        host = "127.0.0.1"
    return host, port


def _port(text: str, default: int) -> int:
    try:
        port = int(text)
    except ValueError:
        return default
    return port if 0 <= port <= 65535 else default


def keep_alive_from_env(raw: str) -> float:
    if not raw:
        return _DEFAULT_KEEP_ALIVE
    try:
        seconds = parse_go_duration(raw)
    except DurationError:
        try:
            seconds = float(int(raw))
        except ValueError:
            return _DEFAULT_KEEP_ALIVE
    return FOREVER if seconds < 0 else seconds


def api_keys_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """``OLLAMA_API_KEYS`` (comma-separated) and the lines of ``OLLAMA_API_KEYS_FILE`` (``#`` starts a comment).

    A key file that is set but cannot be read is a ``ValueError``: starting open when the operator asked for
    keys would be the wrong way to fail.
    """
    keys = [k.strip() for k in _clean(env, "OLLAMA_API_KEYS").split(",")]
    path = _clean(env, "OLLAMA_API_KEYS_FILE")
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"OLLAMA_API_KEYS_FILE: cannot read {path}: {err}") from None
        keys += [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return tuple(dict.fromkeys(k for k in keys if k))


KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")
"""The KV cache types Ollama accepts; anything else falls back to f16."""

_DEFAULT_LOAD_TIMEOUT = 300.0


def flash_attention_from_env(raw: str) -> bool | None:
    """``OLLAMA_FLASH_ATTENTION``: unset leaves the choice to llama.cpp (``None``, its "auto")."""
    return parse_bool(raw) if raw else None


def kv_cache_type_from_env(raw: str, flash_attention: bool | None) -> str:
    """``OLLAMA_KV_CACHE_TYPE``, case-insensitive. A quantized cache needs flash attention in llama.cpp (the V
    cache cannot be quantized without it), so without flash attention turned on it falls back to f16 with a
    warning, as Ollama does; so does a type Ollama does not know."""
    kind = raw.lower()
    if not kind or kind == "f16":
        return "f16"
    if kind not in KV_CACHE_TYPES:
        log.warning("kv cache type not supported, using f16: OLLAMA_KV_CACHE_TYPE=%s", raw)
        return "f16"
    if flash_attention is not True:
        log.warning("quantized kv cache requested but flash attention disabled, using f16: type=%s", kind)
        return "f16"
    return kind


def _timeout_from_env(name: str, raw: str, default: float, shown: str) -> float:
    """A Go duration or a number of seconds; zero or less is ``FOREVER``. An unparseable value keeps the default
    with Ollama's warning."""
    if not raw:
        return default
    try:
        seconds = parse_go_duration(raw)
    except DurationError:
        try:
            seconds = float(int(raw))
        except ValueError:
            log.warning("invalid environment variable, using default: %s=%s default=%s", name, raw, shown)
            return default
    return FOREVER if seconds <= 0 else seconds


def load_timeout_from_env(raw: str) -> float:
    """``OLLAMA_LOAD_TIMEOUT``: how long a model may take to load, 5 minutes by default (Ollama's)."""
    return _timeout_from_env("OLLAMA_LOAD_TIMEOUT", raw, _DEFAULT_LOAD_TIMEOUT, "5m")


def origins_from_env(raw: str) -> tuple[str, ...]:
    """``OLLAMA_ORIGINS`` split at commas and nothing else, as ``envconfig.AllowedOrigins`` does: an entry keeps
    its spaces, so gin's check refuses ``http://a, http://b`` at start-up (`` http://b`` has no scheme) and a
    spaced wildcard entry never matches; an empty entry (a trailing comma) is refused too."""
    return tuple(raw.split(",")) if raw else ()


def send_timeout_from_env(raw: str) -> float:
    """``OLLAMA_SEND_TIMEOUT`` (not in Ollama): how long a client may take to accept one write of an answer,
    600 s by default as llama-server's write timeout."""
    return _timeout_from_env("OLLAMA_SEND_TIMEOUT", raw, 600.0, "10m")


DEFAULT_CACHE_RAM = 4096
"""MiB of host memory for each loaded model's prompt cache (llama-server's --cache-ram is 8192 for its one model;
pollama keeps up to three models loaded by default)."""

DEFAULT_MAX_BODY = 256 << 20
"""256 MiB: far above any chat with base64 images or embedding batch, far below a server's memory."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    models: Path
    keep_alive: float
    num_parallel: int
    max_loaded_models: int
    max_queue: int
    context_length: int
    noprune: bool
    debug: int
    origins: tuple[str, ...]
    api_keys: tuple[str, ...] = ()
    """The keys a request may present; empty (the default) leaves the server open, as Ollama is."""
    flash_attention: bool | None = None
    """``None``: llama.cpp decides (its "auto")."""
    kv_cache_type: str = "f16"
    load_timeout: float = _DEFAULT_LOAD_TIMEOUT
    """Seconds a runner may take to load its model; ``FOREVER`` for no limit."""

    max_body: int = 0
    """The largest request body accepted, in bytes (``/api/blobs/`` exempt); 0 is no limit."""
    send_timeout: float = FOREVER
    num_threads: int = 0
    """Threads a runner uses when the request and model leave ``num_thread`` at 0; 0: the physical cores."""
    """Seconds a client may take to accept one write of an answer before its request is cancelled."""

    remotes: str = ""
    """``OLLAMA_REMOTES``: the remote models file; empty reads ``~/.ollama/remotes.toml`` when it exists."""

    cache_ram: int = DEFAULT_CACHE_RAM
    """MiB of host memory each loaded model may use to keep prompts evicted from its slots; 0 turns it off."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        host, port = parse_host(_clean(e, "OLLAMA_HOST"))
        models_raw = _clean(e, "OLLAMA_MODELS")
        models = Path(models_raw).expanduser() if models_raw else Path.home() / ".ollama" / "models"
        debug_raw = _clean(e, "OLLAMA_DEBUG")
        try:
            debug = int(debug_raw) if debug_raw else 0
        except ValueError:
            # Ollama's LogLevel: a true ParseBool is DEBUG, anything else unparseable stays INFO.
            debug = 1 if go_parse_bool(debug_raw) else 0
        num_parallel = _uint(e, "OLLAMA_NUM_PARALLEL", 4) or 4
        flash_attention = flash_attention_from_env(_clean(e, "OLLAMA_FLASH_ATTENTION"))
        return cls(
            host=host,
            port=port,
            models=models,
            keep_alive=keep_alive_from_env(_clean(e, "OLLAMA_KEEP_ALIVE")),
            num_parallel=num_parallel,
            max_loaded_models=_uint(e, "OLLAMA_MAX_LOADED_MODELS", 0) or 3,
            max_queue=_uint(e, "OLLAMA_MAX_QUEUE", 512) or 512,
            context_length=_uint(e, "OLLAMA_CONTEXT_LENGTH", 0) or 4096,
            noprune=parse_bool(_clean(e, "OLLAMA_NOPRUNE")),
            debug=debug,
            origins=origins_from_env(_clean(e, "OLLAMA_ORIGINS")),
            api_keys=api_keys_from_env(e),
            flash_attention=flash_attention,
            kv_cache_type=kv_cache_type_from_env(_clean(e, "OLLAMA_KV_CACHE_TYPE"), flash_attention),
            load_timeout=load_timeout_from_env(_clean(e, "OLLAMA_LOAD_TIMEOUT")),
            max_body=_uint(e, "OLLAMA_MAX_BODY", DEFAULT_MAX_BODY),
            send_timeout=send_timeout_from_env(_clean(e, "OLLAMA_SEND_TIMEOUT")),
            num_threads=_uint(e, "OLLAMA_NUM_THREADS", 0),
            remotes=_clean(e, "OLLAMA_REMOTES"),
            cache_ram=_uint(e, "OLLAMA_CACHE_RAM", DEFAULT_CACHE_RAM),
        )
