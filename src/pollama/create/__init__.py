"""Model lifecycle use-cases: create (``/api/create``), blobs, copy and delete. Nothing here knows about HTTP.

They take the wire models of ``pollama.api.lifecycle`` (re-exported here). ``build`` is the create flow,
``sources`` where a new model's base layers come from, ``layers`` the blob/layer building blocks (Ollama's
``manifest.NewLayer``), ``quantize`` the quantization step, ``manage`` copy, delete and blobs.
"""

from pollama.api.lifecycle import CopyRequest, CreateRequest, DeleteRequest
from pollama.create.build import create
from pollama.create.manage import copy_model, delete_model, head_blob, upload_blob

__all__ = [
    "CopyRequest",
    "CreateRequest",
    "DeleteRequest",
    "copy_model",
    "create",
    "delete_model",
    "head_blob",
    "upload_blob",
]
