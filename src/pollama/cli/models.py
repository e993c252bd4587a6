"""The model-management commands that print tables or one line: ``list``, ``ps``, ``show``, ``cp``, ``rm``, ``stop``.

Output follows Ollama's ``cmd/cmd.go`` handlers (``ListHandler``, ``ListRunningHandler``, ``ShowHandler`` and
``showInfo``, ``CopyHandler``, ``DeleteHandler``, ``StopHandler``) line for line.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from pollama.cli.client import APIError, Client, CLIError
from pollama.cli.format import human_bytes, human_number, human_time, parse_time, table
from pollama.cli.progress import Progress, Spinner
from pollama.gojson import format_float

SHOW_FLAGS = ("license", "modelfile", "parameters", "system", "template")
IMAGE_UNSUPPORTED = "image generation models are not currently supported"


def list_models(client: Client, prefix: str | None = None, now: datetime | None = None) -> str:
    """``pollama list [PREFIX]``: NAME, ID, SIZE, MODIFIED (prefix matched case-insensitively)."""
    models = (client.request("GET", "/api/tags") or {}).get("models") or []
    rows = []
    for m in models:
        name = str(m.get("name", ""))
        if prefix is not None and not name.lower().startswith(prefix.lower()):
            continue
        size = "-" if m.get("remote_model") else human_bytes(int(m.get("size") or 0))
        modified = human_time(parse_time(str(m.get("modified_at", ""))), "Never", now)
        rows.append([name, str(m.get("digest", ""))[:12], size, modified])
    return table(rows, ["NAME", "ID", "SIZE", "MODIFIED"])


def processor(size: int, size_vram: int) -> str:
    """The PROCESSOR column of ``ps``."""
    if size_vram == 0:
        return "100% CPU"
    if size_vram == size:
        return "100% GPU"
    if size_vram > size or size == 0:
        return "Unknown"
    cpu = math.floor((size - size_vram) / size * 100 + 0.5)
    return f"{cpu}%/{100 - cpu}% CPU/GPU"


def list_running(client: Client, prefix: str | None = None, now: datetime | None = None) -> str:
    """``pollama ps [PREFIX]``: NAME, ID, SIZE, PROCESSOR, CONTEXT, UNTIL."""
    now = now or datetime.now(UTC)
    models = (client.request("GET", "/api/ps") or {}).get("models") or []
    rows = []
    for m in models:
        name = str(m.get("name", ""))
        if prefix is not None and not name.startswith(prefix):
            continue
        size = int(m.get("size") or 0)
        expires = parse_time(str(m.get("expires_at", "")))
        until = "Stopping..." if expires is not None and expires < now else human_time(expires, "Never", now)
        proc = processor(size, int(m.get("size_vram") or 0))
        ctx = str(int(m.get("context_length") or 0))
        rows.append([name, str(m.get("digest", ""))[:12], human_bytes(size), proc, ctx, until])
    return table(rows, ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"])


def _go_value(value: Any) -> str:
    """``fmt.Sprintf("%v")`` of a decoded JSON value, as the Metadata table prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return format_float(float(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    return str(value)


def _shape(dims: list[Any]) -> str:
    return "[" + " ".join(str(int(d)) for d in dims) + "]"


def _metadata_value(value: Any) -> str:
    if isinstance(value, list):
        shown = 0
        total = 1
        for i, item in enumerate(value):
            width = len(_go_value(item)) + (2 if i > 0 else 0)
            if total + width > 10 and i > 0:
                break
            total += width
            shown += 1
        text = "[" + " ".join(_go_value(v) for v in value[:shown]) + "]"
        return text[:-1] + f" ...+{len(value) - shown} more]" if shown < len(value) else text
    if isinstance(value, str | bool | float | int):
        return _go_value(value)
    return "map[string]interface {}" if isinstance(value, dict) else "<nil>"


def _head(text: str, n: int) -> list[list[str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows = [["", line] for line in lines[:n]]
    return [*rows, ["", "..."]] if len(lines) > n else rows


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _model_rows(resp: dict[str, Any]) -> list[list[str]]:
    details = resp.get("details") or {}
    rows: list[list[str]] = []
    if resp.get("remote_host"):
        rows += [["", "Remote model", str(resp.get("remote_model", ""))], ["", "Remote URL", resp["remote_host"]]]
    info = resp.get("model_info")
    if info is not None:
        arch = info.get("general.architecture")
        arch = arch if isinstance(arch, str) else ""
        if arch:
            rows.append(["", "architecture", arch])
        params = str(details.get("parameter_size") or "")
        count = info.get("general.parameter_count")
        if not params and isinstance(count, int | float) and not isinstance(count, bool):
            params = human_number(int(count))
        if params:
            rows.append(["", "parameters", params])
        for key, label in (("context_length", "context length"), ("embedding_length", "embedding length")):
            if (value := _number(info.get(f"{arch}.{key}"))) is not None:
                rows.append(["", label, value])
    else:
        rows += [["", "architecture", str(details.get("family", ""))]]
        rows += [["", "parameters", str(details.get("parameter_size", ""))]]
    rows.append(["", "quantization", str(details.get("quantization_level", ""))])
    if resp.get("requires"):
        rows.append(["", "requires", str(resp["requires"])])
    return rows


def _projector_rows(proj: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    arch = proj.get("general.architecture")
    arch = arch if isinstance(arch, str) else ""
    if arch:
        rows.append(["", "architecture", arch])
    count = proj.get("general.parameter_count")
    if isinstance(count, int | float) and not isinstance(count, bool):
        rows.append(["", "parameters", human_number(int(count))])
    for suffix, label in (("embedding_length", "embedding length"), ("projection_dim", "dimensions")):
        for modality in ("vision", "audio"):
            if (value := _number(proj.get(f"{arch}.{modality}.{suffix}"))) is not None:
                rows.append(["", label, value])
                break
    return rows


def show_info(resp: dict[str, Any], verbose: bool = False) -> str:
    """``showInfo``: the Model, Capabilities, Projector, Parameters, Metadata, Tensors, System, License tables."""
    out: list[str] = []

    def section(header: str, rows: Callable[[], list[list[str]]]) -> None:
        width = 100 if header in ("Template", "System", "License") else 30
        out.append(f"  {header}\n" + table(rows(), col_width=width) + "\n")

    section("Model", lambda: _model_rows(resp))
    if caps := resp.get("capabilities"):
        section("Capabilities", lambda: [["", str(c)] for c in caps])
    if (proj := resp.get("projector_info")) is not None:
        section("Projector", lambda: _projector_rows(proj))
    if params := resp.get("parameters"):
        section("Parameters", lambda: [["", *line.split()] for line in params.splitlines() if line.strip()])
    info = resp.get("model_info")
    if info is not None and verbose:
        section("Metadata", lambda: [["", k, _metadata_value(info[k])] for k in sorted(info)])
    if (tensors := resp.get("tensors")) and verbose:
        section("Tensors", lambda: [["", t["name"], t["type"], _shape(t.get("shape") or [])] for t in tensors])
    if system := resp.get("system"):
        section("System", lambda: _head(system, 2))
    if license_text := resp.get("license"):
        section("License", lambda: _head(license_text, 2))
    return "".join(out)


def show(client: Client, model: str, field: str | None, verbose: bool) -> str:
    """``pollama show MODEL [--license|--modelfile|--parameters|--system|--template] [-v]``."""
    resp = client.show(model, verbose=True) if verbose else client.show(model)
    if "image" in (resp.get("capabilities") or []):
        raise CLIError(IMAGE_UNSUPPORTED)
    if field in ("system", "template"):
        return str(resp.get(field) or "")
    if field is not None:
        return str(resp.get(field) or "") + "\n"
    return show_info(resp, verbose)


def copy(client: Client, source: str, destination: str) -> str:
    client.request("POST", "/api/copy", {"source": source, "destination": destination})
    return f"copied '{source}' to '{destination}'\n"


def unload(client: Client, model: str, keep_alive: Any = 0) -> None:
    """``loadOrUnloadModel``: an empty generate request that loads (or with keep_alive 0 unloads) the model."""
    progress = Progress()
    progress.add(Spinner(""))
    try:
        client.show(model)
        for _ in client.stream("/api/generate", {"model": model, "keep_alive": keep_alive}):
            pass
    finally:
        progress.stop_and_clear()


def stop(client: Client, model: str) -> None:
    try:
        unload(client, model)
    except APIError as err:
        if "not found" in str(err):
            raise CLIError(f'couldn\'t find model "{model}" to stop') from err
        raise


def remove(client: Client, models: list[str], out: TextIO = sys.stdout) -> None:
    """``pollama rm MODEL...``: unload each model if it is running, then delete it."""
    for model in models:
        try:
            unload(client, model)
        except CLIError as err:
            if "not found" not in str(err).lower():
                print(f"Warning: unable to stop model '{model}'", file=sys.stderr)
        client.request("DELETE", "/api/delete", {"model": model})
        print(f"deleted '{model}'", file=out, flush=True)
