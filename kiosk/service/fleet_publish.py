"""What a site tells the fleet: its events as they happen, its state as retained snapshots.

Events come from the controller's event bus (kiosk.service.events): door changes, locker
faults and states, alarms, service state, store-link health and parcel movements — the
kinds in ``EVENT_KINDS``, each one message on ``kiosk/v1/<site>/event/<kind>`` numbered by
the site's event counter (``seq``). Trade numbers stay between the site and its store:
the fleet sees doors and counts, never which parcel. Events are written to the fleet
outbox as they arrive (a burst in one transaction), so a broker that is down loses none.

State is three retained topics (``state/health``, ``state/doors``, ``state/counters``),
published every ``publish_interval_s`` and, for doors and counters, within ``min_gap_s``
of an event that changes them. Each snapshot replaces an unsent older one in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from kiosk.clock import Clock
from kiosk.errors import StorageError
from kiosk.fleet import topics
from kiosk.service import status
from kiosk.service.dto import SiteStatus
from kiosk.service.events import Event, EventBus, EventKind, to_wire
from kiosk.service.wakeup import Wakeup
from kiosk.storage import fleet as fleet_store
from kiosk.storage.database import Database, Reader

log = logging.getLogger(__name__)

EVENT_KINDS = frozenset({
    EventKind.DOOR_OPEN, EventKind.DOOR_CLOSED, EventKind.LOCKER_FAULT, EventKind.LOCKER_STATE, EventKind.ALARM,
    EventKind.SERVICE_STATE, EventKind.SYNC_STATUS, EventKind.PARCEL_ARRIVED, EventKind.PARCEL_COLLECTED,
    EventKind.PARCEL_EXPIRED, EventKind.PICKUP_NOT_TAKEN, EventKind.CANCELLATION_NEEDS_STAFF,
    EventKind.MANIFEST_IMPORTED, EventKind.MANIFEST_CANCELLED, EventKind.VERIFICATION_FAILED,
    EventKind.PARCEL_RETURNED})
DOOR_KINDS = frozenset({EventKind.DOOR_OPEN, EventKind.DOOR_CLOSED, EventKind.LOCKER_FAULT, EventKind.LOCKER_STATE})
PRIVATE = ("trade_number",)


# --- snapshots ----------------------------------------------------------------------------------

def doors(reader: Reader) -> list[dict[str, Any]]:
    return [{"locker": lk.number, "state": lk.state, "door": lk.door, "fault": lk.fault, "busy": lk.busy}
            for lk in status.lockers(reader)]


def counters(reader: Reader) -> dict[str, Any]:
    parcels = dict(reader.conn.execute("SELECT state, COUNT(*) FROM parcels GROUP BY state").fetchall())
    lockers = dict(reader.conn.execute("SELECT state, COUNT(*) FROM lockers GROUP BY state").fetchall())
    return {"parcels": parcels, "lockers": lockers, "store_outbox_pending": reader.pending_summary()[0],
            "fleet_outbox_pending": fleet_store.pending_summary(reader)[0], **fleet_store.counters(reader)}


def health_of(site: SiteStatus) -> dict[str, Any]:
    """The site's health for the fleet (from ``site_status``): ``ok`` when nothing needs a person."""
    devices_down = [d.role for d in site.devices if not d.ok]
    tasks_down = [t.name for t in site.tasks if not t.running]
    link = site.store_link
    failing = sorted(name for name, ch in link.channels.items() if ch.failures)
    faulty = [lk.number for lk in site.lockers if lk.state == "fault"]
    ok = site.storage.writable and not devices_down and not tasks_down and not failing and not faulty
    return {"ok": ok, "in_service": site.storage.writable, "storage_problem": site.storage.failing,
            "free_bytes": site.storage.free_bytes, "devices_down": devices_down, "tasks_down": tasks_down,
            "task_restarts": sum(t.restarts for t in site.tasks), "lockers_faulty": faulty,
            "store_link": {"enabled": link.enabled, "pending": link.pending, "oldest_pending": link.oldest_pending,
                           "failing": failing, "quarantined": link.quarantined}}


def event_data(event: Event) -> dict[str, Any]:
    data = to_wire(event)
    for key in ("kind", "at", *PRIVATE):
        data.pop(key, None)
    return data


# --- the publisher -----------------------------------------------------------------------------

class FleetPublisher:
    def __init__(self, db: Database, clock: Clock, bus: EventBus, site: str, *, health: Callable[[], dict],
                 interval_s: float, queued: Callable[[], None], min_gap_s: float = 1.0, max_wait_s: float = 0.5):
        """``health()`` is the site's health now; ``queued()`` wakes the pump."""
        self.db, self.clock, self.bus, self.site = db, clock, bus, site
        self.health, self.interval_s, self.min_gap_s = health, interval_s, min_gap_s
        self._queued = queued
        self.wakeup = Wakeup(clock, max_wait_s)
        self.dirty: set[str] = set()
        self.last_snapshot_at: float | None = None
        self.next_full_at = clock.now()
        self.events_queued = 0

    def start_listening(self):
        """Subscribe to the bus now (before the controller publishes more), for ``run_events``."""
        return self.bus.subscribe()

    async def run_events(self, subscription) -> None:
        with subscription:
            async for event in subscription:
                batch = [e for e in (event, *subscription.drain()) if e.kind in EVENT_KINDS]
                if batch:
                    self.queue_events(batch)

    def queue_events(self, events: Iterable[Event]) -> list[str]:
        """Write events to the fleet outbox (one transaction); returns their ids."""
        ids = []
        events = list(events)
        try:
            with self.db.transaction(self.clock.now()) as tx:
                for event in events:
                    seq = fleet_store.bump(tx, fleet_store.EVENTS)
                    msg_id = fleet_store.new_id()
                    fleet_store.queue(tx, topics.event(self.site, event.kind.value),
                                      topics.envelope(msg_id, self.site, event.kind.value, event.at, event_data(event),
                                                      seq=seq), retain=False, msg_id=msg_id)
                    ids.append(msg_id)
        except StorageError as err:
            log.error("fleet: %d event(s) not queued: %s", len(events), err)
            return []
        self.events_queued += len(ids)
        self.dirty.add("counters")
        if any(e.kind in DOOR_KINDS for e in events):
            self.dirty.add("doors")
        self._queued()
        self.wakeup.poke()
        return ids

    async def run_states(self) -> None:
        self.wakeup.bind(asyncio.get_running_loop())
        while True:
            now = self.clock.now()
            gap_over = self.last_snapshot_at is None or now >= self.last_snapshot_at + self.min_gap_s
            if now >= self.next_full_at:
                self.snapshot(topics.STATE_NAMES)
                self.next_full_at = now + self.interval_s
            elif self.dirty and gap_over:
                self.snapshot(sorted(self.dirty))
            deadline = self.next_full_at
            if self.dirty and self.last_snapshot_at is not None:
                deadline = min(deadline, self.last_snapshot_at + self.min_gap_s)
            await self.wakeup.until(deadline)

    def snapshot(self, names: Iterable[str] = topics.STATE_NAMES) -> None:
        """Queue the named state snapshots now (one transaction)."""
        now = self.clock.now()
        makers: dict[str, Callable[[], Any]] = {"health": self.health, "doors": lambda: doors(self.db),
                                                "counters": lambda: counters(self.db)}
        try:
            with self.db.transaction(now) as tx:
                for name in names:
                    msg_id = fleet_store.new_id()
                    data = makers[name]()
                    fleet_store.queue(tx, topics.state(self.site, name),
                                      topics.envelope(msg_id, self.site, name, now,
                                                      data if isinstance(data, dict) else {name: data}),
                                      retain=True, msg_id=msg_id)
        except StorageError as err:
            log.error("fleet: state not queued: %s", err)
            return
        self.dirty.difference_update(names)
        self.last_snapshot_at = now
        self._queued()

