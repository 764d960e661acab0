"""The fleet pump: the fleet outbox (kiosk.storage.fleet) to the broker, at least once.

While the link is up, the oldest messages not yet handed over go to paho, at most
``window`` unacknowledged at a time, in the order they were queued. A message is deleted
from the outbox only after the broker's PUBACK for it (paho's ``on_publish``), a batch of
acknowledgements per transaction. paho keeps what it was handed until then and sends it
again after a reconnect; a kioskd that dies first leaves the rows, and the next start
sends them again — the consumer drops the repeats by id. A message an MQTT 5 broker
refuses (PUBACK with a failure reason: a misconfigured ACL) stays in the outbox, counted
and retried every ``retry_s``: nothing is thrown away on the broker's word.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kiosk.clock import Clock
from kiosk.errors import FleetError, StorageError
from kiosk.storage import fleet as fleet_store
from kiosk.storage.database import Database

log = logging.getLogger(__name__)

WINDOW = 100


class FleetPump:
    def __init__(self, db: Database, clock: Clock, publish: Callable[[str, str, bool], int], *,
                 window: int = WINDOW, retry_s: float = 30.0, tick_s: float = 1.0):
        """``publish(topic, payload, retain)`` hands a message to the link and returns its mid."""
        self.db, self.clock, self._publish = db, clock, publish
        self.window, self.retry_s, self.tick_s = window, retry_s, tick_s
        self.connected = False
        self.in_hand: dict[int, str] = {}        # paho message id -> msg_id, until the PUBACK
        self._handed: set[str] = set()
        self._acked: list[str] = []
        self._refused: dict[str, float] = {}     # msg_id -> not before (refused by the broker)
        self._wake = asyncio.Event()
        self.handed_over = 0
        self.acknowledged = 0
        self.refusals = 0
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return f"<FleetPump in_hand={len(self.in_hand)} connected={self.connected}>"

    def poke(self) -> None:
        """Something was queued or acknowledged (call on the loop)."""
        self._wake.set()

    def on_connection(self, up: bool) -> None:
        self.connected = up
        self.poke()

    def on_ack(self, mid: int, ok: bool, reason: str) -> None:
        msg_id = self.in_hand.pop(mid, None)
        if msg_id is None:
            return   # the link's own status message, or one forgotten by a restart
        self._handed.discard(msg_id)
        if ok:
            self._acked.append(msg_id)
        else:
            self.refusals += 1
            self.last_error = f"the broker refused a message: {reason}"
            self._refused[msg_id] = self.clock.now() + self.retry_s
            try:
                with self.db.transaction(self.clock.now()) as tx:
                    fleet_store.record_failure(tx, msg_id, reason)
            except StorageError as err:
                log.error("fleet: cannot record a refusal: %s", err)
        self.poke()

    async def run(self) -> None:
        """Pump until cancelled."""
        try:
            while True:
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                    # that arrives as the event is set, and the pump would never stop.
                    async with asyncio.timeout(self.tick_s):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
                self.flush()
                if self.connected:
                    self._hand_over()
        finally:
            self.flush()

    def flush(self) -> None:
        """Delete what the broker has acknowledged, in one transaction."""
        if not self._acked:
            return
        acked, self._acked = self._acked, []
        try:
            with self.db.transaction(self.clock.now()) as tx:
                fleet_store.delete(tx, acked)
        except StorageError as err:   # they are sent again later: harmless
            log.error("fleet: cannot forget acknowledged messages: %s", err)
            return
        self.acknowledged += len(acked)

    def _hand_over(self) -> None:
        room = self.window - len(self.in_hand)
        if room <= 0:
            return
        now = self.clock.now()
        self._refused = {k: t for k, t in self._refused.items() if t > now}
        for row in fleet_store.pending(self.db, room, skip=self._handed | set(self._refused)):
            try:
                mid = self._publish(row["topic"], row["payload"], bool(row["retain"]))
            except FleetError as err:
                self.last_error = str(err)
                log.warning("fleet: %s", err)
                return
            self.in_hand[mid] = row["msg_id"]
            self._handed.add(row["msg_id"])
            self.handed_over += 1

    def settled(self) -> bool:
        """Nothing handed over awaits a PUBACK and nothing acknowledged awaits deletion."""
        return not self.in_hand and not self._acked
