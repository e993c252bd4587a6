"""``/v1/completions`` to and from the native generate: ``prompt`` (a string, or an array of strings giving one
choice each), ``suffix``, ``echo``, ``logprobs`` (the count of alternatives), and the ``text_completion``
objects, streamed or not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pollama.api.responses import GenerateResponse, Logprob, Metrics
from pollama.api.types import GenerateRequest
from pollama.errors import BadRequest
from pollama.openai.chat import FINGERPRINT, finish_reason, usage
from pollama.openai.fields import (
    choices_count,
    include_usage,
    model_name,
    opt_bool,
    opt_dict,
    opt_int,
    opt_str,
    sampling_options,
    wrong_type,
)


@dataclass(frozen=True, slots=True)
class CompletionCall:
    """A decoded ``/v1/completions`` request: one native request per choice (prompts × ``n``)."""

    requests: list[GenerateRequest]
    prompts: list[str]
    stream: bool
    include_usage: bool
    echo: bool
    logprobs: bool


def prompts_of(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(p, str) for p in raw):
        return list(raw)
    if isinstance(raw, list) and raw and all(isinstance(p, int | list) for p in raw):
        raise BadRequest("token arrays are not supported as 'prompt': send the text")
    raise wrong_type("prompt", raw, "string or array of strings")


def decode_completion(body: dict[str, Any]) -> CompletionCall:
    model = model_name(body)
    prompts = prompts_of(body.get("prompt"))
    n = choices_count(body)
    top = opt_int(body, "logprobs")
    if top is not None and not 0 <= top <= 20:
        raise BadRequest("invalid value for 'logprobs': must be between 0 and 20")
    opts = sampling_options(body, max_tokens=opt_int(body, "max_tokens"))
    suffix = opt_str(body, "suffix")
    requests = []
    for prompt in prompts:
        for i in range(n):
            choice_opts = dict(opts)
            if "seed" in choice_opts:
                choice_opts["seed"] = int(choice_opts["seed"]) + i
            requests.append(
                GenerateRequest(
                    model=model,
                    prompt=prompt,
                    suffix=suffix,
                    options=choice_opts,
                    logprobs=top is not None or None,
                    top_logprobs=top,
                    logit_bias=opt_dict(body, "logit_bias"),
                )
            )
    return CompletionCall(
        requests=requests,
        prompts=[p for p in prompts for _ in range(n)],
        stream=bool(opt_bool(body, "stream")),
        include_usage=include_usage(body),
        echo=bool(opt_bool(body, "echo")),
        logprobs=top is not None,
    )


def logprobs_json(logprobs: Sequence[Logprob], offset: int) -> dict[str, Any]:
    """OpenAI's legacy completion logprobs: parallel lists, offsets into the choice's text."""
    offsets = []
    for lp in logprobs:
        offsets.append(offset)
        offset += len(lp.token.token)
    return {
        "tokens": [lp.token.token for lp in logprobs],
        "token_logprobs": [lp.token.logprob for lp in logprobs],
        "top_logprobs": [{t.token: t.logprob for t in lp.top_logprobs} for lp in logprobs],
        "text_offset": offsets,
    }


def choice_json(index: int, resp: GenerateResponse, call: CompletionCall) -> dict[str, Any]:
    prefix = call.prompts[index] if call.echo else ""
    out: dict[str, Any] = {"text": prefix + resp.response, "index": index, "logprobs": None}
    if call.logprobs:
        out["logprobs"] = logprobs_json(resp.logprobs, len(prefix))
    out["finish_reason"] = finish_reason(resp.done_reason, False)
    return out


def completion_json(
    cid: str, created: int, model: str, answers: Sequence[GenerateResponse], call: CompletionCall
) -> dict[str, Any]:
    body = {"id": cid, "object": "text_completion", "created": created, "model": model}
    return {
        **body,
        "system_fingerprint": FINGERPRINT,
        "choices": [choice_json(i, a, call) for i, a in enumerate(answers)],
        "usage": usage([a.metrics for a in answers]),
    }


class CompletionChunks:
    """The ``text_completion`` chunks of a streamed answer: text as it comes (the prompt first with ``echo``),
    ``finish_reason`` on a choice's last chunk, and a usage chunk at the end when asked for."""

    def __init__(self, cid: str, created: int, model: str, call: CompletionCall) -> None:
        self.cid, self.created, self.model, self.call = cid, created, model, call
        self._started: set[int] = set()
        self._offsets: dict[int, int] = {}
        self._metrics: dict[int, Metrics | None] = {}

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.cid,
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        }

    def chunks(self, index: int, resp: GenerateResponse) -> list[dict[str, Any]]:
        text = resp.response
        if index not in self._started:
            self._started.add(index)
            if self.call.echo:
                text = self.call.prompts[index] + text
                self._offsets[index] = len(self.call.prompts[index])
        if not text and not resp.done:
            return []
        offset = self._offsets.get(index, 0)
        self._offsets[index] = offset + sum(len(lp.token.token) for lp in resp.logprobs)
        choice: dict[str, Any] = {"text": text, "index": index, "logprobs": None, "finish_reason": None}
        if self.call.logprobs:
            choice["logprobs"] = logprobs_json(resp.logprobs, offset)
        if resp.done:
            self._metrics[index] = resp.metrics
            choice["finish_reason"] = finish_reason(resp.done_reason, False)
        return [self._chunk([choice])]

    def usage_chunk(self) -> dict[str, Any]:
        return {**self._chunk([]), "usage": usage(list(self._metrics.values()))}
