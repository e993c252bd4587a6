"""The configured remote models: the file they come from, what their replicas report about them (chat template,
context, size), their store-shaped records for listing, the refusal of store operations on their names, and the
scheduler's loader: a ``LoadSpec`` whose ``model_path`` is ``remote:<name>`` starts a ``RemoteRunner``, any other
goes to the local loader.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from pollama.engines.base import Loader, Runner
from pollama.engines.remote import NoReplica, RemoteRunner
from pollama.engines.remote_client import ReplicaFailed, UpstreamClient, UpstreamFacts, UpstreamRejected
from pollama.engines.remote_config import RemoteConfig, RemoteModel, default_path, load
from pollama.errors import BadRequest, Failed, RunnerLoadFailed
from pollama.runner.types import LoadSpec
from pollama.store.gguf_info import human_number
from pollama.store.manifest import MEDIA_TYPE_CONFIG, Layer, Manifest
from pollama.store.model import Model, ModelConfig

log = logging.getLogger("pollama.remote")

REMOTE_PREFIX = "remote:"
"""``LoadSpec.model_path`` of a remote model: ``remote:<name>`` (a local model's path is absolute)."""


def runner_key(model: RemoteModel) -> str:
    return REMOTE_PREFIX + model.display_name


def remote_record(model: RemoteModel, facts: UpstreamFacts | None, modified: datetime) -> Model:
    """The store-shaped record of a remote model: no layers, a config naming the upstream (as Ollama's
    ``remote_host``/``remote_model`` do for its cloud models), and a digest that changes with the configuration."""
    facts = facts or UpstreamFacts()
    described = json.dumps(
        {"engine": model.engine, "model": model.model, "upstreams": [u.url for u in model.upstreams]},
        sort_keys=True,
    ).encode()
    config = ModelConfig(
        model_type=human_number(facts.n_params) if facts.n_params else "",
        remote_host=model.upstreams[0].url,
        remote_model=model.model,
        context_length=model.context_length or facts.n_ctx,
    )
    digest = "sha256:" + hashlib.sha256(described).hexdigest()
    return Model(
        name=model.name,
        manifest=Manifest.build(Layer(MEDIA_TYPE_CONFIG, digest, 0), []),
        modified_at=modified,
        config=config,
        template=model.template if model.template is not None else (model.chat_template or facts.chat_template),
        system=model.system,
        params=dict(model.parameters),
    )


class RemoteModels:
    """The configured remote models and what their replicas report about them."""

    def __init__(self, config: RemoteConfig | None = None) -> None:
        self.config = config or RemoteConfig()
        self._facts: dict[str, UpstreamFacts] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_setting(cls, raw: str) -> RemoteModels:
        """From ``OLLAMA_REMOTES``: that file (which must exist), or ``~/.ollama/remotes.toml`` when it does.

        Raises:
            RemoteConfigError: the file is missing (when named), unreadable or invalid.
        """
        path = Path(raw).expanduser() if raw else default_path()
        config = load(path, required=bool(raw))
        if config.models:
            log.info("remote models from %s: %s", path, ", ".join(m.display_name for m in config.models))
        return cls(config)

    @property
    def models(self) -> tuple[RemoteModel, ...]:
        return self.config.models

    def find(self, name: str) -> RemoteModel | None:
        return self.config.find(name)

    def refuse(self, name: str, action: str) -> None:
        """Raise the error for a store operation (pull, push, copy, delete, create) on a remote model's name."""
        model = self.find(name)
        if model is not None:
            where = f" in {self.config.path}" if self.config.path else ""
            raise BadRequest(
                f'cannot {action} "{model.display_name}": it is a remote model served by '
                f"{model.engine} (configured{where})"
            )

    def record(self, model: RemoteModel) -> Model:
        """The model's store-shaped record, with what its replicas reported so far."""
        modified = datetime.fromtimestamp(self.config.mtime, UTC) if self.config.mtime else datetime.now(UTC)
        return remote_record(model, self.cached_facts(model), modified)

    def cached_facts(self, model: RemoteModel) -> UpstreamFacts | None:
        return self._facts.get(model.display_name)

    async def facts(self, model: RemoteModel) -> UpstreamFacts:
        """What the first answering replica reports about the model (fetched once, then kept).

        Raises:
            Failed: no replica answers and the configuration alone does not describe the model (no template).
        """
        cached = self._facts.get(model.display_name)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(model.display_name, asyncio.Lock())
        async with lock:
            cached = self._facts.get(model.display_name)
            if cached is not None:
                return cached
            reasons = []
            for upstream in model.upstreams:
                client = UpstreamClient(upstream, model.engine, model.model, model.timeout)
                try:
                    facts = await client.facts()
                except (ReplicaFailed, UpstreamRejected) as err:
                    reasons.append(f"{upstream.url}: {err}")
                    continue
                finally:
                    await client.aclose()
                self._facts[model.display_name] = facts
                return facts
            log.warning("remote %s: no replica describes the model: %s", model.display_name, "; ".join(reasons))
            if model.template is None and model.chat_template is None:
                raise NoReplica(model)
            return UpstreamFacts()

    def start(self) -> None:
        """Fetch every remote model's facts in the background, so ``/api/tags`` can show them soon."""
        for model in self.models:
            task = asyncio.ensure_future(self._prefetch(model))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _prefetch(self, model: RemoteModel) -> None:
        with contextlib.suppress(Failed):
            await self.facts(model)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def loader(self, local: Loader) -> Loader:
        """The scheduler's loader: remote specs start a ``RemoteRunner``, the rest go to ``local``."""

        async def load(spec: LoadSpec) -> Runner:
            if not spec.model_path.startswith(REMOTE_PREFIX):
                return await local(spec)
            model = self.find(spec.model_path.removeprefix(REMOTE_PREFIX))
            if model is None:
                raise RunnerLoadFailed(f"remote model {spec.model_path} is no longer configured")
            facts = self._facts.get(model.display_name) or UpstreamFacts()
            return await RemoteRunner.start(model, facts, spec)

        return load
