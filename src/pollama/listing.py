"""Use-cases that describe models: ``/api/tags``, ``/api/ps`` and ``/api/show`` bodies, field for field."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pollama.api.listing import ListedModel, ModelDetails, ModelList, RunningModel, ShowMessage, ShowResponse
from pollama.api.responses import format_time
from pollama.api.types import ShowRequest
from pollama.engines.remote_client import UpstreamFacts
from pollama.engines.remote_config import RemoteModel
from pollama.errors import BadRequest, ModelNotFound
from pollama.modelfile.serialize import go_quoted, modelfile, parameter_lines
from pollama.models import remote_view, view
from pollama.store.gguf_info import GGUFError, model_info, read_gguf, tensors_json
from pollama.store.model import Model
from pollama.store.names import InvalidNameError, parse_name

if TYPE_CHECKING:
    from pollama.services import Services

log = logging.getLogger("pollama")


def details(record: Model, *, parent: bool = True) -> ModelDetails:
    """The model's ``details``; ``/api/tags`` and ``/api/ps`` leave out the parent model."""
    cfg = record.config
    return ModelDetails(
        parent_model=record.parent_model if parent else "",
        format=cfg.model_format,
        family=cfg.model_family,
        families=tuple(cfg.model_families or ()),
        parameter_size=cfg.model_type,
        quantization_level=cfg.file_type,
        context_length=cfg.context_length or 0,
        embedding_length=cfg.embedding_length or 0,
    )


def tags(svc: Services) -> ModelList:
    """Every stored model (reads GGUF headers: call it off the event loop)."""
    models = []
    for record in svc.store.list_models():
        short = record.name.display_shortest()
        info = details(record, parent=False)
        caps: tuple[str, ...] = ()
        if record.model_path is not None:
            # Like Ollama's list cache: weights that are not a readable GGUF only lose these extras.
            try:
                caps = view(record).capabilities
                meta = read_gguf(record.model_path)
            except (GGUFError, OSError, ValueError) as err:
                log.debug("model %s: %s", short, err)
            else:
                info = replace(
                    info,
                    context_length=info.context_length or meta.context_length,
                    embedding_length=info.embedding_length or meta.embedding_length,
                )
        models.append(
            ListedModel(
                name=short,
                modified_at=format_time(record.modified_at),
                size=record.size,
                digest=record.digest,
                details=info,
                capabilities=caps,
            )
        )
    models += [_remote_listed(svc, m) for m in svc.remotes.models]
    return ModelList(tuple(models))


def _remote_listed(svc: Services, model: RemoteModel) -> ListedModel:
    record = svc.remotes.record(model)
    facts = svc.remotes.cached_facts(model) or UpstreamFacts()
    return ListedModel(
        name=record.short_name,
        modified_at=format_time(record.modified_at),
        size=0,
        digest=record.digest,
        details=details(record, parent=False),
        capabilities=remote_view(record, model, facts).capabilities,
        remote_model=record.config.remote_model,
        remote_host=record.config.remote_host,
    )


def _remote_show(svc: Services, model: RemoteModel, req: ShowRequest) -> ShowResponse:
    """A remote model's ``/api/show``: its configuration and what its replicas reported."""
    record = svc.remotes.record(model)
    facts = svc.remotes.cached_facts(model) or UpstreamFacts()
    mv = remote_view(record, model, facts)
    system = req.system or record.system
    params = dict(record.params)
    parameters = "\n".join(f"{k:<30} {go_quoted(v)}" for k, v in parameter_lines(params))
    if req.options:
        params.update(req.options)
    template = str(mv.template) if (model.template is not None or model.chat_template or facts.chat_template) else ""
    text = modelfile(
        model_path=model.model, adapters=[], projectors=[], template=template or None, system=system,
        params=params, license=[], messages=[],
    )  # fmt: skip
    info: dict[str, Any] = {
        "remote.engine": model.engine,
        "remote.model": model.model,
        "remote.upstreams": [u.url for u in model.upstreams],
    }
    if facts.n_params:
        info["general.parameter_count"] = facts.n_params
    for key, value in (
        ("remote.context_length", mv.n_ctx_train), ("remote.context_length_train", facts.n_ctx_train),
        ("remote.vocab_size", facts.n_vocab), ("remote.size", facts.size), ("remote.build", facts.build),
        ("remote.owned_by", facts.owned_by), ("remote.model_id", facts.model_id),
    ):  # fmt: skip
        if value:
            info[key] = value
    return ShowResponse(
        modelfile=(
            '# Modelfile generated by "ollama show"\n'
            "# To build a new Modelfile based on this, replace FROM with:\n"
            f"# FROM {record.short_name}\n\n" + text
        ),
        parameters=parameters,
        template=template,
        system=system,
        details=details(record),
        model_info=info,
        capabilities=mv.capabilities,
        modified_at=format_time(record.modified_at),
        remote_model=record.config.remote_model,
        remote_host=record.config.remote_host,
    )


def ps(svc: Services) -> ModelList:
    """The loaded models, the one that stays longest first."""
    models: list[RunningModel] = []
    for loaded in svc.scheduler.loaded():
        record = loaded.model
        if record is None:
            continue
        info = loaded.runner.info
        expires = datetime.fromtimestamp(min(loaded.expiry(), 253402300799), UTC)
        models.append(
            RunningModel(
                name=loaded.name,
                size=int(info.model_bytes + info.kv_bytes),
                digest=record.digest,
                details=details(record, parent=False),
                expires_at=format_time(expires),
                context_length=loaded.spec.num_ctx,
            )
        )
    models.sort(key=lambda m: m.expires_at, reverse=True)
    return ModelList(tuple(models))


def show(svc: Services, req: ShowRequest) -> ShowResponse:
    """Everything about one model (reads its GGUF: call it off the event loop)."""
    requested = req.model or req.name
    if not requested:
        raise BadRequest("model is required")
    remote = svc.remotes.find(requested)
    if remote is not None:
        return _remote_show(svc, remote, req)
    name = parse_name(requested)
    try:
        record = svc.store.resolve(requested)
    except InvalidNameError as err:
        raise BadRequest(str(err)) from None
    if record is None:
        raise ModelNotFound(name.display_shortest())
    system = req.system or record.system or ""
    params = dict(record.params)
    parameters = "\n".join(f"{k:<30} {go_quoted(v)}" for k, v in parameter_lines(params))
    if req.options:
        params.update(req.options)
    text = modelfile(
        model_path=str(record.model_path or ""),
        adapters=[str(p) for p in record.adapter_paths],
        projectors=[str(p) for p in record.projector_paths],
        template=record.template,
        system=system,
        params=params,
        license=record.license,
        messages=record.messages,
    )
    short = record.name.display_shortest()
    path = record.model_path
    return ShowResponse(
        license="\n".join(record.license),
        modelfile=(
            '# Modelfile generated by "ollama show"\n'
            "# To build a new Modelfile based on this, replace FROM with:\n"
            f"# FROM {short}\n\n" + text
        ),
        parameters=parameters,
        template=record.template or "",
        system=system,
        details=details(record),
        messages=tuple(ShowMessage(m.get("role", ""), m.get("content", "")) for m in record.messages),
        model_info=model_info(path, verbose=bool(req.verbose)) if path else {},
        tensors=tensors_json(path) if path else None,
        capabilities=view(record).capabilities,
        modified_at=format_time(record.modified_at),
    )
