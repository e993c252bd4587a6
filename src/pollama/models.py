"""What a stored model means to the server: its name resolution, parsed template, options and capabilities.

``store`` knows bytes on disk; this module adds the meaning that the use-cases need, and caches the parsed
template and GGUF facts per model digest so a request does no repeated parsing. A model without a TEMPLATE
whose GGUF carries a Hugging Face ``tokenizer.chat_template`` is rendered with that Jinja template (Ollama
falls back to ``{{ .Prompt }}``, and such a model answers every chat with nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pollama.api.options import Options, apply
from pollama.engines.remote_client import UpstreamFacts
from pollama.engines.remote_config import RemoteModel
from pollama.engines.remote_models import runner_key
from pollama.errors import ModelNotFound, Unsupported
from pollama.prompt.jinja import JinjaTemplate, JinjaTemplateError
from pollama.prompt.jinja_gguf import jinja_template_from_gguf
from pollama.prompt.template import ChatTemplate, Template
from pollama.store.gguf_info import read_gguf
from pollama.store.model import Model
from pollama.store.names import InvalidNameError, Name
from pollama.store.store import Store

log = logging.getLogger("pollama")

DEFAULT_TEMPLATE = "{{ .Prompt }}"


@dataclass(frozen=True)
class ModelView:
    record: Model
    template: ChatTemplate
    capabilities: tuple[str, ...]
    n_ctx_train: int
    remote: RemoteModel | None = None
    """Set for a model served by remote replicas (``engines.remote``) rather than a local GGUF."""

    @property
    def name(self) -> Name:
        return self.record.name

    @property
    def runner_key(self) -> str:
        """What the scheduler knows the model's runner by: the GGUF path, or ``remote:<name>``."""
        return runner_key(self.remote) if self.remote is not None else str(self.model_path)

    @property
    def model_path(self) -> Path:
        assert self.record.model_path is not None
        return self.record.model_path

    def options(self, default_num_ctx: int, request: dict[str, Any] | None) -> Options:
        opts = apply(apply(Options().with_num_ctx(default_num_ctx), self.record.params), request)
        num_ctx = max(4, opts.runner.num_ctx)
        if self.n_ctx_train > 0:
            num_ctx = min(num_ctx, self.n_ctx_train)
        return opts.with_num_ctx(num_ctx)

    def check(self, *needed: str) -> None:
        """Raise Ollama's capability error for the first capability the model lacks (besides completion)."""
        for cap in needed:
            if cap not in self.capabilities and cap != "completion":
                raise Unsupported(f"{self.name} does not support {cap}")


@lru_cache(maxsize=64)
def _template(text: str) -> Template:
    return Template.parse(text)


@lru_cache(maxsize=64)
def _jinja(path: str) -> JinjaTemplate | None:
    try:
        return jinja_template_from_gguf(path)
    except JinjaTemplateError as err:
        log.warning("ignoring the chat template of %s: %s", path, err)
        return None


@lru_cache(maxsize=64)
def _gguf_facts(path: str) -> tuple[int, bool, bool]:
    meta = read_gguf(Path(path))
    arch = meta.architecture
    kv = meta.kv
    pooling = f"{arch}.pooling_type" in kv
    vision = f"{arch}.vision.block_count" in kv
    return meta.context_length, pooling, vision


def capabilities(record: Model, template: ChatTemplate) -> tuple[str, ...]:
    """Ollama's ``Model.Capabilities``: completion or embedding from the GGUF, the rest from the template."""
    if record.config.capabilities:
        return tuple(record.config.capabilities)
    caps: list[str] = []
    if record.model_path is not None:
        _, pooling, vision = _gguf_facts(str(record.model_path))
        caps.append("embedding" if pooling else "completion")
        if vision or record.projector_paths:
            caps.append("vision")
    caps += template.capabilities()
    return tuple(caps)


def view(record: Model) -> ModelView:
    template: ChatTemplate | None = None
    if record.template is not None:
        template = _template(record.template)
    elif record.model_path is not None:
        template = _jinja(str(record.model_path))
    if template is None:
        template = _template(DEFAULT_TEMPLATE)
    n_ctx_train = _gguf_facts(str(record.model_path))[0] if record.model_path is not None else 0
    return ModelView(record, template, capabilities(record, template), n_ctx_train)


def resolve(store: Store, model: str) -> ModelView:
    """Find ``model`` in the store (reads its manifest and GGUF header: call it off the event loop)."""
    try:
        record = store.resolve(model)
    except InvalidNameError:
        raise ModelNotFound(model) from None
    if record is None or record.model_path is None:
        raise ModelNotFound(model)
    return view(record)


@lru_cache(maxsize=64)
def _remote_jinja(raw: str, bos: str, eos: str, add_bos: bool, tool_use: str) -> JinjaTemplate | None:
    try:
        return JinjaTemplate(raw, bos_token=bos, eos_token=eos, add_bos=add_bos, tool_use=tool_use or None)
    except JinjaTemplateError as err:
        log.warning("ignoring a remote model's chat template: %s", err)
        return None


def remote_template(remote: RemoteModel, facts: UpstreamFacts) -> ChatTemplate:
    """The configured Go template, else the configured Jinja one, else the one the upstream reports."""
    if remote.template is not None:
        return _template(remote.template)
    raw, tool_use = remote.chat_template, ""
    if raw is None:
        raw, tool_use = facts.chat_template, facts.chat_template_tool_use
    jinja = _remote_jinja(raw, facts.bos_token, facts.eos_token, facts.add_bos, tool_use) if raw else None
    return jinja if jinja is not None else _template(DEFAULT_TEMPLATE)


def remote_view(record: Model, remote: RemoteModel, facts: UpstreamFacts) -> ModelView:
    """A remote model as the use-cases see it; ``record`` is its synthetic store record (``remote_record``)."""
    template = remote_template(remote, facts)
    caps = remote.capabilities or ("completion", *template.capabilities())
    return ModelView(record, template, tuple(caps), remote.context_length or facts.n_ctx, remote)
