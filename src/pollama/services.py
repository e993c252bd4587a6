"""What every use-case is handed: the settings, the model store and the scheduler (built once by the server)."""

from __future__ import annotations

from dataclasses import dataclass

from pollama.config import Settings
from pollama.scheduler import Scheduler
from pollama.store.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    scheduler: Scheduler
