"""What every use-case is handed: the settings, the model store, the scheduler, the metrics and the remote models
(built once by the server)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pollama.config import Settings
from pollama.engines.remote_models import RemoteModels
from pollama.metrics import ServerMetrics
from pollama.scheduler import Scheduler
from pollama.store.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    scheduler: Scheduler
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    remotes: RemoteModels = field(default_factory=RemoteModels)

    def __post_init__(self) -> None:
        self.metrics.watch(self.scheduler)
