"""What every use-case is handed: the settings, the model store, the scheduler and the metrics (built once by the
server)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pollama.config import Settings
from pollama.metrics import ServerMetrics
from pollama.scheduler import Scheduler
from pollama.store.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    scheduler: Scheduler
    metrics: ServerMetrics = field(default_factory=ServerMetrics)

    def __post_init__(self) -> None:
        self.metrics.watch(self.scheduler)
