"""F5 at the counter: the clerk scans the parcel's label, the recipient places a finger on
the desk's sensor, the clerk confirms.

    present(label) ─► verify_finger() ─► ticket ─► confirm(clerk, ticket) ─► collected

The finger is matched exactly as at a locker (kiosk.service.finger_pickup.match_finger:
the store's reference on the module, or the capture at the store), inside the same
attempt gate; another finger is a failed attempt, no finger or a poor image is none.
"""

from __future__ import annotations

from kiosk.devices.roles import BiometricMatcher
from kiosk.errors import KioskError
from kiosk.service import counter
from kiosk.service.dto import CounterTicket
from kiosk.service.events import EventKind
from kiosk.service.finger_pickup import METHOD, match_finger, raise_wrong_finger
from kiosk.service.pickup import recent_failures
from kiosk.service.site import Site
from kiosk.sync.client import StoreClient


async def verify_finger(site: Site, matcher: BiometricMatcher | None, store: StoreClient | None, *,
                        desk: str = counter.DEFAULT_DESK) -> CounterTicket:
    """Match the finger on the desk's sensor for the label the desk has read. Returns the
    ticket the clerk confirms. Raises SlowDown, CounterIncomplete (no label), UnknownParcel,
    SeeStaff (not a biometric parcel), NotCollectable, LockedOut, CodeInvalid, FingerProblem."""
    held = counter._held(site, desk)
    held.ready = None
    try:
        trade = counter.labelled_parcel(site, held, METHOD, "a fingerprint").trade_number
        reads = held.reads
        with site.gate.admit(recent_failures(site), site.now(), site.config.attempts, trade):
            matched, score, how = await match_finger(site, matcher, store, trade)
            parcel = site.db.require_parcel(trade)
            counter._check_at_counter(parcel)
            if not matched:
                raise_wrong_finger(site, trade)
    except KioskError as err:
        counter._rejected(site, held, err, "finger", tag_dropped=False)
        raise
    ready = CounterTicket(site.new_id(), trade, METHOD, how, site.now(),
                          amount_due=max(0, parcel.amount_due - parcel.amount_paid))
    with site.db.transaction(site.now()) as tx:
        tx.audit("recipient", "recipient_verified", trade, method=METHOD, checked=how, desk=held.name,
                 **({"score": score} if score is not None else {}))
    if site.desks.is_current(held) and held.reads == reads:   # a cancel or a read meanwhile voids it
        held.ready, held.touched = ready, site.now()
    site.bus.publish(EventKind.COUNTER_READY, site.now(), desk=held.name, trade_number=trade, method=METHOD,
                     state=counter.snapshot(site, held))
    return ready
