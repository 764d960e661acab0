"""What every use case needs: the database, the lock bank, the clock, the config, the event bus.

One object, built by the controller, passed to the use-case modules (pickup, deposit,
clerk, doors), so each of them is a small module of plain functions with no hidden state.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kiosk.clock import Clock
from kiosk.config import Config
from kiosk.devices.roles import CashDevices, LockBank
from kiosk.errors import OutOfService
from kiosk.security.tag_keys import TagKeys
from kiosk.service.events import EventBus
from kiosk.service.gate import AttemptGate
from kiosk.service.payment_slot import Payments
from kiosk.service.sessions import CounterDesks, CourierSessions
from kiosk.storage.database import Database


@dataclass
class Site:
    config: Config
    db: Database
    locks: LockBank
    clock: Clock
    bus: EventBus
    # Argon2id is CPU- and memory-heavy: run it off the event loop so doors and screens
    # stay responsive while a secret is checked. Two workers: this is a 2-core box.
    hasher: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="hasher"))
    couriers: CourierSessions = field(default_factory=CourierSessions)
    # Secret checks in flight (kiosk.service.gate): attempt limits that hold under concurrency.
    gate: AttemptGate = field(default_factory=AttemptGate)
    # F1/F2 tags: the store's public key and the site tag key (None: tags not set up here).
    tag_keys: TagKeys | None = None
    # Counter desks (kiosk.service.counter): what each desk has read and verified so far.
    desks: CounterDesks = field(default_factory=CounterDesks)
    # The payment slot's coin acceptor, note validator and hoppers (None: no cash here).
    cash: CashDevices | None = None
    payments: Payments = field(default_factory=Payments)
    # Parcels left inside by a door shut on them: may be opened again (kiosk.service.reopen).
    reopens: dict[str, Any] = field(default_factory=dict)

    @property
    def locker_numbers(self) -> range:
        count = self.config.locker_count or self.locks.door_count
        return range(1, min(count, self.locks.door_count) + 1)

    def now(self) -> float:
        return self.clock.now()

    def require_storage(self) -> None:
        """Refuse to start what could not be recorded. Raises OutOfService while the
        database refuses writes (kiosk.service.storage_health watches it come back)."""
        if self.db.failing is not None:
            raise OutOfService("this pickup point is out of service for a moment; please see staff")

    async def off_loop(self, func, *args):
        """Run a CPU-bound function (hash check) in the hasher pool."""
        return await asyncio.get_running_loop().run_in_executor(self.hasher, func, *args)

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex
