"""The commands that move models and draw progress: ``pull``, ``push`` and ``create``.

``create`` does its Modelfile work on the client, as Ollama's does: it parses the file, hashes the local files
FROM/ADAPTER/DRAFT name, uploads each one the server does not already have (``HEAD`` then ``POST
/api/blobs/<digest>``), and only then sends ``/api/create`` with the digests, so it works against a remote server.
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pollama.cli.client import Client, CLIError
from pollama.cli.progress import Progress, Spinner, TransferDisplay
from pollama.modelfile.parser import Modelfile, ModelfileError, parse
from pollama.modelfile.request import CreateRequestError, create_request
from pollama.store.names import Name

MODELFILE_NOT_FOUND = "specified Modelfile wasn't found"
_CHUNK = 1 << 20


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:").strip()[:12]


def pull(client: Client, model: str, insecure: bool = False) -> None:
    """``pollama pull``: bars appear once a layer has bytes (Ollama skips the 0% announcement)."""
    progress = Progress()
    display = TransferDisplay(progress, lambda r: f"pulling {_short(str(r['digest']))}:", skip_empty=True)
    try:
        for resp in client.stream("/api/pull", {"model": model, "insecure": insecure}):
            display(resp)
    finally:
        progress.stop()


def push(client: Client, model: str, insecure: bool = False) -> None:
    """``pollama push``: progress, then where the model can be found."""
    progress = Progress()
    display = TransferDisplay(
        progress, lambda r: str(r.get("status") or f"pushing {str(r['digest'])[7:19]}..."), skip_empty=False
    )
    try:
        for resp in client.stream("/api/push", {"model": model, "insecure": insecure}):
            display(resp)
    except CLIError as err:
        text = str(err).lower()
        if "access denied" in text or "unauthorized" in text:
            raise CLIError(
                "you are not authorized to push to this namespace, create the model under a namespace you own"
            ) from err
        raise
    finally:
        progress.stop()
    name = Name.parse(model)
    destination = str(name)
    if name.host.endswith((".ollama.ai", ".ollama.com")):
        destination = "https://ollama.com/" + name.display_shortest().removesuffix(":latest")
    print(f"\nYou can find your model at:\n\n\t{destination}")


def _modelfile_text(path: str | None) -> tuple[bytes, str]:
    """The Modelfile's bytes and its directory; no ``-f`` and no ``./Modelfile`` means ``FROM .``."""
    name = os.path.abspath(path or "Modelfile")
    try:
        return Path(name).read_bytes(), os.path.dirname(name)
    except FileNotFoundError:
        if path:
            raise CLIError(MODELFILE_NOT_FOUND) from None
        return b"FROM .\n", os.getcwd()
    except OSError as err:
        raise CLIError(f"open {name}: {err.strerror}") from None


def request_file_names(files: dict[str, str]) -> dict[str, str]:
    """``createRequestFileNames``: each uploaded path's name in the request, relative to their common folder."""
    names: dict[str, str] = {}
    root = _common_root(files)
    for f in files:
        name = os.path.basename(f)
        if root is not None:
            rel = os.path.relpath(os.path.abspath(f), root)
            if rel not in (".", "..") and not rel.startswith(".." + os.sep):
                name = rel
        names[f] = posixpath.normpath(name.replace(os.sep, "/"))
    return names


def _common_root(files: dict[str, str]) -> str | None:
    if len(files) < 2:
        return None
    root = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    return root or None


def _upload(client: Client, progress: Progress, path: str, digest: str) -> None:
    """``createBlob``, skipping a blob the server already has; the spinner counts the bytes sent."""
    if client.has_blob(digest):
        return
    real = os.path.realpath(path)
    size = os.path.getsize(real) or 1
    spinner = Spinner(f"copying file {digest} 0%")
    if progress.interactive:
        progress.add(spinner)

    def chunks() -> Iterator[bytes]:
        sent = 0
        with open(real, "rb") as f:
            while block := f.read(_CHUNK):
                sent += len(block)
                spinner.message = f"copying file {digest} {100 * sent // size}%"
                yield block

    try:
        client.create_blob(digest, chunks())
    finally:
        spinner.message = f"copying file {digest} 100%"
        spinner.stop()
    if not progress.interactive:
        progress.add(spinner)  # plain output: one line, once the upload is done


def read_modelfile(path: str | None) -> tuple[Modelfile, str]:
    """The parsed Modelfile and the folder its relative paths start from."""
    data, folder = _modelfile_text(path)
    try:
        return parse(data), folder
    except ModelfileError as err:
        raise CLIError(str(err)) from None


def build_request(
    model: str, modelfile: Modelfile, folder: str, quantize: str = "", draft_quantize: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``/api/create`` body for ``model`` and the local files it needs uploaded (path → digest)."""
    try:
        req = create_request(modelfile, folder, warn=lambda message: print(message, file=sys.stderr))
    except CreateRequestError as err:
        raise CLIError(str(err)) from None
    except OSError as err:
        raise CLIError(f"{err.filename or ''}: {err.strerror or err}") from None
    uploads: dict[str, str] = {}
    for key in ("files", "adapters", "draft_files"):
        if key in req:
            names = request_file_names(req[key])
            uploads.update(req[key])
            req[key] = {names[path]: digest for path, digest in req[key].items()}
    req["model"] = model
    if quantize:
        req["quantize"] = quantize
    if draft_quantize:
        if not req.get("draft_files"):
            raise CLIError("--draft-quantize requires a DRAFT model")
        req["draft_quantize"] = draft_quantize
    return req, uploads


def create(
    client: Client, model: str, modelfile_path: str | None, quantize: str = "", draft_quantize: str = ""
) -> None:
    """``pollama create MODEL [-f Modelfile] [-q TYPE]``."""
    if not Name.parse(model).is_valid():
        raise CLIError(f"invalid model name: {model}")
    modelfile, folder = read_modelfile(modelfile_path)
    progress = Progress()
    try:
        gathering = Spinner("gathering model components")
        progress.add(gathering)
        req, uploads = build_request(model, modelfile, folder, quantize, draft_quantize)
        gathering.stop()
        for path, digest in uploads.items():
            _upload(client, progress, path, digest)
        display = TransferDisplay(
            progress, lambda r: str(r.get("status") or f"pulling {str(r['digest'])[7:19]}..."), skip_empty=False
        )
        display.follow(gathering)
        for resp in client.stream("/api/create", req):
            display(resp)
    finally:
        progress.stop()
