"""The clerk's lists: every parcel still at the site sorted into what needs doing, the
lockers, the store link, and today's figures (issue 12 §2).

The decisions are made here, not on the screen: which list a parcel is on (locked out
first, then expired, forgotten — a warning has gone to the store —, nearing expiry within
``NEARING_S``, else waiting) and which of the clerk's actions apply to it. Today's figures
come from the events the site recorded for the store (the outbox keeps them), counted
between the site clock's local midnight and the next.
"""

from __future__ import annotations

import time
from collections import Counter

from kiosk.domain.parcels import ParcelState
from kiosk.domain.holding import HoldPolicy
from kiosk.service import extension, status
from kiosk.errors import UnknownAlarm
from kiosk.service.dto import Alarm, ClerkOverview, DayReport, ParcelRow
from kiosk.service.counter import COUNTER_METHODS
from kiosk.service.site import Site
from kiosk.storage.database import Reader

NEARING_S = 24 * 3600
OPEN_STATES = (ParcelState.EXPECTED, ParcelState.ARRIVED, ParcelState.EXPIRED)
LIST_ORDER = ("locked_out", "expired", "forgotten", "nearing_expiry", "waiting")
DAY_KINDS = ("parcel_arrived", "parcel_collected", "parcel_expired", "parcel_returned")
ALARM_KINDS = ("tamper", "door_left_open", "door_fault", "site_attempts_alarm", "event_rejected", "device_health")
ALARM_DAYS = 7              # alarms older than this drop off the list, acknowledged or not
_WHAT = ("what", "reason", "problem", "error", "scope", "component")


def parcel_rows(db: Reader, now: float, policy: HoldPolicy) -> tuple[ParcelRow, ...]:
    rows = []
    actions: tuple[str, ...]
    for p in db.parcels():
        if p.state not in OPEN_STATES:
            continue
        if p.locked_out:
            kind, actions = "locked_out", ("reset_attempts",)
        elif p.state == ParcelState.EXPIRED:
            kind, actions = "expired", ("mark_returned",)
        elif p.reminders_sent:
            kind, actions = "forgotten", _arrived_actions(p, policy)
        elif p.state == ParcelState.ARRIVED and p.hold_deadline is not None and p.hold_deadline - now <= NEARING_S:
            kind, actions = "nearing_expiry", _arrived_actions(p, policy)
        else:
            kind, actions = "waiting", _arrived_actions(p, policy)
        rows.append(ParcelRow(p.trade_number, kind, p.state.value, p.method, p.locker, p.hold_deadline,
                              p.reminders_sent, p.failed_attempts, actions))
    return tuple(sorted(rows, key=lambda r: (LIST_ORDER.index(r.list), r.deadline or float("inf"), r.trade_number)))


def _arrived_actions(p, policy) -> tuple[str, ...]:
    """An expected counter parcel can be taken in from the courier; an arrived one handed
    over in person (with a reason, after checking the recipient's proof), and its hold
    extended while the limit allows."""
    if p.state == ParcelState.EXPECTED:
        return ("receive",) if p.locker is None and p.method in COUNTER_METHODS else ()
    return ("hand_over", "extend") if extension.can_extend(p, policy) else ("hand_over",)


def local_day(now: float) -> tuple[float, float]:
    """The site's local day around ``now``: (midnight, the next midnight)."""
    t = time.localtime(now)
    midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    t2 = time.localtime(midnight + 26 * 3600)
    return midnight, time.mktime((t2.tm_year, t2.tm_mon, t2.tm_mday, 0, 0, 0, 0, 0, -1))


def day_report(db: Reader, since: float, until: float) -> DayReport:
    counts: Counter[str] = Counter()
    collected: Counter[str] = Counter()
    for event in db.events_between(since, until, DAY_KINDS):
        kind = event["kind"]
        counts[kind] += 1
        if kind == "parcel_collected":
            collected[str(event["payload"].get("method") or "?")] += 1
    return DayReport(since, until, counts["parcel_arrived"], dict(sorted(collected.items())), counts["parcel_expired"],
                     counts["parcel_returned"])


def alarms(db: Reader, now: float) -> tuple[Alarm, ...]:
    """The alarms of the last ``ALARM_DAYS`` no clerk has acknowledged, newest first."""
    seen = {e["detail"].get("event_id") for e in db.audit_entries("alarm_acknowledged")}
    found = []
    for event in db.events_between(now - ALARM_DAYS * 86400, now + 1, ALARM_KINDS):
        if event["event_id"] in seen:
            continue
        payload = event["payload"]
        what = " ".join(str(payload[k]) for k in _WHAT if payload.get(k))
        locker = payload.get("locker")
        found.append(Alarm(event["event_id"], event["kind"], event["created_at"], event["trade_number"],
                           locker if isinstance(locker, int) else None, what[:120]))
    return tuple(reversed(found))


def acknowledge(site: Site, clerk_id: str, event_id: str) -> None:
    """A clerk has seen the alarm and dealt with it: audited, and off the list. Acknowledging
    one twice is harmless. Raises UnknownAlarm."""
    site.require_storage()
    if not any(a.event_id == event_id for a in alarms(site.db, site.now())):
        if any(e["detail"].get("event_id") == event_id for e in site.db.audit_entries("alarm_acknowledged")):
            return
        raise UnknownAlarm(f"no alarm {event_id!r} is waiting")
    with site.db.transaction(site.now()) as tx:
        tx.audit(f"clerk:{clerk_id}", "alarm_acknowledged", None, event_id=event_id)


def overview(site: Site) -> ClerkOverview:
    db, now = site.db, site.now()
    return ClerkOverview(parcel_rows(db, now, site.config.holding), status.lockers(db), status.store_link(db, site.config),
                         day_report(db, *local_day(now)), alarms(db, now))
