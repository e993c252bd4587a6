"""Inference use-cases: ``generate`` and ``chat`` turn a native request into an async iterator of typed native
responses, over one shared core (``inference.core``). Nothing here knows HTTP."""

from pollama.inference.chat import chat
from pollama.inference.generate import generate

__all__ = ["chat", "generate"]
