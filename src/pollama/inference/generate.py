"""The ``/api/generate`` use-case: validate, build the prompt (or take it raw), stream typed responses."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from pollama.api.responses import DebugInfo, GenerateResponse
from pollama.api.types import GenerateRequest, Think
from pollama.errors import BadRequest, Failed, Unsupported
from pollama.inference import output
from pollama.inference.core import Finished, Session, check_think, find_model, read_common, session, unload
from pollama.models import ModelView
from pollama.prompt.build import generate_prompt
from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.types import Message as PromptMessage
from pollama.services import Services


async def generate(svc: Services, req: GenerateRequest) -> AsyncIterator[GenerateResponse]:
    """Stream the answer to ``req``; a domain error before the first object is raised from the first step."""
    start = time.monotonic_ns()
    requested = req.model or ""
    keep_alive, think = read_common(req)
    model = await find_model(svc, requested)
    if not req.prompt and keep_alive == 0:
        await unload(svc, model)
        yield GenerateResponse(requested, done=True, done_reason="unload", whole=True)
        return
    if req.raw and (req.template or req.system or req.context):
        raise BadRequest("raw mode does not support template, system, or context")
    if "completion" not in model.capabilities:
        raise Unsupported(f'"{requested}" does not support generate')
    if req.suffix:
        model.check("insert")
    think = check_think(model, think, requested)
    opts = model.options(svc.settings.context_length, req.options)
    plan = output.plan(model, req, think)

    async with session(svc, model, opts, keep_alive, start) as s:
        if not req.prompt:
            yield GenerateResponse(requested, done=True, done_reason="load", whole=True)
            return
        prompt = req.prompt if req.raw else await _render(s, model, req, think, opts.runner.num_ctx)
        if req.debug_render_only:
            yield GenerateResponse(requested, debug_info=DebugInfo(prompt), whole=True)
            return
        async for item in s.complete(prompt, opts, shift=req.shift, plan=plan):
            if isinstance(item, Finished):
                # Like Ollama, the context is the text tokenized again without special tokens added (no BOS),
                # so that a client can send it back and have it detokenized in front of the next prompt.
                context = None if req.raw else await s.runner.tokenize(prompt + item.text)
                yield GenerateResponse(
                    requested, done=True, done_reason=item.done_reason, context=context, metrics=item.metrics
                )
            else:
                yield GenerateResponse(requested, response=item.content, thinking=item.thinking, logprobs=item.logprobs)


async def _render(s: Session, model: ModelView, req: GenerateRequest, think: Think, num_ctx: int) -> str:
    prefix = await s.runner.detokenize(req.context) if req.context else ""
    try:
        rendered, _images = await generate_prompt(
            model.template,
            req.prompt or "",
            num_ctx=num_ctx,
            truncate=req.truncate is None or req.truncate,
            count_tokens=s.fit_counter(num_ctx),
            system=req.system or "",
            model_system=model.record.system,
            model_messages=[PromptMessage.from_json(m) for m in model.record.messages],
            suffix=req.suffix or "",
            request_template=req.template or "",
            has_context=req.context is not None,
            think=think,
        )
    except TemplateError as err:
        raise Failed(str(err)) from None
    return prefix + rendered
