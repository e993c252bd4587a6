"""Typed reads of OpenAI request fields, each failure a 400 naming the field (OpenAI bodies are read as plain
JSON objects: every field is optional and most have several accepted forms)."""

from __future__ import annotations

from typing import Any

from pollama.errors import BadRequest


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def wrong_type(name: str, value: Any, expected: str) -> BadRequest:
    return BadRequest(f"invalid type for '{name}': expected {expected}, got {_kind(value)}")


def opt_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise wrong_type(name, value, "string")


def opt_bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise wrong_type(name, value, "boolean")


def opt_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise wrong_type(name, value, "integer")


def opt_float(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise wrong_type(name, value, "number")


def opt_dict(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise wrong_type(name, value, "object")


def model_name(body: dict[str, Any]) -> str:
    name = opt_str(body, "model")
    if not name:
        raise BadRequest("model is required")
    return name


def stop_list(body: dict[str, Any]) -> list[str] | None:
    """``stop``: a string or an array of strings."""
    value = body.get("stop")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise BadRequest(f"invalid type for 'stop' field: {_kind(item)}")
        return list(value)
    raise wrong_type("stop", value, "string or array of strings")


def sampling_options(body: dict[str, Any], *, max_tokens: int | None) -> dict[str, Any]:
    """The native ``options`` of OpenAI's sampling fields, with OpenAI's defaults (temperature and top_p 1.0)."""
    opts: dict[str, Any] = {}
    if max_tokens is not None:
        opts["num_predict"] = max_tokens
    temperature = opt_float(body, "temperature")
    opts["temperature"] = 1.0 if temperature is None else temperature
    top_p = opt_float(body, "top_p")
    opts["top_p"] = top_p or 1.0
    for name in ("frequency_penalty", "presence_penalty"):
        value = opt_float(body, name)
        if value is not None:
            opts[name] = value
    seed = opt_int(body, "seed")
    if seed is not None:
        opts["seed"] = seed
    stop = stop_list(body)
    if stop is not None:
        opts["stop"] = stop
    return opts


def choices_count(body: dict[str, Any]) -> int:
    """``n``: how many choices to generate (1 to 16: each is a full generation on this machine)."""
    n = opt_int(body, "n")
    if n is None:
        return 1
    if not 1 <= n <= MAX_CHOICES:
        raise BadRequest(f"invalid value for 'n': {n} (must be between 1 and {MAX_CHOICES})")
    return n


MAX_CHOICES = 16


def include_usage(body: dict[str, Any]) -> bool:
    opts = opt_dict(body, "stream_options") or {}
    return bool(opts.get("include_usage"))
