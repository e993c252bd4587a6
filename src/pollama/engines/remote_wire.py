"""What goes over the wire to an OpenAI-compatible engine and back, as pure functions: the ``/v1/completions`` body
for a ``CompletionRequest`` in the dialect of each engine kind, and the streamed events turned into ``Chunk`` and
``Done``.

Engine dialects:

- ``llama-server``: llama.cpp's own sampler fields (``n_predict``, ``top_k``, ``min_p``, ``typical_p``,
  ``repeat_penalty``, ``n_keep``), the GBNF grammar pollama compiled as ``grammar`` (with ``grammar_lazy`` and
  pattern ``grammar_triggers`` for tool calls, the same lazy grammar the local runner applies), ``n_probs`` for
  log probabilities and ``logit_bias`` as ``[[id, bias]]``.
- ``vllm``: OpenAI's fields plus vLLM's ``top_k``, ``min_p``, ``repetition_penalty`` and structured outputs
  (``structured_outputs.grammar``, which vLLM's xgrammar backend reads in the same GBNF dialect). vLLM has no
  lazy grammar: a tool-call grammar is left out, and the calls are parsed (not enforced) as they stream.
- ``openai``: OpenAI's fields only; a grammar cannot be sent, so ``format`` is refused.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from pollama.api.responses import Logprob, TokenLogprob
from pollama.engines.remote_config import EngineKind
from pollama.errors import BadRequest
from pollama.runner.types import Chunk, CompletionRequest, Done

# llama.cpp's COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: a regular expression searched in the output; the grammar
# applies from its first capture group, as pollama's lazy grammars mean.
_TRIGGER_PATTERN = 2
_VLLM_BIAS_LIMIT = 100.0


def completion_body(
    engine: EngineKind, model: str, req: CompletionRequest, *, name: str = "", context: int = 0
) -> dict[str, Any]:
    """The streamed ``/v1/completions`` body for ``req``; ``context`` is the replica's context length, when known.

    Raises:
        BadRequest: the request needs a grammar and the engine takes none.
    """
    s = req.sampling
    body: dict[str, Any] = {"model": model, "prompt": req.prompt, "stream": True}
    body["stream_options"] = {"include_usage": True}
    body["temperature"] = s.temperature
    body["top_p"] = s.top_p
    body["presence_penalty"] = s.presence_penalty
    body["frequency_penalty"] = s.frequency_penalty
    if s.seed >= 0:
        body["seed"] = s.seed
    if req.stop:
        body["stop"] = list(req.stop)
    if engine == "llama-server":
        _llama_server(body, req)
    else:
        if engine == "vllm" and (req.num_predict <= 0 or (context and req.num_predict >= context)):
            # "Until the context is full" (pollama's default of 10 x num_ctx is more than any context holds): vLLM
            # reads null as the room left after the prompt, where an absent field would mean OpenAI's 16 tokens
            # and a larger number a 400.
            body["max_tokens"] = None
        elif req.num_predict > 0:
            body["max_tokens"] = req.num_predict
        if req.logprobs:
            body["logprobs"] = max(req.top_logprobs, 1)
        if engine == "vllm":
            _vllm(body, req)
        elif req.grammar is not None and not req.grammar_triggers:
            raise BadRequest(f'"{name or model}" cannot constrain its output: its remote engine takes no grammar')
        elif req.logit_bias:
            body["logit_bias"] = {str(t): max(-_VLLM_BIAS_LIMIT, min(_VLLM_BIAS_LIMIT, b)) for t, b in req.logit_bias}
    return body


def _llama_server(body: dict[str, Any], req: CompletionRequest) -> None:
    s = req.sampling
    body["n_predict"] = req.num_predict
    body["top_k"] = s.top_k
    body["min_p"] = s.min_p
    body["typical_p"] = s.typical_p
    body["repeat_last_n"] = s.repeat_last_n
    body["repeat_penalty"] = s.repeat_penalty
    body["n_keep"] = req.num_keep
    body["cache_prompt"] = True
    if req.grammar is not None:
        body["grammar"] = req.grammar
        if req.grammar_triggers:
            body["grammar_lazy"] = True
            body["grammar_triggers"] = [{"type": _TRIGGER_PATTERN, "value": t} for t in req.grammar_triggers]
    if req.logprobs:
        body["n_probs"] = max(req.top_logprobs, 1)
    if req.logit_bias:
        # JSON has no infinity: llama-server reads false as "never this token".
        body["logit_bias"] = [[t, b if math.isfinite(b) else False] for t, b in req.logit_bias]


def _vllm(body: dict[str, Any], req: CompletionRequest) -> None:
    s = req.sampling
    body["top_k"] = s.top_k if s.top_k > 0 else -1
    body["min_p"] = s.min_p
    body["repetition_penalty"] = s.repeat_penalty
    if req.grammar is not None and not req.grammar_triggers:
        body["structured_outputs"] = {"grammar": req.grammar}
    if req.logit_bias:
        body["logit_bias"] = {str(t): max(-_VLLM_BIAS_LIMIT, min(_VLLM_BIAS_LIMIT, b)) for t, b in req.logit_bias}


def _token_logprob(d: dict[str, Any]) -> TokenLogprob:
    token = str(d.get("token", ""))
    raw = d.get("bytes")
    data = tuple(raw) if isinstance(raw, list) else tuple(token.encode("utf-8"))
    lp = d.get("logprob")
    return TokenLogprob(token, float(lp) if isinstance(lp, int | float) else -math.inf, data)


def parse_logprobs(raw: object, top: int) -> list[Logprob]:
    """A streamed choice's ``logprobs`` in either shape engines use: llama-server's ``{"content": [...]}`` (chat
    style) or the legacy completions one (``tokens``, ``token_logprobs``, ``top_logprobs`` maps) vLLM sends."""
    if not isinstance(raw, dict):
        return []
    out: list[Logprob] = []
    content = raw.get("content")
    if isinstance(content, list):
        for entry in content:
            if isinstance(entry, dict):
                listed = entry.get("top_logprobs") or []
                tops = tuple(_token_logprob(a) for a in listed[:top] if isinstance(a, dict)) if top else ()
                out.append(Logprob(_token_logprob(entry), tops))
        return out
    tokens, values, tops_raw = raw.get("tokens"), raw.get("token_logprobs"), raw.get("top_logprobs")
    if not isinstance(tokens, list) or not isinstance(values, list):
        return []
    for i, (tok, lp) in enumerate(zip(tokens, values, strict=False)):
        alts: tuple[TokenLogprob, ...] = ()
        if top and isinstance(tops_raw, list) and i < len(tops_raw) and isinstance(tops_raw[i], dict):
            ranked = sorted(tops_raw[i].items(), key=lambda kv: -float(kv[1]))[:top]
            alts = tuple(TokenLogprob(str(t), float(v), tuple(str(t).encode("utf-8"))) for t, v in ranked)
        value = float(lp) if isinstance(lp, int | float) else -math.inf
        out.append(Logprob(TokenLogprob(str(tok), value, tuple(str(tok).encode("utf-8"))), alts))
    return out


_FINISH = {"stop": "stop", "length": "length", "tool_calls": "stop", "content_filter": "stop"}


@dataclass
class StreamState:
    """Accumulates one streamed completion: the text events become chunks, the last ones the ``Done``."""

    top_logprobs: int = 0
    started: int = field(default_factory=time.monotonic_ns)
    first_token: int = 0
    finish_reason: str = ""
    stop_sequence: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0

    def feed(self, event: dict[str, Any]) -> Chunk | None:
        """The chunk an event carries (None when it carries no text or log probabilities)."""
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        if isinstance(event.get("timings"), dict):
            self.timings = event["timings"]
        choices = event.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason
        stop = choice.get("stop_reason")
        if isinstance(stop, str):
            self.stop_sequence = stop
        text = choice.get("text")
        text = text if isinstance(text, str) else ""
        logprobs = parse_logprobs(choice.get("logprobs"), self.top_logprobs)
        if not text and not logprobs:
            return None
        if not self.first_token:
            self.first_token = time.monotonic_ns()
        self.tokens += max(1, len(logprobs))
        return Chunk(text, logprobs)

    def done(self) -> Done:
        """The final result: the engine's own counts and timings where it reports them, measured ones otherwise."""
        now = time.monotonic_ns()
        first = self.first_token or now
        t = self.timings
        prompt_n = _int(t.get("prompt_n"))
        cache_n = _int(t.get("cache_n")) or 0
        details = self.usage.get("prompt_tokens_details")
        if not cache_n and isinstance(details, dict):
            cache_n = _int(details.get("cached_tokens")) or 0
        # Like the local runner, the count is the whole prompt, cached tokens included.
        prompt_tokens = _int(self.usage.get("prompt_tokens"))
        if prompt_tokens is None:
            prompt_tokens = (prompt_n or 0) + cache_n
        eval_n = _int(t.get("predicted_n"))
        if eval_n is None:
            eval_n = _int(self.usage.get("completion_tokens"))
        if eval_n is None:
            eval_n = self.tokens
        prompt_ms, predicted_ms = _float(t.get("prompt_ms")), _float(t.get("predicted_ms"))
        return Done(
            done_reason=_FINISH.get(self.finish_reason, "stop"),
            prompt_eval_count=prompt_tokens,
            prompt_eval_duration=int(prompt_ms * 1e6) if prompt_ms is not None else first - self.started,
            eval_count=eval_n,
            eval_duration=int(predicted_ms * 1e6) if predicted_ms is not None else now - first,
            context=[],
            cached_tokens=cache_n,
            stop_sequence=self.stop_sequence if self.finish_reason == "stop" else "",
        )


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
