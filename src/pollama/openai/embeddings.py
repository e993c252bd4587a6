"""``/v1/embeddings`` to and from the native embed: ``input`` (a string or an array of strings), ``dimensions``,
``encoding_format`` (float, or base64 of little-endian float32).

Token arrays are refused with a 400: the IDs an OpenAI client sends come from OpenAI's tokenizer (tiktoken), not
the model's vocabulary, so turning them back into text with the model's vocabulary would embed a different text.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from pollama.api.embed import EmbedRequest, EmbedResponse
from pollama.errors import BadRequest
from pollama.openai.fields import model_name, opt_int, opt_str

TOKENS_REFUSED = "token arrays are not supported as 'input': send the text (the IDs depend on the tokenizer)"


def decode_embeddings(body: dict[str, Any]) -> tuple[EmbedRequest, str]:
    """The native request and the encoding format ("float" or "base64")."""
    model = model_name(body)
    raw = body.get("input")
    if raw == "":
        inputs: list[str] = [""]
    elif isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = list(raw)
    elif isinstance(raw, list) and raw and all(isinstance(x, int | list) for x in raw):
        raise BadRequest(TOKENS_REFUSED)
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
    return EmbedRequest(model=model, input=inputs, dimensions=dimensions), encoding


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
