"""The fleet link as kioskd runs it: publisher, pump and command desk over one MQTT connection.

``Fleet`` is built from ``[fleet]`` (kiosk.fleet.settings) and started and stopped with
the controller, like the store link (kiosk.service.syncing): its loops run on the
controller's event loop, the MQTT connection on paho's own thread (kiosk.fleet.client).

    events on the bus ──► FleetPublisher ──► fleet outbox (SQLite) ──► FleetPump ──► broker
    health, doors, counters (every publish_interval_s, and on change) ──┘
    broker ──► cmd ──► CommandDesk (verify, nonce, audit) ──► SiteTarget (clerk calls) ──► cmd/result

The parts take the database, the clock and the bus rather than the whole site, so a
simulator can run hundreds of light sites (a database and a fleet link each) in one
process; ``Fleet.for_site`` wires one to a running controller.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.clock import Clock
from kiosk.errors import ConfigError, KeyFileError
from kiosk.fleet.client import FleetLink
from kiosk.fleet.settings import FleetSettings
from kiosk.security.keys import load_public_key_file
from kiosk.service.dto import SiteStatus
from kiosk.service.events import EventBus
from kiosk.service.fleet_commands import CommandDesk, CommandTarget, SiteTarget
from kiosk.service.fleet_publish import FleetPublisher, health_of
from kiosk.service.fleet_pump import FleetPump
from kiosk.service.site import Site
from kiosk.storage import fleet as fleet_store
from kiosk.storage.database import Database

log = logging.getLogger(__name__)


def read_password(path: Path | None) -> str | None:
    """The broker password: the first line of ``path``, a file only its owner may read.
    Raises KeyFileError."""
    if path is None:
        return None
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"{path}: the broker password is readable by others (mode {oct(mode & 0o777)}); "
                               f"chmod 600 it")
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise KeyFileError(f"{path}: cannot read the broker password: {err.strerror or err}") from None
    lines = text.splitlines()
    return lines[0] if lines else ""


class Fleet:
    def __init__(self, settings: FleetSettings, db: Database, clock: Clock, bus: EventBus, target: CommandTarget, *,
                 health: Callable[[], dict[str, Any]], operator_key: Ed25519PublicKey | None = None,
                 password: str | None = None, client_id: str | None = None):
        """Raises ConfigError, KeyFileError."""
        if not settings.enabled:
            raise ConfigError([("fleet.broker", "is not set")])
        if operator_key is None:
            if settings.operator_key_file is None:
                raise ConfigError([("fleet.operator_key_file", "is required with fleet.broker")])
            operator_key = load_public_key_file(settings.operator_key_file)
        if password is None:
            password = read_password(settings.password_file)
        self.settings, self.db, self.clock, self.site = settings, db, clock, settings.site
        self.link = FleetLink(settings, password=password, client_id=client_id, on_ack=self._on_ack,
                              on_command=self._on_command, on_connection=self._on_connection)
        self.pump = FleetPump(db, clock, lambda topic, payload, retain: self.link.publish(topic, payload,
                                                                                         retain=retain))
        self.publisher = FleetPublisher(db, clock, bus, self.site, health=health,
                                        interval_s=settings.publish_interval_s, queued=self.pump.poke)
        self.desk = CommandDesk(db, clock, self.site, operator_key, target,
                                max_validity_s=settings.command_max_validity_s, queued=self.pump.poke)
        self._commands: asyncio.Queue[bytes] = asyncio.Queue()
        self._handling = False
        self._tasks: list[asyncio.Task] = []

    @classmethod
    def for_site(cls, site: Site, *, health: Callable[[], SiteStatus],
                 pull_manifest: Callable[[], Awaitable[Any]]) -> Fleet:
        """The fleet link of a running controller's site."""
        return cls(site.config.fleet, site.db, site.clock, site.bus, SiteTarget(site, pull_manifest),
                   health=lambda: health_of(health()))

    def __repr__(self) -> str:
        return f"<Fleet {self.link!r} {self.pump!r}>"

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        subscription = self.publisher.start_listening()
        self._tasks = [loop.create_task(self.pump.run(), name=f"fleet-pump-{self.site}"),
                       loop.create_task(self.publisher.run_events(subscription), name=f"fleet-events-{self.site}"),
                       loop.create_task(self.publisher.run_states(), name=f"fleet-state-{self.site}"),
                       loop.create_task(self._run_commands(), name=f"fleet-commands-{self.site}")]
        self.link.start(loop)

    async def stop(self) -> None:
        """Stop the loops and say goodbye; what is not acknowledged stays in the outbox."""
        pending = set(self._tasks)
        while pending:   # again until they end: a cancellation can be lost in a task's own wait (3.11)
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        self._tasks = []
        await asyncio.to_thread(self.link.stop)
        self.pump.flush()

    async def _run_commands(self) -> None:
        while True:
            payload = await self._commands.get()
            self._handling = True
            try:
                await self.desk.handle(payload)
            except Exception:   # a bug must not stop the desk: the next command is still answered
                log.exception("fleet: a command could not be handled")
            finally:
                self._handling = False

    def _on_command(self, payload: bytes) -> None:
        self._commands.put_nowait(payload)

    def _on_ack(self, mid: int, ok: bool, reason: str) -> None:
        self.pump.on_ack(mid, ok, reason)

    def _on_connection(self, up: bool) -> None:
        log.info("fleet: %s %s", self.site, "connected" if up else "disconnected")
        self.pump.on_connection(up)

    def status(self) -> dict[str, Any]:
        pending, oldest = fleet_store.pending_summary(self.db)
        return {"enabled": True, "broker": self.settings.broker, "site": self.site, "connected": self.link.connected,
                "connects": self.link.connects, "last_error": self.link.last_error or self.pump.last_error,
                "pending": pending, "oldest_pending": oldest, "in_flight": len(self.pump.in_hand),
                "events_queued": self.publisher.events_queued, "acknowledged": self.pump.acknowledged,
                "commands": {"accepted": self.desk.accepted, "refused": self.desk.refused, "done": self.desk.done,
                             "failed": self.desk.failed}}

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait (real time) until the outbox is empty and nothing awaits a PUBACK. Raises TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while fleet_store.pending_summary(self.db)[0] or not self.pump.settled() or not self._commands.empty() \
                or self._handling:
            if loop.time() > deadline:
                raise TimeoutError(f"the fleet link did not settle in {timeout} s ({self!r})")
            self.pump.poke()
            await asyncio.sleep(0.01)
