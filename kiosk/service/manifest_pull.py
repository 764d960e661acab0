"""The manifest pull: the parcels the store says are coming, fetched, checked, applied.

On a schedule (``[store] manifest_interval_s``) and on demand (``pull_now``), from the
cursor kept in the database. Each page is opened only if the store's pinned key signed
it, its entries are checked by kiosk.service.manifest exactly as a manifest file is, and
only then applied: new parcels imported, cancellations applied to parcels still only
expected (one that has already arrived stays, and a clerk is told), and the cursor
advanced. Applying a page twice changes nothing, so a kill between the import and the
cursor update only means the page is fetched again. A cursor the store no longer knows
(410 cursor_unknown) starts the pull over from the beginning, once — only when the store
signed that 410 for this very request (kiosk.sync.client); an unsigned one is a rejected
reply. Each page carries the store's ``sequence`` (its change counter, never going down):
a page older than the last one applied is refused, so an old, genuinely signed page
cannot bring back a parcel cancelled since. A signed 410 sets the floor to the store's
word (a store restored from a backup really is older).

A page that fails any check is rejected whole, recorded and reported
(kiosk.service.sync_health); the cursor stays where it was.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kiosk.domain.parcels import ParcelState, valid_trade_number
from kiosk.errors import BadStoreReply, ConfigError, StoreBusy, StoreRejected, SyncError
from kiosk.service import manifest, sync_health
from kiosk.service.site import Site
from kiosk.service.wakeup import Wakeup
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import StoreClient
from kiosk.sync.wire import ManifestPage

log = logging.getLogger(__name__)

CHANNEL = "manifest"
MAX_PAGES = 1000   # per pull: a store that never says "complete" must not hold us forever


@dataclass(frozen=True)
class PullResult:
    pages: int
    added: int
    cancelled: int


class ManifestPuller:
    def __init__(self, site: Site, client: StoreClient, backoff: Backoff, *, interval_s: float, wakeup: Wakeup):
        self.site = site
        self.client = client
        self.backoff = backoff
        self.interval_s = interval_s
        self.wakeup = wakeup
        self.next_pull_at = site.now()      # pull once at start
        self.running = False
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<ManifestPuller every {self.interval_s}s next_pull_at={self.next_pull_at}>"

    async def run(self) -> None:
        """Pull on schedule until cancelled (failures are recorded, never raised)."""
        while True:
            if self.site.now() >= self.next_pull_at:
                try:
                    await self.pull_now()
                except SyncError:
                    pass   # recorded and reported by _pull; the next try is scheduled
                except Exception as err:  # a bug must not end the pulls, nor become a hot loop
                    log.exception("manifest pull: unexpected error")
                    self.next_pull_at = self.site.now() + self.interval_s
                    sync_health.failed(self.site, CHANNEL, err, next_attempt_at=self.next_pull_at)
            await self.wakeup.until(self.next_pull_at)

    def settled(self) -> bool:
        return not self.running and self.next_pull_at > self.site.now()

    async def pull_now(self) -> PullResult:
        """Pull every page since the stored cursor and apply it.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature
        (after recording them; nothing of the failed page is applied)."""
        async with self._lock:
            self.running = True
            try:
                return await self._pull()
            finally:
                self.running = False

    async def _pull(self) -> PullResult:
        channel = self.site.db.sync_channel(CHANNEL)
        cursor, floor = channel["cursor"], channel["sequence"]
        pages = added = cancelled = 0
        restarted = False
        try:
            for _ in range(MAX_PAGES):
                try:
                    page = await self.client.fetch_manifest(cursor)
                except StoreRejected as err:
                    if err.code != "cursor_unknown" or cursor is None or restarted:
                        raise
                    # The store no longer knows our cursor (reset, restored backup): start over;
                    # importing is idempotent, so pulling everything again is harmless.
                    log.warning("manifest: the store does not know cursor %r; pulling from the start", cursor)
                    cursor, restarted, floor = None, True, err.sequence
                    continue
                if floor is not None and page.sequence < floor:
                    raise BadStoreReply(f"manifest: page of store sequence {page.sequence} is older than the last "
                                        f"applied ({floor}): a rollback; not applied")
                parcels, cancels = _checked(page)
                added += manifest.import_parcels(self.site, parcels, "store")
                cancelled += self._apply_page_end(page, cancels)
                cursor, floor = page.cursor, page.sequence
                pages += 1
                if page.complete:
                    break
        except SyncError as err:
            failures = self.site.db.sync_channel(CHANNEL)["failures"] + 1
            at_least = err.retry_after if isinstance(err, StoreBusy) else 0.0
            delay = min(self.interval_s, self.backoff.delay(failures, at_least=at_least))
            self.next_pull_at = self.site.now() + max(delay, at_least)
            sync_health.failed(self.site, CHANNEL, err, next_attempt_at=self.next_pull_at)
            raise
        self.next_pull_at = self.site.now() + self.interval_s
        sync_health.succeeded(self.site, CHANNEL, next_attempt_at=self.next_pull_at)
        if added or cancelled:
            log.info("manifest: %d parcel(s) added, %d cancelled (%d page(s))", added, cancelled, pages)
        return PullResult(pages, added, cancelled)

    def _apply_page_end(self, page: ManifestPage, cancels: list[str]) -> int:
        """Cancellations and the new cursor, in one transaction. Returns parcels removed."""
        site, now = self.site, self.site.now()
        removed, refused = 0, []
        with site.db.transaction(now) as tx:
            for trade in cancels:
                parcel = tx.parcel(trade)
                if parcel is None:
                    continue
                if parcel.state == ParcelState.EXPECTED and tx.delete_expected_parcel(trade):
                    tx.audit("store", "parcel_cancelled", trade)
                    removed += 1
                elif parcel.state not in (ParcelState.COLLECTED, ParcelState.RETURNED):
                    tx.audit("store", "cancellation_not_applied", trade, state=parcel.state.value,
                             locker=parcel.locker)
                    refused.append(trade)
            tx.save_sync_channel(CHANNEL, cursor=page.cursor, sequence=page.sequence)
        if removed:
            site.bus.publish("manifest_cancelled", now, removed=removed)
        for trade in refused:
            # Already here (or expired): only a person can take it back out for the store.
            site.bus.publish("cancellation_needs_staff", now, trade_number=trade)
        return removed


def _checked(page: ManifestPage) -> tuple[list, list[str]]:
    """The page's parcels (checked as a manifest file is) and cancellations. Raises BadStoreReply."""
    try:
        parcels = manifest.parse({"version": 1, "parcels": page.parcels}, "store manifest")
    except ConfigError as err:
        problems = "; ".join(f"{k}: {r}" for k, r in err.problems[:5])
        raise BadStoreReply(f"manifest: {len(err.problems)} bad entr(y/ies): {problems}") from None
    # Exactly as the store issued them: a cancellation is never "corrected" into another number.
    bad = [t for t in page.cancelled if not valid_trade_number(t)]
    if bad:
        raise BadStoreReply(f"manifest: {len(bad)} cancelled trade number(s) are not trade numbers")
    return parcels, list(page.cancelled)
