"""Use-cases ``generate`` and ``chat``: validate, schedule a runner, build the prompt, stream native responses.

They know nothing of HTTP. Each returns an async iterator of Ollama response objects; an error before the
first object is an ``APIError`` raised from the first ``__anext__``, so the caller can still choose a status.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pollama.api.errors import APIError, not_found
from pollama.api.options import Options, parse_keep_alive
from pollama.api.types import ChatRequest, GenerateRequest, Metrics, chat_response, generate_response
from pollama.config import Settings
from pollama.models import ModelView, resolve
from pollama.prompt.build import chat_prompt, generate_prompt
from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.types import Message as PromptMessage
from pollama.prompt.types import Tool
from pollama.runner.client import CompletionRequest, Done, LoadSpec, Runner, RunnerError, SamplingOptions
from pollama.scheduler import Lease, Scheduler
from pollama.store.store import Store

THINK_LEVELS = ("high", "medium", "low", "max")


@dataclass
class Services:
    settings: Settings
    store: Store
    scheduler: Scheduler


@dataclass(frozen=True)
class Think:
    value: bool | str | None

    @classmethod
    def parse(cls, raw: Any) -> Think:
        if raw is None or isinstance(raw, bool):
            return cls(raw)
        if isinstance(raw, str):
            if raw in THINK_LEVELS:
                return cls(raw)
            raise APIError(
                400, f'invalid think value: "{raw}" (must be "high", "medium", "low", "max", true, or false)'
            )
        raise APIError(400, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)')

    @property
    def enabled(self) -> bool:
        return bool(self.value)


def _check_top_logprobs(value: int | None) -> None:
    if value is not None and not 0 <= value <= 20:
        raise APIError(400, "top_logprobs must be between 0 and 20")


def _check_think(model: ModelView, think: Think, requested: str) -> Think:
    if "thinking" in model.capabilities:
        return think if think.value is not None else Think(True)
    if think.enabled:
        raise APIError(400, f'"{requested}" does not support thinking')
    return think


async def _schedule(svc: Services, model: ModelView, opts: Options, keep_alive: float | None) -> Lease:
    spec = LoadSpec(
        model_path=str(model.model_path),
        num_ctx=opts.num_ctx,
        num_parallel=svc.settings.num_parallel,
        num_batch=opts.num_batch,
        num_thread=opts.num_thread,
        use_mmap=opts.use_mmap,
    )
    try:
        lease = await svc.scheduler.acquire(str(model.model_path), model.name.display_shortest(), spec, keep_alive)
    except RunnerError as err:
        raise APIError(err.status, err.message) from None
    lease.loaded.extra.setdefault("model", model)
    return lease


def _sampling(opts: Options) -> SamplingOptions:
    return SamplingOptions(
        temperature=opts.temperature,
        top_k=opts.top_k,
        top_p=opts.top_p,
        min_p=opts.min_p,
        typical_p=opts.typical_p,
        repeat_last_n=opts.repeat_last_n,
        repeat_penalty=opts.repeat_penalty,
        presence_penalty=opts.presence_penalty,
        frequency_penalty=opts.frequency_penalty,
        seed=opts.seed,
    )


def _completion(prompt: str, opts: Options, shift: bool | None) -> CompletionRequest:
    num_predict = opts.num_predict
    if (num_predict < 0 and num_predict != -2) or num_predict > 10 * opts.num_ctx:
        num_predict = 10 * opts.num_ctx
    return CompletionRequest(
        prompt=prompt,
        sampling=_sampling(opts),
        num_predict=num_predict,
        stop=list(opts.stop),
        num_keep=opts.num_keep,
        shift=shift is None or shift,
    )


def _metrics(done: Done, start: int, load_duration: int) -> Metrics:
    return Metrics(
        total_duration=time.monotonic_ns() - start,
        load_duration=load_duration,
        prompt_eval_count=done.prompt_eval_count,
        prompt_eval_duration=done.prompt_eval_duration,
        eval_count=done.eval_count,
        eval_duration=done.eval_duration,
    )


def _token_counter(runner: Runner) -> Callable[[str], Awaitable[int]]:
    async def count(text: str) -> int:
        return len(await runner.tokenize(text))

    return count


def _prompt_messages(messages: list[Any]) -> list[PromptMessage]:
    return [PromptMessage.from_json(m if isinstance(m, dict) else m.model_dump(exclude_none=True)) for m in messages]


async def generate(svc: Services, req: GenerateRequest) -> AsyncIterator[dict[str, Any]]:
    start = time.monotonic_ns()
    requested = req.model or ""
    keep_alive = parse_keep_alive(req.keep_alive)
    think = Think.parse(req.think)
    _check_top_logprobs(req.top_logprobs)
    if not requested:
        raise not_found(requested)
    model = resolve(svc.store, requested)
    prompt_text = req.prompt or ""
    if not prompt_text and keep_alive == 0:
        await svc.scheduler.expire(str(model.model_path))
        yield generate_response(requested, "", done=True, done_reason="unload")
        return
    if req.raw and (req.template or req.system or req.context):
        raise APIError(400, "raw mode does not support template, system, or context")
    if "completion" not in model.capabilities:
        raise APIError(400, f'"{requested}" does not support generate')
    if req.suffix:
        model.check("insert")
    think = _check_think(model, think, requested)
    opts = model.options(svc.settings.context_length, req.options)

    lease = await _schedule(svc, model, opts, keep_alive)
    try:
        if not prompt_text:
            yield generate_response(requested, "", done=True, done_reason="load")
            return
        runner = lease.runner
        prompt = prompt_text
        if not req.raw:
            prefix = await runner.detokenize(req.context) if req.context else ""
            try:
                rendered, _images = await generate_prompt(
                    model.template,
                    prompt_text,
                    num_ctx=opts.num_ctx,
                    truncate=req.truncate is None or req.truncate,
                    count_tokens=_token_counter(runner),
                    system=req.system or "",
                    model_system=model.record.system,
                    model_messages=_prompt_messages(model.record.messages),
                    suffix=req.suffix or "",
                    request_template=req.template or "",
                    has_context=req.context is not None,
                    think=think.value,
                )
            except TemplateError as err:
                raise APIError(500, str(err)) from None
            prompt = prefix + rendered
        if req.debug_render_only:
            yield generate_response(requested, "", done=False, debug_info={"rendered_template": prompt})
            return
        output: list[str] = []
        async for item in runner.completion(_completion(prompt, opts, req.shift)):
            if isinstance(item, Done):
                # Like Ollama, the context is the text tokenized again without special tokens added (no BOS),
                # so that a client can send it back and have it detokenized in front of the next prompt.
                context = None if req.raw else await runner.tokenize(prompt + "".join(output))
                yield generate_response(
                    requested,
                    "",
                    done=True,
                    done_reason=item.done_reason,
                    context=context,
                    metrics=_metrics(item, start, lease.load_duration),
                )
            else:
                output.append(item.text)
                yield generate_response(requested, item.text, done=False)
    except RunnerError as err:
        raise APIError(err.status, err.message) from None
    finally:
        lease.release()


async def chat(svc: Services, req: ChatRequest) -> AsyncIterator[dict[str, Any]]:
    start = time.monotonic_ns()
    requested = req.model or ""
    keep_alive = parse_keep_alive(req.keep_alive)
    think = Think.parse(req.think)
    _check_top_logprobs(req.top_logprobs)
    if not requested:
        raise APIError(400, "model is required")
    model = resolve(svc.store, requested)
    messages = req.messages or []
    if not messages and keep_alive == 0:
        await svc.scheduler.expire(str(model.model_path))
        yield chat_response(requested, "", done=True, done_reason="unload")
        return
    if "completion" not in model.capabilities:
        raise APIError(400, f'"{requested}" does not support chat')
    if req.tools:
        model.check("tools")
    think = _check_think(model, think, requested)
    opts = model.options(svc.settings.context_length, req.options)
    tools = [Tool.from_json(t) for t in req.tools] if req.tools is not None else None

    lease = await _schedule(svc, model, opts, keep_alive)
    try:
        if not messages:
            yield chat_response(requested, "", done=True, done_reason="load")
            return
        runner = lease.runner
        msgs = _prompt_messages(model.record.messages) + _prompt_messages(messages)
        if model.record.system and (not messages or messages[0].role != "system"):
            msgs.insert(0, PromptMessage(role="system", content=model.record.system))

        prompt = await chat_prompt(
            model.template,
            msgs,
            tools,
            num_ctx=opts.num_ctx,
            truncate=req.truncate is None or req.truncate,
            count_tokens=_token_counter(runner),
            think=think.value,
        )
        if req.debug_render_only:
            yield chat_response(requested, "", role="", done=False, debug_info={"rendered_template": prompt})
            return
        async for item in runner.completion(_completion(prompt, opts, req.shift)):
            if isinstance(item, Done):
                metrics = _metrics(item, start, lease.load_duration)
                yield chat_response(requested, "", done=True, done_reason=item.done_reason, metrics=metrics)
            else:
                yield chat_response(requested, item.text, done=False)
    except RunnerError as err:
        raise APIError(err.status, err.message) from None
    finally:
        lease.release()
