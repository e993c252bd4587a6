"""A Modelfile pasted into the page, turned into an ``/api/create`` body with pollama's own parser.

The page creates from models the server already has (``FROM qwen2.5-coder:0.5b``). Unlike the CLI, which runs
beside the files it names and uploads them, a browser's Modelfile must never make the server read its own disk:
``FROM`` is always a model name here, and ``ADAPTER``/``DRAFT`` (which only name files) are refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictStr

from pollama.api.types import WireModel
from pollama.errors import BadRequest
from pollama.modelfile.parser import Modelfile, ModelfileError, parse
from pollama.modelfile.request import CreateRequestError, create_request


class ModelfileRequest(WireModel):
    """``POST /ui/modelfile``: the name to create and the pasted Modelfile."""

    model: StrictStr = ""
    modelfile: StrictStr = ""


FILES_REFUSED = "{command} names a file on the server: create from files with `pollama create -f Modelfile`"


def create_body(text: str, model: str) -> dict[str, Any]:
    """The ``/api/create`` body creating ``model`` from the Modelfile ``text``; BadRequest with the parser's
    message (Ollama's, with its line number) when it does not parse or names files."""
    if not model:
        raise BadRequest("model is required")
    try:
        parsed = parse(text)
    except ModelfileError as err:
        raise BadRequest(str(err)) from err
    base = ""
    rest = Modelfile()
    for command in parsed.commands:
        if command.name in ("adapter", "draft"):
            raise BadRequest(FILES_REFUSED.format(command=command.name.upper()))
        if command.name == "model":
            base = command.args
        else:
            rest.commands.append(command)
    try:
        body = create_request(rest)
    except CreateRequestError as err:
        raise BadRequest(str(err)) from err
    return {"model": model, "from": base, **body}
