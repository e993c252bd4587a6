"""``/v1/embeddings`` to and from the native embed: ``input`` (a string or an array of strings), ``dimensions``,
``encoding_format`` (float, or base64 of little-endian float32).

A token array (or an array of them) is read as the model's own token ids, as llama-server reads it, and turned
back into text with the model's vocabulary. Clients that tokenize with OpenAI's tokenizer (LangChain's
``OpenAIEmbeddings`` by default) send ids that mean other text to a local model; they should send text.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from pollama.api.embed import EmbedRequest, EmbedResponse
from pollama.errors import BadRequest
from pollama.openai.fields import model_name, opt_int, opt_str


def decode_embeddings(body: dict[str, Any]) -> tuple[EmbedRequest, str]:
    """The native request and the encoding format ("float" or "base64")."""
    model = model_name(body)
    raw = body.get("input")
    tokens = None
    if raw == "":
        inputs: list[str] = [""]
    elif isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = list(raw)
    elif tokens := token_arrays(raw):
        inputs = []
    else:
        raise BadRequest("invalid input")
    encoding = (opt_str(body, "encoding_format") or "float").lower()
    if encoding not in ("float", "base64"):
        raise BadRequest(
            f"Invalid value for 'encoding_format' = {body.get('encoding_format')}. "
            "Supported values: ['float', 'base64']."
        )
    dimensions = opt_int(body, "dimensions")
    if dimensions is not None and dimensions < 1:
        raise BadRequest("invalid value for 'dimensions': must be at least 1")
    req = EmbedRequest(model=model, input=inputs, dimensions=dimensions, tokens=tokens or None)
    return req, encoding


def token_arrays(raw: Any) -> list[list[int]] | None:
    """``input`` as token arrays: one array of ints, or a non-empty array of non-empty int arrays."""

    def ids(x: Any) -> bool:
        return isinstance(x, list) and bool(x) and all(isinstance(t, int) and not isinstance(t, bool) for t in x)

    if ids(raw):
        return [list(raw)]
    if isinstance(raw, list) and raw and all(ids(x) for x in raw):
        return [list(x) for x in raw]
    return None


def embeddings_json(resp: EmbedResponse, encoding: str) -> dict[str, Any]:
    data = []
    for i, row in enumerate(resp.embeddings):
        vector: Any
        if encoding == "base64":
            vector = base64.b64encode(np.asarray(row, dtype="<f4").tobytes()).decode()
        else:
            vector = [float(x) for x in row.tolist()]
        data.append({"object": "embedding", "embedding": vector, "index": i})
    count = resp.prompt_eval_count
    return {
        "object": "list",
        "data": data,
        "model": resp.model,
        "usage": {"prompt_tokens": count, "total_tokens": count},
    }
