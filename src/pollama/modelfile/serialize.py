"""Writing a Modelfile back to text, as ``ollama show --modelfile`` prints it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pollama.gojson import format_float

_QUOTED = ("license", "template", "system", "adapter", "renderer", "parser", "requires", "draft")


def quote(value: str) -> str:
    # Ollama prints a value that starts with a quote bare, and reads it back as a quoted one (or as an unclosed
    # quote): quote it.
    if "\n" in value or value.startswith((" ", '"')) or value.endswith(" "):
        if '"' in value:
            return f'"""{value}"""'
        return f'"{value}"'
    return value


def command(name: str, args: str) -> str:
    if name == "model":
        return f"FROM {args}"
    if name in _QUOTED:
        return f"{name.upper()} {quote(args)}"
    if name == "message":
        role, _, message = args.partition(": ")
        return f"MESSAGE {role} {quote(message)}"
    return f"PARAMETER {name} {quote(args)}"


def go_value(value: Any) -> str:
    """Go's ``%v`` of a JSON-decoded value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    return str(value)


def go_quoted(value: Any) -> str:
    """Go's ``%#v`` of a JSON-decoded value (strings quoted, numbers bare)."""
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    return go_value(value)


def parameter_lines(params: dict[str, Any]) -> list[tuple[str, Any]]:
    """Flatten list-valued parameters (``stop``) into one entry per value."""
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, list):
            out.extend((key, v) for v in value)
        else:
            out.append((key, value))
    return out


def modelfile(
    *,
    model_path: str,
    adapters: Iterable[str] = (),
    projectors: Iterable[str] = (),
    template: str | None = None,
    system: str = "",
    params: dict[str, Any] | None = None,
    license: Iterable[str] = (),
    messages: Iterable[dict[str, Any]] = (),
) -> str:
    commands = [command("model", model_path)]
    commands += [command("adapter", a) for a in adapters]
    commands += [command("model", p) for p in projectors]
    if template is not None:
        commands.append(command("template", template))
    if system:
        commands.append(command("system", system))
    commands += [command(k, go_value(v)) for k, v in parameter_lines(params or {})]
    commands += [command("license", text) for text in license]
    commands += [command("message", f"{m.get('role', '')}: {m.get('content', '')}") for m in messages]
    return "".join(c + "\n" for c in commands)
