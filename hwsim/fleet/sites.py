"""Sites for the fleet simulator: light ones (a database and a fleet link, nothing else) and
the ``[fleet]`` table that links a full simulated controller (hwsim.site) to a broker.

A light site is what the fleet link needs and no more: its own SQLite database (migrated
like any site's, so the fleet outbox, nonces and audit are the real ones), an event bus
the simulator publishes door changes and alarms on, and the real ``kiosk.service.fleet.Fleet``
with a ``RecordingTarget`` in place of doors: a command that is accepted is recorded, not
carried out. Hundreds share one process; each has its own paho client and thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.clock import Clock
from kiosk.domain.lockers import Locker
from kiosk.fleet.commands import Command
from kiosk.fleet.settings import FleetSettings
from kiosk.security.keys import public_key_text
from kiosk.service.events import EventBus, EventKind
from kiosk.service.fleet import Fleet
from kiosk.storage.database import Database
from hwsim.site import toml_value

LIGHT_LOCKERS = 4


class RecordingTarget:
    """A light site's hands: every command it is asked to carry out, in order."""

    def __init__(self) -> None:
        self.runs: list[Command] = []

    async def run(self, command: Command) -> dict[str, Any]:
        self.runs.append(command)
        return {"simulated": True}


@dataclass
class LightSite:
    site: str
    db: Database
    bus: EventBus
    clock: Clock
    fleet: Fleet
    target: RecordingTarget = field(default_factory=RecordingTarget)

    def door(self, locker: int, opened: bool) -> None:
        """A door opens or closes (as the controller would announce it)."""
        kind = EventKind.DOOR_OPEN if opened else EventKind.DOOR_CLOSED
        self.bus.publish(kind, self.clock.now(), locker=locker, op=None)

    def alarm(self, alarm: str, locker: int | None = None) -> None:
        self.bus.publish(EventKind.ALARM, self.clock.now(), alarm=alarm, locker=locker)

    async def stop(self) -> None:
        await self.fleet.stop()
        self.db.close()


def light_settings(broker_url: str, site: str, *, ca_file: Path | None = None, **settings: Any) -> FleetSettings:
    return FleetSettings(broker=broker_url, site=site, ca_file=ca_file, **settings)


def start_light_site(folder: Path, site: str, settings: FleetSettings, *, password: str,
                     operator_key: Ed25519PublicKey, clock: Clock) -> LightSite:
    """A light site with its fleet link started (call on the event loop)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = Database(folder / "kiosk.db")
    with db.transaction(clock.now()) as tx:
        for n in range(1, LIGHT_LOCKERS + 1):
            if tx.locker(n) is None:
                tx.save_locker(Locker(n))
    bus = EventBus()
    target = RecordingTarget()
    fleet = Fleet(settings, db, clock, bus, target, health=lambda: {"ok": True, "light": True},
                  operator_key=operator_key, password=password)
    fleet.start()
    return LightSite(site, db, bus, clock, fleet, target)


def fleet_toml(folder: Path, broker_url: str, site: str, *, password: str, operator_key: Ed25519PublicKey,
               ca_file: Path | None = None, **settings: Any) -> str:
    """The ``[fleet]`` table of a full simulated site (for hwsim.site.start_site's ``extra``),
    its password and operator key written to files in ``folder`` as an installer would."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    password_file, key_file = folder / "fleet-password", folder / "operator.pub"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    key_file.write_text(public_key_text(operator_key) + "\n", encoding="utf-8")
    lines = ["", "[fleet]", f"broker = {toml_value(broker_url)}", f"site = {toml_value(site)}",
             f"password_file = {toml_value(str(password_file))}", f"operator_key_file = {toml_value(str(key_file))}"]
    if ca_file is not None:
        lines.append(f"ca_file = {toml_value(str(ca_file))}")
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
