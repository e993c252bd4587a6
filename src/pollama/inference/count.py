"""Counting a chat request's prompt tokens without generating: the conversation rendered exactly as ``chat``
renders it (its render-only path), then tokenized by the model's own tokenizer in the runner."""

from __future__ import annotations

import time

from pollama.api.types import ChatRequest
from pollama.errors import Failed
from pollama.inference.chat import chat
from pollama.inference.core import find_model, read_common, session
from pollama.services import Services


async def count_chat_tokens(svc: Services, req: ChatRequest) -> int:
    """The number of tokens the prompt of ``req`` takes (untruncated, so a too-long conversation shows as such)."""
    render = req.model_copy(update={"debug_render_only": True, "truncate": False, "stream": False})
    prompt = ""
    async for item in chat(svc, render):
        if item.debug_info is not None:
            prompt = item.debug_info.rendered_template
    if not prompt:
        raise Failed("the prompt could not be rendered")
    model = await find_model(svc, req.model or "")
    keep_alive, _ = read_common(req)
    opts = model.options(svc.settings.context_length, req.options)
    async with session(svc, model, opts, keep_alive, time.monotonic_ns()) as s:
        return await s.count_tokens(prompt)
