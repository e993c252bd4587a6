"""A parsed Modelfile turned into an ``/api/create`` request body, as Ollama's client does it
(``parser.go: Modelfile.CreateRequest``, ``api/types.go: FormatParams``).

FROM/ADAPTER/DRAFT paths that exist become ``files``/``adapters``/``draft_files`` maps of path → sha256 digest
(the caller uploads them with ``POST /api/blobs``); a FROM that is not a path names a model (``from``).
PARAMETER values are typed by Ollama's ``Options`` field types; deprecated ones are warned about and dropped.
"""

from __future__ import annotations

import glob as globmod
import hashlib
import logging
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pollama.api.options import DEPRECATED_PARAMETERS, KINDS, Kind
from pollama.gojson import Float32, format_float
from pollama.modelfile.parser import Modelfile, parse

log = logging.getLogger("pollama.modelfile")


# Ollama's api.Options by JSON name → kind; ``draft_num_predict`` is still accepted in a Modelfile, unused.
PARAMETER_KINDS: dict[str, Kind] = {**KINDS, "draft_num_predict": "int"}

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_FLOAT_RE = re.compile(r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$", re.IGNORECASE)
_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True}
_BOOLS |= {"0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
_SEMVER_RE = re.compile(
    r"^v(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?$"
)


class CreateRequestError(ValueError):
    """A Modelfile that parses but cannot become a create request (Ollama's client-side errors)."""


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"  # fmt's %s of a []string


def format_param(key: str, values: list[str]) -> Any:
    """``FormatParams`` for one key: the typed value, or CreateRequestError with Ollama's message."""
    kind = PARAMETER_KINDS.get(key)
    if kind is None:
        raise CreateRequestError(f"unknown parameter '{key}'")
    raw = values[0]
    if kind == "int":
        if not _INT_RE.match(raw) or not -(2**63) <= int(raw) < 2**63:
            raise CreateRequestError(f"invalid int value {_go_list(values)}")
        return int(raw)
    if kind == "float":
        if not _FLOAT_RE.match(raw):
            raise CreateRequestError(f"invalid float value {_go_list(values)}")
        value = float(raw)
        if not math.isfinite(value):
            return value
        f32 = Float32(value)
        if math.isinf(f32):
            raise CreateRequestError(f"invalid float value {_go_list(values)}")  # out of float32 range
        # Go keeps a float32 and the client sends its shortest float32 spelling (0.1, not 0.10000000149).
        return float(format_float(f32))
    if kind == "bool":
        if raw not in _BOOLS:
            raise CreateRequestError(f"invalid bool value {_go_list(values)}")
        return _BOOLS[raw]
    return list(values)


def valid_semver(version: str) -> bool:
    """``golang.org/x/mod/semver.IsValid`` (``v`` prefix required; ``v1`` and ``v1.2`` are valid shorthands)."""
    return bool(_SEMVER_RE.match(version))


def expand_path(path: str, relative_dir: str) -> str:
    """``expandPath``: absolute stays, ``~``/``~user`` expand, anything else is relative to the Modelfile."""
    if os.path.isabs(path) or path.startswith("\\"):
        return os.path.abspath(path)
    if path.startswith("~"):
        expanded = os.path.expanduser(path)
        if expanded == path:
            user = path[1:].split("/", 1)[0]
            raise CreateRequestError(f"failed to find user '{user}': user: unknown user {user}")
        return os.path.abspath(expanded)
    return os.path.abspath(os.path.join(relative_dir, path))


def file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(os.path.realpath(path), "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _sniff(path: str) -> str:
    """A coarse ``http.DetectContentType`` for the three kinds filesForModel checks."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if any(b <= 0x08 or b == 0x0B or 0x0E <= b <= 0x1A or 0x1C <= b <= 0x1F for b in head):
        return "application/octet-stream"
    return "text/plain"


def _glob(pattern: str, content_type: str) -> list[str]:
    matches = sorted(globmod.glob(pattern))
    for m in matches:
        ct = _sniff(m)
        if content_type and ct != content_type:
            raise CreateRequestError(f"invalid content type: expected {ct} for {m}")
    return matches


def _try_glob(pattern: str, content_type: str) -> list[str]:
    try:
        return _glob(pattern, content_type)
    except CreateRequestError:
        return []


# filesForModel's model-file kinds, in order of preference: (glob, required content type).
_MODEL_GLOBS = (
    ("model*.safetensors", ""),
    ("consolidated*.safetensors", ""),
    ("pytorch_model*.bin", "application/zip"),
    ("consolidated*.pth", "application/zip"),
    ("*.gguf", "application/octet-stream"),
    ("*.bin", "application/octet-stream"),
)


def files_for_model(path: str) -> list[str]:
    """``filesForModel``: the model files of a directory (safetensors, pytorch, GGUF) plus config files."""
    j = os.path.join
    files: list[str] = []
    for pattern, content_type in _MODEL_GLOBS:
        if found := _try_glob(j(path, pattern), content_type):
            files += found
            if pattern == "model*.safetensors":
                files += _glob(j(path, "*", pattern), "")
            break
    else:
        raise CreateRequestError("no Modelfile or safetensors files found")
    files += _glob(j(path, "*.json"), "text/plain")
    files += _glob(j(path, "*", "*.json"), "text/plain")  # Go's "**" is a plain "*"
    files += _glob(j(path, "chat_template.jinja"), "text/plain")
    tokenizers = _try_glob(j(path, "tokenizer.model"), "application/octet-stream")
    files += tokenizers or _try_glob(j(path, "*", "tokenizer.model"), "text/plain")
    return files


def file_digest_map(path: str) -> dict[str, str]:
    """``fileDigestMap``: path → digest for a file, or for every model file of a directory.

    Raises FileNotFoundError when ``path`` does not exist.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if not os.path.isdir(path):
        return {path: file_digest(path)}
    out: dict[str, str] = {}
    for f in files_for_model(path):
        real = os.path.realpath(f)
        rel = os.path.relpath(real, path)
        if rel.startswith("..") or os.path.isabs(rel):
            if ".cache" in rel:
                raise CreateRequestError(
                    f"insecure path: {rel}\n\nUse --local-dir <dir> when downloading model to disable caching"
                )
            raise CreateRequestError(f"insecure path: {rel}")
        out[real] = file_digest(real)
    return out


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def create_request(
    modelfile: Modelfile, relative_dir: str = "", warn: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The ``/api/create`` body for ``modelfile`` (without ``model``), exactly as Ollama's client builds it.

    ``warn`` receives messages such as ``warning: parameter mirostat is deprecated`` (Ollama prints them).
    """
    req: dict[str, Any] = {}
    messages: list[dict[str, str]] = []
    licenses: list[str] = []
    params: dict[str, Any] = {}
    model_paths: list[str] = []
    draft_paths: list[str] = []
    for c in modelfile.commands:
        if c.name == "model":
            path = expand_path(c.args, relative_dir)
            try:
                digests = file_digest_map(path)
            except FileNotFoundError:
                req["from"] = c.args
                continue
            if any(_same_path(path, d) for d in draft_paths):
                raise CreateRequestError(f"DRAFT must not reference the same local path as FROM: {path}")
            model_paths.append(path)
            req.setdefault("files", {}).update(digests)
        elif c.name == "draft":
            path = expand_path(c.args, relative_dir)
            digests = file_digest_map(path)
            if any(_same_path(path, m) for m in model_paths):
                raise CreateRequestError(f"DRAFT must not reference the same local path as FROM: {path}")
            draft_paths.append(path)
            req.setdefault("draft_files", {}).update(digests)
        elif c.name == "adapter":
            req["adapters"] = file_digest_map(expand_path(c.args, relative_dir))
        elif c.name in ("template", "system", "renderer", "parser"):
            req[c.name] = c.args
        elif c.name == "license":
            licenses.append(c.args)
        elif c.name == "requires":
            version = c.args if c.args.startswith("v") else "v" + c.args
            if not valid_semver(version):
                raise CreateRequestError("requires must be a valid semver (e.g. 0.14.0)")
            req["requires"] = version.removeprefix("v")
        elif c.name == "message":
            role, _, content = c.args.partition(": ")
            messages.append({"role": role, "content": content})
        elif c.name in DEPRECATED_PARAMETERS:
            message = f"warning: parameter {c.name} is deprecated"
            log.warning("%s", message)
            if warn is not None:
                warn(message)
        else:
            value = format_param(c.name, [c.args])
            if isinstance(value, list) and isinstance(params.get(c.name), list):
                params[c.name] = params[c.name] + value  # repeated PARAMETER stop lines accumulate
            else:
                params[c.name] = value
    if params:
        req["parameters"] = params
    if messages:
        req["messages"] = messages
    if licenses:
        req["license"] = licenses
    return req


def parse_path(path: str | Path) -> Modelfile:
    """Read and parse a Modelfile from disk."""
    return parse(Path(path).read_bytes())
