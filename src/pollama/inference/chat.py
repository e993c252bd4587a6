"""The ``/api/chat`` use-case: validate, render the conversation through the model's template, stream typed
responses."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import AsyncIterator

from pollama.api.responses import ChatMessage, ChatResponse, DebugInfo
from pollama.api.types import ChatRequest, Message
from pollama.errors import BadRequest, Unsupported
from pollama.inference import output
from pollama.inference.core import Finished, check_think, find_model, read_common, session, unload
from pollama.models import ModelView
from pollama.output.thinking import ThinkingParser
from pollama.prompt.build import chat_prompt
from pollama.prompt.types import Message as PromptMessage
from pollama.prompt.types import Tool
from pollama.services import Services


async def chat(svc: Services, req: ChatRequest) -> AsyncIterator[ChatResponse]:
    """Stream the answer to ``req``; a domain error before the first object is raised from the first step."""
    start = time.monotonic_ns()
    requested = req.model or ""
    keep_alive, think = read_common(req)
    if not requested:
        raise BadRequest("model is required")
    model = await find_model(svc, requested)
    messages = req.messages or []
    if not messages and keep_alive == 0:
        await unload(svc, model)
        yield ChatResponse(requested, done=True, done_reason="unload", whole=True)
        return
    if "completion" not in model.capabilities:
        raise Unsupported(f'"{requested}" does not support chat')
    if req.tools:
        model.check("tools")
    think = check_think(model, think, requested)
    opts = model.options(svc.settings.context_length, req.options)
    choice = output.ToolChoice.parse(req.tool_choice, req.tools, parallel=req.parallel_tool_calls)
    offered = choice.offered(req.tools)
    tools = [Tool.from_json(dict(t)) for t in offered] if offered is not None else None
    after_tool = bool(messages) and messages[-1].role == "tool"
    plan = output.plan(model, req, think, req.tools, after_tool_result=after_tool, tool_choice=choice)

    async with session(svc, model, opts, keep_alive, start) as s:
        if not messages:
            yield ChatResponse(requested, done=True, done_reason="load", whole=True)
            return
        prompt = await chat_prompt(
            model.template,
            _conversation(model, messages),
            tools,
            num_ctx=opts.runner.num_ctx,
            truncate=req.truncate is None or req.truncate,
            count_tokens=s.fit_counter(opts.runner.num_ctx),
            think=think,
        )
        if req.debug_render_only:
            yield ChatResponse(requested, message=ChatMessage(role=""), debug_info=DebugInfo(prompt), whole=True)
            return
        async for item in s.complete(prompt, opts, shift=req.shift, plan=plan):
            if isinstance(item, Finished):
                yield ChatResponse(
                    requested,
                    done=True,
                    done_reason=item.done_reason,
                    metrics=item.metrics,
                    stop_sequence=item.stop_sequence,
                )
            else:
                for call in item.tool_calls:
                    call.id = call.id or tool_call_id()
                message = ChatMessage(content=item.content, thinking=item.thinking, tool_calls=item.tool_calls)
                yield ChatResponse(requested, message=message, logprobs=item.logprobs)


def tool_call_id() -> str:
    """Ollama's ``toolCallId``: ``call_`` and 8 random characters of ``[a-z0-9]``."""
    return "call_" + "".join(secrets.choice(_ID_CHARS) for _ in range(8))


_ID_CHARS = string.ascii_lowercase + string.digits


def _conversation(model: ModelView, messages: list[Message]) -> list[PromptMessage]:
    """The model's MESSAGEs, then the request's, behind the model's SYSTEM unless the request brings one."""
    msgs = [PromptMessage.from_json(m) for m in model.record.messages]
    msgs += [PromptMessage.from_json(m.model_dump(exclude_none=True)) for m in messages]
    if model.record.system and messages[0].role != "system":
        msgs.insert(0, PromptMessage(role="system", content=model.record.system))
    return _drop_old_thinking(model, msgs)


def _drop_old_thinking(model: ModelView, msgs: list[PromptMessage]) -> list[PromptMessage]:
    """Ollama's ``filterThinkTags``: for Qwen3 and DeepSeek-R1, whose clients send the answers back with their
    ``<think>`` blocks in the content, those blocks are left out of assistant turns before the last user turn."""
    if model.record.config.model_family != "qwen3" and model.name.model != "deepseek-r1":
        return msgs
    last_user = max((i for i, m in enumerate(msgs) if m.role == "user"), default=-1)
    out = []
    for i, m in enumerate(msgs):
        if m.role == "assistant" and i < last_user:
            m = m.copy()
            m.content = ThinkingParser("<think>", "</think>").add(m.content)[1]
        out.append(m)
    return out
