"""The counter: a clerk hands a parcel over once the machine has verified the recipient.

    present(tag) ─┐                                     "hand over parcel 1234-5678"
    present(label)┼─► verify(secret) ─► ticket ─► confirm(clerk, ticket) ─► collected,
    present(code) ┘        │                                                        receipt notice,
                           └─► why not: forged, swapped, other site, wrong secret    audit: one transaction
                               (n left), locked out, not arrived, already collected

Each read (from a scanner, the camera, or typed by the clerk) goes to ``present``; the
desk (kiosk.service.sessions.CounterDesks) keeps what it has read until the hand-over, a
cancel, or a few minutes without a read. A line typed at the desk's terminal goes to
``enter``, which decides what it is (a tag or phone code whatever the field, else the
label or the secret), so screens only show answers. Three kinds of read: a tag (digits only, kiosk.security.tags), the trade number on
the parcel's label (the second, 1-D code, or typed), and a recipient's code shown on a
phone (``S/`` + secret). Any new read voids a verification not yet confirmed, so a
confirmation always hands over the parcel that was just checked.

The label is required with a tag: comparing the tag with the label is what catches a
tag moved from another parcel (docs/tags.md, "Swaps"). Attempt limits are the pickup's
own (kiosk.service.pickup.record_failure): a wrong secret counts against the parcel and
the site; a forged or swapped tag counts against the site only (never against the
parcel, or a forger could lock out its rightful recipient) and raises a tamper event.

Every change of a desk is published with the desk's state after it (``counter_read``,
``counter_rejected`` with its ``reason`` and whether the tag was dropped, ``counter_ready``),
so every screen of the desk shows the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kiosk.domain import attempts as A
from kiosk.domain.parcels import ParcelState, check_state_for_handover, normalise_trade_number, valid_trade_number
from kiosk.errors import (CodeInvalid, CounterIncomplete, KioskError, LockedOut, NotCollectable, SeeStaff,
                          SlowDown, TagForged, TagMalformed, TagNotForThisSite, TagSwapped, TokenMismatch,
                          UnknownParcel)
from kiosk.security import tags
from kiosk.security.secrets import verify_secret
from kiosk.service import clerk, holding, verification
from kiosk.service.dto import CounterAnswer, CounterTicket
from kiosk.service.events import DeskState, EventKind
from kiosk.service.pickup import record_failure, recent_failures
from kiosk.service.sessions import Desk
from kiosk.service.site import Site
from kiosk.service.verification import OnlineVerifier

DEFAULT_DESK = "counter"
READY_TTL_S = 120.0    # a verification must be confirmed within this
SECRET_PREFIX = "S/"   # a recipient's code on a phone; '/' is in no trade number, and types
                       # the same on US and JIS keyboard layouts
COUNTER_METHODS = ("secret", "f1_tag", "f2_tag", "ic_card", "token", "biometric")
# ic_card: kiosk.service.card_counter; biometric: kiosk.service.finger_counter
TOKEN_SYMBOLOGY = "em4100"   # a token reader's read (drivers.tokens): the token's id, never a label
# A label read as it comes off a scanner or the clerk's keyboard: the trade number's own
# characters and blanks, nothing else (a GS1 code's group separators would otherwise
# vanish in normalisation and leave something that looks like a trade number).
_LABEL_TEXT = re.compile(r"^[0-9A-Za-z -]+$")
_TOKEN_ID = re.compile(r"^[0-9A-Fa-f]{10}$")
LOCKED = "too many wrong attempts: this parcel is locked (reset it only after checking the recipient's proof)"

# counter_rejected's ``reason`` for each refusal.
REASONS: tuple[tuple[type[KioskError], str], ...] = (
    (TagForged, "forged"), (TagNotForThisSite, "other_site"), (TokenMismatch, "token_mismatch"), (TagSwapped, "swapped"), (TagMalformed, "unreadable"),
    (CodeInvalid, "wrong_secret"), (LockedOut, "locked_out"), (SlowDown, "slow_down"),
    (CounterIncomplete, "incomplete"), (UnknownParcel, "unknown_parcel"), (NotCollectable, "not_collectable"),
    (SeeStaff, "see_staff"),
)


def reason_of(err: KioskError) -> str:
    for kind, reason in REASONS:
        if isinstance(err, kind):
            return reason
    return "unexpected"


def is_typed_scan(text: str) -> bool:
    """A line that is a scan whatever field it was typed into: a tag or a phone code."""
    return tags.looks_like_tag(text) or (text.startswith(SECRET_PREFIX) and len(text) > len(SECRET_PREFIX))


def _held(site: Site, desk: str) -> Desk:
    return site.desks.get(desk, site.now())


def snapshot(site: Site, held: Desk) -> DeskState:
    """What the desk holds, for screens: never the secret, never the ticket."""
    tag = held.tag
    mismatch = bool(tag and held.label and site.tag_keys
                    and not tags.matches_label(tag, held.label, site.tag_keys))
    parcel = site.db.parcel(held.label) if held.label else None
    needs: tuple[tuple[str, object], ...] = (("label", held.label), ("secret", held.secret))
    if parcel is not None and parcel.method == "token":   # its 125 kHz id, or the NFC token's signed tag
        needs += (("token", held.token if parcel.token_hash else held.tag),)
    missing = tuple(name for name, have in needs if not have)
    return DeskState(held.name, tag.method if tag else None, tag.trade_number if tag else None, held.label,
                     held.secret is not None, mismatch, missing,
                     held.ready.trade_number if held.ready else None,
                     card=parcel is not None and parcel.method == "ic_card", token=held.token is not None,
                     finger=parcel is not None and parcel.method == "biometric")


def desk_state(site: Site, desk: str = DEFAULT_DESK) -> DeskState:
    """The desk's current reads (stale ones dropped)."""
    return snapshot(site, _held(site, desk))


def cancel(site: Site, desk: str = DEFAULT_DESK) -> DeskState:
    """Forget everything the desk has read (the clerk's "next customer")."""
    site.desks.drop(desk)
    return desk_state(site, desk)


async def enter(site: Site, text: str, *, field: str, desk: str = DEFAULT_DESK,
                online: OnlineVerifier | None = None) -> CounterAnswer:
    """A line typed at the desk's terminal into ``field`` ("secret" or "label"): a tag or
    a phone code whatever the field; else the label's trade number, or the secret to check
    (empty: the phone code held). Raises what ``present`` and ``verify`` raise."""
    text = text.strip()
    if is_typed_scan(text) or (field == "label" and text):
        return await present(site, text.encode("utf-8"), desk=desk, source="typed")
    if field == "label":
        raise CounterIncomplete("type the trade number on the parcel's label", "label")
    ticket = await verify(site, text or None, desk=desk, online=online)
    return CounterAnswer(desk_state(site, desk), None, ticket)


async def present(site: Site, payload: bytes, *, desk: str = DEFAULT_DESK, source: str = "scan",
                  symbology: str = "") -> CounterAnswer:
    """One read at the counter: a tag, a label's trade number, a recipient's code, or (from
    a token reader, ``symbology`` em4100) the id of the token on the parcel (F4).
    ``source`` is "scan" or "typed" (kept as evidence for the label).

    Raises TagMalformed / TagUnsupportedVersion (unreadable or not ours: read again),
    TagForged, TagNotForThisSite, SeeStaff (tags are not set up at this site)."""
    held = _held(site, desk)
    held.ready = None   # whatever comes next, a verification not yet confirmed is void
    try:
        text = bytes(payload).strip().decode("utf-8")
    except (UnicodeDecodeError, TypeError, ValueError):
        unreadable = TagMalformed("not a code this counter reads; scan again")
        _rejected(site, held, unreadable, source, tag_dropped=False)
        raise unreadable from None
    if symbology == TOKEN_SYMBOLOGY:
        if not _TOKEN_ID.match(text):
            unreadable = TagMalformed("not a token this counter reads; hold it to the reader again")
            _rejected(site, held, unreadable, source, tag_dropped=False)
            raise unreadable
        held.token = text.upper()
        read = "token"
    elif tags.looks_like_tag(text):
        held.tag = None   # a refused tag must not leave the last one in its place
        try:
            held.tag = _read_tag(site, text, desk)
        except KioskError as err:
            _rejected(site, held, err, source, tag_dropped=True)
            raise
        read = "tag"
    elif text.startswith(SECRET_PREFIX) and len(text) > len(SECRET_PREFIX):
        held.secret = text[len(SECRET_PREFIX):]
        read = "secret"
    elif _LABEL_TEXT.match(text) and valid_trade_number(normalise_trade_number(text)):
        held.label, held.label_source = normalise_trade_number(text), source
        read = "label"
    else:
        unknown = TagMalformed("not a tag, a trade number or a recipient's code; scan again")
        _rejected(site, held, unknown, source, tag_dropped=False)
        raise unknown
    held.touched, held.reads = site.now(), held.reads + 1
    state = snapshot(site, held)
    site.bus.publish(EventKind.COUNTER_READ, site.now(), desk=desk, read=read, state=state)
    return CounterAnswer(state, read)


async def verify(site: Site, secret: str | None = None, *, trade_number: str | None = None,
                 desk: str = DEFAULT_DESK, online: OnlineVerifier | None = None) -> CounterTicket:
    """Check the recipient against what the desk has read. ``secret`` is what the recipient
    typed (None: the code they showed, if any); ``trade_number`` is the number they state,
    if they give one (F1: both are compared). ``online`` is the store's check, used for the
    methods ``[verification]`` sends online.

    Raises SlowDown, CounterIncomplete, TagSwapped, UnknownParcel, SeeStaff, LockedOut,
    NotCollectable, CodeInvalid."""
    held = _held(site, desk)
    held.ready = None
    try:
        return await _verify(site, held, secret, trade_number, online)
    except KioskError as err:
        _rejected(site, held, err, "typed", tag_dropped=False)
        raise


async def _verify(site: Site, held: Desk, secret: str | None, trade_number: str | None,
                  online: OnlineVerifier | None) -> CounterTicket:
    site.require_storage()
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
        _record_swap(site, held.name, trade, tag)
        raise TagSwapped("the tag on this parcel belongs to another parcel: do not hand it over")
    _check_at_counter(parcel)
    if trade_number is not None and normalise_trade_number(trade_number) != trade:
        parcel = record_failure(site, trade, known=True)
        _raise_wrong(parcel, policy, "the trade number given is not this parcel's")

    if parcel.method == "token" and (held.token if parcel.token_hash else tag) is None:
        raise CounterIncomplete("this parcel travels with a token: hold it to the token reader", "token")
    reads = held.reads
    local = verify_secret if tag is None else _tag_check(tag, _keys(site), trade)
    with site.gate.admit(recent_failures(site), site.now(), policy, trade):
        if parcel.method == "token" and parcel.token_hash:
            await _check_token(site, held, parcel)
        check = await verification.check_secret(site, parcel, secret, online, local=local)
        # The world may have moved while we checked (another desk, the expiry sweep): look again.
        parcel = site.db.require_parcel(trade)
        _check_at_counter(parcel)
        if not check.matches:   # charged before the check leaves the gate
            parcel = record_failure(site, trade, known=True)
            _raise_wrong(parcel, policy, "the secret does not match")
    ready = CounterTicket(site.new_id(), trade, parcel.method, check.how, site.now(),
                          amount_due=max(0, parcel.amount_due - parcel.amount_paid))
    with site.db.transaction(site.now()) as tx:
        tx.audit("recipient", "recipient_verified", trade, method=parcel.method, checked=check.how, desk=held.name)
    if site.desks.is_current(held) and held.reads == reads:   # a cancel or a read meanwhile voids it
        held.ready, held.touched = ready, site.now()
    site.bus.publish(EventKind.COUNTER_READY, site.now(), desk=held.name, trade_number=trade, method=parcel.method,
                     state=snapshot(site, held))
    return ready


def confirm(site: Site, clerk_id: str, ticket: str, *, desk: str = DEFAULT_DESK,
            cash_received: int | None = None) -> str:
    """The clerk hands the verified parcel over: collected, its receipt notice queued and
    the audit entry written, in one transaction. Returns the trade number. A parcel with
    money due (the ticket's ``amount_due``) needs ``cash_received``, what the clerk took
    in cash (minor units; the change is the difference): the payment is in the same
    transaction (kiosk.service.clerk.hand_over).

    Raises CounterIncomplete (nothing verified waiting, or it went stale), LockedOut,
    NotCollectable (PaymentDue: no cash typed, or too little), UnknownParcel."""
    site.require_storage()
    held = _held(site, desk)
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
                    method=ready.method, evidence=evidence, cash_received=cash_received)
    cancel(site, desk)
    return ready.trade_number


def receive(site: Site, clerk_id: str, trade_number: str) -> None:
    """A parcel for hand-over at the counter has come in from the courier: it is now
    arrived, with its notice to the store. Raises UnknownParcel, NotCollectable, SeeStaff."""
    site.require_storage()
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
    site.bus.publish(EventKind.PARCEL_ARRIVED, now, locker=None, trade_number=trade)


# --- the checks ------------------------------------------------------------------------------

def _keys(site: Site):
    if site.tag_keys is None:
        raise SeeStaff("parcel tags are not set up at this pickup point ([tags] in the config)")
    return site.tag_keys


def _tag_check(tag: tags.Tag, keys, trade: str) -> Callable[[str, str], bool]:
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
        raise
    except TagNotForThisSite:
        with site.db.transaction(site.now()) as tx:
            tx.audit("kioskd", "tag_rejected", None, reason="other_site", desk=desk)
        raise


def _record_swap(site: Site, desk: str, label: str, tag: tags.Tag) -> None:
    record_failure(site, "", known=False)
    with site.db.transaction(site.now()) as tx:
        tx.emit("tamper", label, what="tag_swapped", tag_trade_number=tag.trade_number, desk=desk, at=site.now())
        tx.audit("kioskd", "tag_rejected", label, reason="swapped", tag_trade_number=tag.trade_number, desk=desk)


def _rejected(site: Site, held: Desk, err: KioskError, source: str, *, tag_dropped: bool) -> None:
    """Tell every screen of the desk that a read or check was refused, and the desk after it."""
    site.bus.publish(EventKind.COUNTER_REJECTED, site.now(), desk=held.name, reason=reason_of(err), source=source,
                     state=snapshot(site, held), tag_dropped=tag_dropped)


async def _check_token(site: Site, held: Desk, parcel) -> None:
    """F4: the token read at the desk must be the one the store bound to this parcel (its id
    against the manifest's slow hash). Another token is the parcel's token swapped or a
    copy of another's: a tamper event and a failure for the site, never for the parcel (or
    anyone could lock out its recipient with any token). Raises TagSwapped."""
    token = held.token or ""
    if parcel.token_hash is None or not await site.off_loop(verify_secret, token, parcel.token_hash):
        record_failure(site, "", known=False)
        with site.db.transaction(site.now()) as tx:
            tx.emit("tamper", parcel.trade_number, what="token_mismatch", desk=held.name, at=site.now())
            tx.audit("kioskd", "token_rejected", parcel.trade_number, desk=held.name)
        held.token = None
        raise TokenMismatch("the token read is not this parcel's: do not hand it over")


def _check_method(method: str, tag: tags.Tag | None) -> None:
    if method == "ic_card":   # only the card checks its secret (kiosk.service.card_counter)
        raise SeeStaff("this parcel is verified by its IC card: put the card in the reader")
    if method == "biometric":   # a finger, not a secret (kiosk.service.finger_counter)
        raise SeeStaff("this parcel is verified by a fingerprint: check the recipient's finger")
    if method not in COUNTER_METHODS:
        raise SeeStaff(f"this parcel is verified by {method}, not at this counter")
    if method == "token":   # an NFC token holds an F1 tag (docs/tokens.md); a 125 kHz one only an id
        if tag is not None and tag.method != "f1_tag":
            raise SeeStaff(f"this token parcel carries a {tag.method} tag; please see staff")
        return
    if tag is None and method in ("f1_tag", "f2_tag"):
        raise CounterIncomplete("this parcel carries a tag: scan it", "tag")
    if tag is not None and tag.method != method:
        raise SeeStaff(f"this parcel is registered for {method}, but carries a {tag.method} tag; please see staff")


def labelled_parcel(site: Site, held: Desk, method: str, what: str):
    """The parcel of the label the desk has read, for a check by ``method`` (an IC card, a
    finger: ``what`` says which). The checks before any device is asked: storage, the
    site's slow-down, a label read, a parcel known (an unknown number is a site failure),
    of that method, to be handed over here. Raises OutOfService, SlowDown,
    CounterIncomplete, UnknownParcel, SeeStaff, NotCollectable, LockedOut."""
    site.require_storage()
    A.check_site(recent_failures(site), site.now(), site.config.attempts)
    if held.label is None:
        raise CounterIncomplete("scan the trade number on the parcel's label", "label")
    parcel = site.db.parcel(held.label)
    if parcel is None:
        record_failure(site, held.label, known=False)
        raise UnknownParcel("no parcel with that number is waiting here")
    if parcel.method != method:
        raise SeeStaff(f"this parcel is verified by {parcel.method}, not by {what}")
    _check_at_counter(parcel)
    return parcel


def _check_at_counter(parcel) -> None:
    check_state_for_handover(parcel, pay_here=True)   # the clerk takes the money: confirm checks it
    if parcel.locker is not None:
        raise NotCollectable(f"this parcel is in locker {parcel.locker}: it is collected there", "in_locker")


def _raise_wrong(parcel, policy: A.AttemptPolicy, message: str) -> None:
    if parcel.locked_out:
        raise LockedOut(LOCKED)
    raise CodeInvalid(message, A.attempts_left(parcel, policy))
