"""The counter: a clerk hands a parcel over once the machine has verified the recipient.

    present(tag) ─┐                                     "hand over parcel 1234-5678"
    present(label)┼─► verify(secret) ─► Ready(ticket) ─► confirm(clerk, ticket) ─► collected,
    present(code) ┘        │                                                        receipt notice,
                           └─► why not: forged, swapped, other site, wrong secret    audit: one transaction
                               (n left), locked out, not arrived, already collected

Each read (from a scanner, the camera, or typed by the clerk) goes to ``present``; the
desk keeps what it has read until the hand-over, a cancel, or ``DESK_TTL_S`` without a
read. Three kinds of read: a tag (digits only, kiosk.security.tags), the trade number on
the parcel's label (the second, 1-D code, or typed), and a recipient's code shown on a
phone (``S/`` + secret). Any new read voids a verification not yet confirmed, so a
confirmation always hands over the parcel that was just checked.

The label is required with a tag: comparing the tag with the label is what catches a
tag moved from another parcel (docs/tags.md, "Swaps"). Attempt limits are the pickup's
own (kiosk.service.pickup.record_failure): a wrong secret counts against the parcel and
the site; a forged or swapped tag counts against the site only (never against the
parcel, or a forger could lock out its rightful recipient) and raises a tamper event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.domain import attempts as A
from kiosk.domain.parcels import ParcelState, check_state_for_handover, normalise_trade_number, valid_trade_number
from kiosk.errors import (CodeInvalid, CounterIncomplete, LockedOut, NotCollectable, SeeStaff, TagForged,
                          TagMalformed, TagNotForThisSite, TagSwapped, UnknownParcel)
from kiosk.security import tags
from kiosk.security.secrets import verify_secret
from kiosk.service import clerk, holding, verification
from kiosk.service.pickup import record_failure, recent_failures
from kiosk.service.site import Site
from kiosk.service.verification import OnlineVerifier

DEFAULT_DESK = "counter"
DESK_TTL_S = 180.0     # a desk forgets reads this long after the last one (the customer left)
READY_TTL_S = 120.0    # a verification must be confirmed within this
SECRET_PREFIX = "S/"   # a recipient's code on a phone; '/' is in no trade number, and types
                       # the same on US and JIS keyboard layouts
COUNTER_METHODS = ("secret", "f1_tag", "f2_tag")
# A label read as it comes off a scanner or the clerk's keyboard: the trade number's own
# characters and blanks, nothing else (a GS1 code's group separators would otherwise
# vanish in normalisation and leave something that looks like a trade number).
_LABEL_TEXT = re.compile(r"^[0-9A-Za-z -]+$")
LOCKED = "too many wrong attempts: this parcel is locked (reset it only after checking the recipient's proof)"


@dataclass(frozen=True)
class Presented:
    """What the desk now holds, for the clerk's screen. Never carries a secret."""

    read: str                      # "tag", "label" or "secret"
    method: str | None             # the held tag's method ("f1_tag", "f2_tag"), else None
    trade_number: str | None       # the F1 tag's number (signed by the store), else the label's
    label: str | None              # the label's trade number, once read
    mismatch: bool                 # the tag and the label name different parcels
    missing: tuple[str, ...]       # still needed before verify: "label", "secret"


@dataclass(frozen=True)
class Ready:
    """A verified hand-over waiting for the clerk: "hand over parcel <trade_number>"."""

    ticket: str
    trade_number: str
    method: str
    checked: str                   # "local", "online" or "local_fallback"
    at: float


@dataclass
class Desk:
    tag: tags.Tag | None = None
    label: str | None = None
    label_source: str = ""
    secret: str | None = field(default=None, repr=False)
    ready: Ready | None = None
    touched: float = 0.0
    reads: int = 0        # counts reads, so a check that finishes after a new read is void


def desk_state(site: Site, desk: str = DEFAULT_DESK) -> Desk:
    """The desk's current reads (stale ones dropped)."""
    held = site.counter_desks.get(desk)
    if not isinstance(held, Desk) or site.now() - held.touched > DESK_TTL_S:
        held = Desk(touched=site.now())
        site.counter_desks[desk] = held
    return held


def cancel(site: Site, desk: str = DEFAULT_DESK) -> None:
    """Forget everything the desk has read (the clerk's "next customer")."""
    site.counter_desks.pop(desk, None)


async def present(site: Site, payload: bytes, *, desk: str = DEFAULT_DESK, source: str = "scan") -> Presented:
    """One read at the counter: a tag, a label's trade number, or a recipient's code.
    ``source`` is "scan" or "typed" (kept as evidence for the label).

    Raises TagMalformed / TagUnsupportedVersion (unreadable or not ours: read again),
    TagForged, TagNotForThisSite, SeeStaff (tags are not set up at this site)."""
    held = desk_state(site, desk)
    held.ready = None   # whatever comes next, a verification not yet confirmed is void
    try:
        text = bytes(payload).strip().decode("utf-8")
    except (UnicodeDecodeError, TypeError, ValueError):
        _rejected(site, desk, "unreadable")
        raise TagMalformed("not a code this counter reads; scan again") from None
    if tags.looks_like_tag(text):
        held.tag = None   # a rejected tag must not leave the previous parcel's in its place
        held.tag = _read_tag(site, text, desk)
        read = "tag"
    elif text.startswith(SECRET_PREFIX) and len(text) > len(SECRET_PREFIX):
        held.secret = text[len(SECRET_PREFIX):]
        read = "secret"
    elif _LABEL_TEXT.match(text) and valid_trade_number(normalise_trade_number(text)):
        held.label, held.label_source = normalise_trade_number(text), source
        read = "label"
    else:
        _rejected(site, desk, "unreadable")
        raise TagMalformed("not a tag, a trade number or a recipient's code; scan again")
    held.touched, held.reads = site.now(), held.reads + 1
    shown = _presented(site, held, read)
    site.bus.publish("counter_read", site.now(), desk=desk, read=read, method=shown.method,
                     trade_number=shown.trade_number, mismatch=shown.mismatch)
    return shown


async def verify(site: Site, secret: str | None = None, *, trade_number: str | None = None,
                 desk: str = DEFAULT_DESK, online: OnlineVerifier | None = None) -> Ready:
    """Check the recipient against what the desk has read. ``secret`` is what the recipient
    typed (None: the code they showed, if any); ``trade_number`` is the number they state,
    if they give one (F1: both are compared). ``online`` is the store's check, used for the
    methods ``[verification]`` sends online.

    Raises SlowDown, CounterIncomplete, TagSwapped, UnknownParcel, SeeStaff, LockedOut,
    NotCollectable, CodeInvalid."""
    held = desk_state(site, desk)
    held.ready = None
    secret, held.secret = (held.secret if secret is None else secret), None   # used once, then gone
    policy = site.config.attempts
    A.check_site(recent_failures(site), site.now(), policy)
    if held.label is None:
        raise CounterIncomplete("scan the trade number on the parcel's label", "label")
    if not secret:
        raise CounterIncomplete("the recipient's secret is needed", "secret")
    trade, tag = held.label, held.tag
    parcel = site.db.parcel(trade)
    if parcel is None:
        record_failure(site, trade, known=False)
        raise UnknownParcel("no parcel with that number is waiting here")
    _check_method(parcel.method, tag)
    if tag is not None and not tags.matches_label(tag, trade, _keys(site)):
        _record_swap(site, desk, trade, tag)
        raise TagSwapped("the tag on this parcel belongs to another parcel: do not hand it over")
    _check_at_counter(parcel)
    if trade_number is not None and normalise_trade_number(trade_number) != trade:
        parcel = record_failure(site, trade, known=True)
        _raise_wrong(parcel, policy, "the trade number given is not this parcel's")

    reads = held.reads
    local = verify_secret if tag is None else _tag_check(tag, _keys(site), trade)
    check = await verification.check_secret(site, parcel, secret, online, local=local)

    # The world may have moved while we checked (another desk, the expiry sweep): look again.
    parcel = site.db.parcel(trade)
    _check_at_counter(parcel)
    if not check.matches:
        parcel = record_failure(site, trade, known=True)
        _raise_wrong(parcel, policy, "the secret does not match")
    ready = Ready(site.new_id(), trade, parcel.method, check.how, site.now())
    with site.db.transaction(site.now()) as tx:
        tx.audit("recipient", "recipient_verified", trade, method=parcel.method, checked=check.how, desk=desk)
    if desk_state(site, desk) is held and held.reads == reads:   # a cancel or a read meanwhile voids it
        held.ready, held.touched = ready, site.now()
    site.bus.publish("counter_ready", site.now(), desk=desk, trade_number=trade, method=parcel.method)
    return ready


def confirm(site: Site, clerk_id: str, ticket: str, *, desk: str = DEFAULT_DESK) -> str:
    """The clerk hands the verified parcel over: collected, its receipt notice queued and
    the audit entry written, in one transaction. Returns the trade number.

    Raises CounterIncomplete (nothing verified waiting, or it went stale), LockedOut,
    NotCollectable, UnknownParcel."""
    held = desk_state(site, desk)
    ready = held.ready
    if ready is None or ready.ticket != ticket or site.now() - ready.at > READY_TTL_S:
        raise CounterIncomplete("nothing verified is waiting to be handed over here; verify again", "verification")
    parcel = site.db.parcel(ready.trade_number)
    if parcel is None:
        raise UnknownParcel("no parcel with that number is waiting here")
    _check_at_counter(parcel)
    evidence = {"verified_by": ready.method, "checked": ready.checked, "label": held.label_source or "scan",
                "confirmation": "clerk confirmed", "desk": desk}
    clerk.hand_over(site, clerk_id, ready.trade_number, f"recipient verified by {ready.method} at the counter",
                    method=ready.method, evidence=evidence)
    cancel(site, desk)
    return ready.trade_number


def receive(site: Site, clerk_id: str, trade_number: str) -> None:
    """A parcel for hand-over at the counter has come in from the courier: it is now
    arrived, with its notice to the store. Raises UnknownParcel, NotCollectable, SeeStaff."""
    trade = normalise_trade_number(trade_number)
    parcel = site.db.parcel(trade)
    if parcel is None:
        raise UnknownParcel(f"{trade} is not in the manifest for this pickup point")
    if parcel.state != ParcelState.EXPECTED:
        where = f" (in locker {parcel.locker})" if parcel.locker is not None else ""
        raise NotCollectable(f"{trade} is already {parcel.state.value}{where}")
    if parcel.method not in COUNTER_METHODS:
        raise SeeStaff(f"{trade} is verified by {parcel.method}, not at this counter")
    now = site.now()
    with site.db.transaction(now) as tx:
        tx.save_parcel(parcel.to(ParcelState.ARRIVED, hold_deadline=holding.arrival_deadline(site, parcel, now)))
        tx.emit("parcel_arrived", trade, locker=None, place="counter", at=now)
        tx.audit(f"clerk:{clerk_id}", "parcel_arrived", trade, place="counter")
    site.bus.publish("parcel_arrived", now, locker=None, trade_number=trade)


# --- the checks ------------------------------------------------------------------------------

def _keys(site: Site):
    if site.tag_keys is None:
        raise SeeStaff("parcel tags are not set up at this pickup point ([tags] in the config)")
    return site.tag_keys


def _tag_check(tag: tags.Tag, keys, trade: str):
    """The local check for a tagged parcel, in the shape kiosk.service.verification runs in
    the hasher pool: (secret, held hash) -> bool. The tag is the reference, not a hash."""
    def check(secret: str, _hash: str) -> bool:
        return tags.check_secret(tag, secret, keys) == trade
    return check


def _read_tag(site: Site, text: str, desk: str) -> tags.Tag:
    try:
        return tags.read(text, _keys(site))
    except TagForged:
        # A forgery is an attack on the site, not on a parcel: it slows the site down and
        # is reported to the store; it never counts against the parcel it claims to be.
        record_failure(site, "", known=False)
        with site.db.transaction(site.now()) as tx:
            tx.emit("tamper", None, what="tag_forged", desk=desk, at=site.now())
            tx.audit("kioskd", "tag_rejected", None, reason="forged", desk=desk)
        _rejected(site, desk, "forged")
        raise
    except TagNotForThisSite:
        with site.db.transaction(site.now()) as tx:
            tx.audit("kioskd", "tag_rejected", None, reason="other_site", desk=desk)
        _rejected(site, desk, "other_site")
        raise
    except TagMalformed:
        _rejected(site, desk, "unreadable")
        raise


def _record_swap(site: Site, desk: str, label: str, tag: tags.Tag) -> None:
    record_failure(site, "", known=False)
    with site.db.transaction(site.now()) as tx:
        tx.emit("tamper", label, what="tag_swapped", tag_trade_number=tag.trade_number, desk=desk, at=site.now())
        tx.audit("kioskd", "tag_rejected", label, reason="swapped", tag_trade_number=tag.trade_number, desk=desk)
    _rejected(site, desk, "swapped")


def _rejected(site: Site, desk: str, reason: str) -> None:
    site.bus.publish("counter_rejected", site.now(), desk=desk, reason=reason)


def _presented(site: Site, held: Desk, read: str) -> Presented:
    tag = held.tag
    mismatch = bool(tag and held.label and site.tag_keys
                    and not tags.matches_label(tag, held.label, site.tag_keys))
    missing = tuple(name for name, have in (("label", held.label), ("secret", held.secret)) if not have)
    return Presented(read, tag.method if tag else None,
                     (tag.trade_number if tag and tag.trade_number else held.label), held.label, mismatch, missing)


def _check_method(method: str, tag: tags.Tag | None) -> None:
    if method not in COUNTER_METHODS:
        raise SeeStaff(f"this parcel is verified by {method}, not at this counter")
    if tag is None and method != "secret":
        raise CounterIncomplete("this parcel carries a tag: scan it", "tag")
    if tag is not None and tag.method != method:
        raise SeeStaff(f"this parcel is registered for {method}, but carries a {tag.method} tag; please see staff")


def _check_at_counter(parcel) -> None:
    check_state_for_handover(parcel)
    if parcel.locker is not None:
        raise NotCollectable(f"this parcel is in locker {parcel.locker}: it is collected there", "in_locker")


def _raise_wrong(parcel, policy: A.AttemptPolicy, message: str) -> None:
    if parcel.locked_out:
        raise LockedOut(LOCKED)
    raise CodeInvalid(message, A.attempts_left(parcel, policy))
