"""The outbox pump: events leave for the store in order, exactly once as the store sees it.

One pass sends the oldest pending events in batches of ``[store] batch_size``, each
event with the id it was given when it was created. An event is marked sent only in a
transaction after the store's acknowledgement, and only when the store acknowledged
exactly the batch (accepted ∪ duplicates); anything else fails the whole exchange. A
kill at any instant therefore leaves each event either acknowledged and marked, or
unmarked and sent again — which the store answers as a duplicate.

An event the store refuses on its own (protocol v1.1 per-event rejection) is quarantined:
kept in the outbox with the store's reason, never sent again, counted in the status, and
raised as an ``event_rejected`` alarm (audit entry, an ``event_rejected`` event for the
store, the bus) — so one bad event cannot hold back every event after it. The
acknowledgement itself must be signed by the store for this request and body
(kiosk.sync.wire.parse_ack): an unsigned or forged one fails the exchange.

The first failure ends the pass (a later event for a parcel must not overtake an
earlier one) and sets the next attempt after a jittered exponential backoff on the
injected clock, never sooner than a 429's Retry-After. Newly queued events wake the
pump at once unless it is backing off.
"""

from __future__ import annotations

import asyncio
import json
import logging

from kiosk.errors import StoreBusy, StoreRejected, SyncError
from kiosk.service import sync_health
from kiosk.service.events import EventKind
from kiosk.service.site import Site
from kiosk.service.wakeup import Wakeup
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import StoreClient
from kiosk.sync.wire import Ack, EventBatch, Rejection

log = logging.getLogger(__name__)

CHANNEL = "events"
# During a long drain, acknowledged events are marked sent a few batches at a time: one
# commit (an fsync) per batch would cost more than the exchange itself. A kill before
# the commit only means those events are sent again — and answered as duplicates.
MARK_EVERY = 500
# Outbox kinds that are not protocol Events but go to their own endpoint (one request each).
DIRECT_KINDS = frozenset({"card_signature"})


class OutboxPump:
    def __init__(self, site: Site, client: StoreClient, backoff: Backoff, *, batch_size: int,
                 wakeup: Wakeup):
        self.site = site
        self.client = client
        self.backoff = backoff
        self.batch_size = batch_size
        self.wakeup = wakeup
        self.next_attempt_at: float | None = None   # None: no failure to wait out
        self.running = False
        self.batches_sent = 0
        self._passed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<OutboxPump batch={self.batch_size} next_attempt_at={self.next_attempt_at}>"

    async def run(self) -> None:
        """Pump until cancelled."""
        while True:
            if self.due():
                await self.pass_once()
            await self.wakeup.until(self.next_attempt_at)

    def due(self) -> bool:
        return self.next_attempt_at is None or self.site.now() >= self.next_attempt_at

    def settled(self) -> bool:
        """Nothing to do now: the outbox is empty, or the pump is waiting out a failure."""
        if self.running:
            return False
        if self.next_attempt_at is not None and self.next_attempt_at > self.site.now():
            return True
        return self.site.db.pending_summary()[0] == 0

    async def pass_once(self) -> int:
        """Send pending events until none are left or an exchange fails. Returns how many
        were acknowledged. Never raises for a failed exchange (it is recorded)."""
        self.running = True
        acked: list[str] = []   # acknowledged by the store, not yet marked sent here
        after_seq = 0           # the last event handed over in this pass
        total = 0
        try:
            while True:
                batch = self.site.db.pending_events(self.batch_size, after_seq=after_seq)
                if not batch:
                    self._mark_sent(acked)
                    return total
                # A card signature has its own endpoint: it goes alone, in its place in the order.
                direct = next((i for i, row in enumerate(batch) if row["kind"] in DIRECT_KINDS), None)
                if direct is not None:
                    batch = batch[:max(direct, 1)]
                ids = [row["event_id"] for row in batch]
                try:
                    if batch[0]["kind"] in DIRECT_KINDS:
                        ack = await self._post_direct(batch[0])
                    else:
                        ack = await self.client.post_batch(EventBatch.from_outbox(batch))
                except Exception as err:
                    if not isinstance(err, SyncError):   # a bug must not become a hot loop: back off too
                        log.exception("outbox pump: unexpected error")
                    self._mark_sent(acked)
                    self._failed(err, ids)
                    return total
                if ack.rejected:
                    self._quarantine(ack.rejected, {row["event_id"]: row["kind"] for row in batch})
                acked += [*ack.accepted, *ack.duplicates]
                after_seq = batch[-1]["seq"]
                total += len(ids)
                self.batches_sent += 1
                self.next_attempt_at = None
                if len(acked) >= MARK_EVERY:
                    self._mark_sent(acked)
        finally:
            self._mark_sent(acked)   # also when stopped mid-pass: what was acknowledged stays acknowledged
            self.running = False
            self._passed.set()

    async def _post_direct(self, row) -> Ack:
        """One event with its own endpoint (a card signature), answered like a batch of one.
        A final refusal (a 4xx other than 401, 403, 429) quarantines it like a refused event:
        one upload the store will never take must not hold back every event after it."""
        try:
            await self.client.post_card_signature(json.loads(row["payload"]) | {"trade_number": row["trade_number"]})
        except StoreRejected as err:
            if err.status in (401, 403, 429) or err.status >= 500:
                raise
            return Ack((), (), (Rejection(row["event_id"], err.code, str(err)),))
        return Ack((row["event_id"],), ())

    def _mark_sent(self, acked: list[str]) -> None:
        """Commit what the store has acknowledged (and empty ``acked``)."""
        if not acked:
            return
        with self.site.db.transaction(self.site.now()) as tx:
            tx.mark_sent(acked)
            sync_health.succeeded(self.site, CHANNEL, tx)
        acked.clear()

    def _quarantine(self, rejected: tuple[Rejection, ...], kinds: dict[str, str]) -> None:
        """Keep the refused events aside for good, and raise the alarm once per event."""
        now = self.site.now()
        with self.site.db.transaction(now) as tx:
            tx.quarantine([(r.event_id, f"{r.error}: {r.message}"[:300]) for r in rejected])
            for r in rejected:
                kind = kinds.get(r.event_id, "")
                tx.audit("kioskd", "event_rejected", None, event_id=r.event_id, kind=kind, error=r.error,
                         reason=r.message[:300])
                if kind != "event_rejected":   # an alarm about an alarm would never end
                    tx.emit("event_rejected", None, event_id=r.event_id, event_kind=kind, error=r.error, at=now)
        for r in rejected:
            log.error("outbox: the store refused event %s (%s): %s; quarantined", r.event_id,
                      kinds.get(r.event_id, "?"), r.message)
            self.site.bus.publish(EventKind.ALARM, now, alarm="event_rejected")

    def _failed(self, err: Exception, ids: list[str]) -> None:
        failures = self.site.db.sync_channel(CHANNEL)["failures"] + 1
        at_least = err.retry_after if isinstance(err, StoreBusy) else 0.0
        self.next_attempt_at = self.site.now() + self.backoff.delay(failures, at_least=at_least)
        sync_health.failed(self.site, CHANNEL, err, next_attempt_at=self.next_attempt_at, event_ids=ids)

    async def wait_passed(self, timeout: float) -> None:
        """Wait (real time) for the end of the next pass; for ``Sync.settle``."""
        self._passed.clear()
        try:   # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation (cpython#86296)
            async with asyncio.timeout(timeout):
                await self._passed.wait()
        except TimeoutError:
            pass
