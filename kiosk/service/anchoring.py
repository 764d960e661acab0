"""Audit anchoring: the audit chain's head is sent to the store, so history cannot be
rewritten unseen (issue 8 §3).

The audit log is hash-chained (kiosk.storage.audit): each entry's hash covers every entry
before it. The chain alone cannot tell a rewritten log from an honest one — whoever can
write the file can recompute every hash — so its head, ``(seq, hash)``, leaves the site
in an ``audit_anchor`` event: regularly (``[store] anchor_interval_s``) and at every
shutdown. Events go through the outbox, signed with the site key, and the store keeps
them. ``kiosk audit verify --against-store`` fetches the anchors (signed by the store)
and compares: an anchor past the local log's end means its tail was deleted; an anchor
whose hash differs from the local entry's means the log up to there was rewritten and
re-chained. docs/audit-anchoring.md says what this can and cannot reveal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.service.site import Site
from kiosk.service.wakeup import Wakeup
from kiosk.storage.database import Reader
from kiosk.sync.wire import Anchor

log = logging.getLogger(__name__)

KIND = "audit_anchor"


def anchor(site: Site) -> str | None:
    """Queue the audit chain's head for the store, unless it was already queued (or the log
    is empty). Returns the event id, or None."""
    with site.db.transaction(site.now()) as tx:
        head = tx.audit_head()
        last = tx.last_event(KIND)
        if head is None or (last is not None and (last["payload"]["seq"], last["payload"]["hash"]) == head):
            return None
        return tx.emit(KIND, None, seq=head[0], hash=head[1])


class AuditAnchorer:
    """Anchors the audit chain every ``interval_s`` on the site's clock."""

    def __init__(self, site: Site, *, interval_s: float, wakeup: Wakeup):
        self.site = site
        self.interval_s = interval_s
        self.wakeup = wakeup
        self.next_at = site.now() + interval_s

    def __repr__(self) -> str:
        return f"<AuditAnchorer every {self.interval_s}s next_at={self.next_at}>"

    async def run(self) -> None:
        while True:
            if self.site.now() >= self.next_at:
                try:
                    anchor(self.site)
                except Exception:   # a full disk must not end the anchoring task
                    log.exception("audit anchor: could not queue the chain's head")
                self.next_at = self.site.now() + self.interval_s
            await self.wakeup.until(self.next_at)

    def settled(self) -> bool:
        return self.next_at > self.site.now()


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    anchors: int                 # how many the store holds
    newest: int | None           # the newest anchored entry
    problem: str = ""


def check_against(reader: Reader, anchors: list[Anchor]) -> AnchorCheck:
    """Compare the local audit log with the heads the store was sent. The local chain
    itself is checked separately (kiosk.storage.audit.verify)."""
    head = reader.audit_head()
    end = head[0] if head else 0
    newest = max((a.seq for a in anchors), default=None)
    for a in sorted(anchors, key=lambda a: a.seq):
        if a.seq > end:
            return AnchorCheck(False, len(anchors), newest,
                               f"the store holds an anchor for entry {a.seq} but the local log ends at entry {end}: "
                               "its tail was deleted")
        if reader.audit_hash(a.seq) != a.hash:
            return AnchorCheck(False, len(anchors), newest,
                               f"entry {a.seq} does not have the hash the store was sent: the log up to it was "
                               "rewritten")
    return AnchorCheck(True, len(anchors), newest)
