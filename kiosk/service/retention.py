"""Keeping the books no longer than needed (issue 14: privacy and a bounded disk).

A parcel collected or returned more than ``[retention] days`` ago, its payments, and the
events the store acknowledged more than that long ago are deleted, in one transaction with
an audit entry of the counts. What is still open (arrived, expected, expired, in a locker),
events not yet acknowledged (or quarantined, for staff) and the audit chain are kept. The
controller's timer runs it every ``EVERY_S``.
"""

from __future__ import annotations

import logging

from kiosk.service.site import Site

log = logging.getLogger(__name__)
EVERY_S = 6 * 3600.0


def purge(site: Site, keep_s: float) -> tuple[int, int]:
    """Delete what finished before now − ``keep_s``. Returns (parcels, events) removed."""
    now = site.now()
    with site.db.transaction(now) as tx:
        parcels, events = tx.purge_finished(now - keep_s)
        if parcels or events:
            tx.audit("kioskd", "retention_purge", None, parcels=parcels, events=events, kept_days=keep_s / 86400)
    if parcels or events:
        log.info("retention: %d finished parcel(s) and %d acknowledged event(s) older than %.0f days removed",
                 parcels, events, keep_s / 86400)
    return parcels, events


class Retention:
    """Runs ``purge`` when due (the controller calls ``tick`` from its timer)."""

    def __init__(self, site: Site, keep_s: float) -> None:
        self.site, self.keep_s = site, keep_s
        self.last_run: float | None = None

    def tick(self) -> None:
        now = self.site.now()
        if self.last_run is None or now - self.last_run >= EVERY_S:
            self.last_run = now
            purge(self.site, self.keep_s)
