"""Model lifecycle use-cases: create (``/api/create``), blobs, copy and delete. Nothing here knows about HTTP.

``request`` holds the wire models, ``layers`` the blob/layer building blocks (Ollama's ``manifest.NewLayer``),
``build`` the create flow, ``quantize`` the quantization step, ``manage`` copy/delete/blobs.
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
