"""F3 at the counter: the clerk puts the parcel's card in the desk's reader, the recipient
types the secret on the PIN pad, the clerk confirms, the card signs.

    present(label) ─► verify_card(pin) ─► ticket ─► confirm_card(clerk, ticket) ─► the card signs
                        the card checks the PIN,       (the card still in the reader)   the receipt, it is
                        its trade number = the label's                                  written back and read
                                                                                        back, then collected

The label's trade number (scanned or typed, kiosk.service.counter.present) is what the
card's trade number must match: a card from another parcel is a failed attempt. Verifying
also presents the PIN for one signature (VERIFY 81) and forgets it, so nothing secret waits
for the clerk; the card keeps that verification until it signs, is reset or is pulled. The
clerk's confirmation makes the signature (what was handed over, where, when), writes it to
the card, queues it for the store, and hands the parcel over (kiosk.service.counter.confirm:
collected, receipt notice and audit in one transaction). A card pulled before that means
verifying again; nothing is handed over without a receipt on the card.
"""

from __future__ import annotations

import asyncio

from kiosk.devices.roles import ParcelCard
from kiosk.errors import CounterIncomplete, KioskError
from kiosk.security.card_receipt import CardReceipt
from kiosk.service import clerk, counter
from kiosk.service.card_pickup import METHOD, card_errors, check_card, emit_signature
from kiosk.service.dto import CounterTicket
from kiosk.service.events import EventKind
from kiosk.service.pickup import recent_failures
from kiosk.service.site import Site


async def verify_card(site: Site, card: ParcelCard, pin: str, *, desk: str = counter.DEFAULT_DESK) -> CounterTicket:
    """Check the card in the desk's reader against the label the desk has read. Returns the
    ticket the clerk confirms. Raises SlowDown, CounterIncomplete (no label), UnknownParcel,
    SeeStaff (not a card parcel), NotCollectable, LockedOut, CodeInvalid, CardProblem."""
    held = counter._held(site, desk)
    held.ready = None
    try:
        trade = counter.labelled_parcel(site, held, METHOD, "a card").trade_number
        reads = held.reads
        with site.gate.admit(recent_failures(site), site.now(), site.config.attempts, trade), \
                card_errors(site, trade):
            await check_card(site, card, trade, pin)
            await asyncio.to_thread(card.arm)
        parcel = site.db.require_parcel(trade)
        counter._check_at_counter(parcel)
    except KioskError as err:
        counter._rejected(site, held, err, "card", tag_dropped=False)
        raise
    ready = CounterTicket(site.new_id(), trade, METHOD, "card", site.now())
    with site.db.transaction(site.now()) as tx:
        tx.audit("recipient", "recipient_verified", trade, method=METHOD, checked="card", card=card.card_id(),
                 desk=held.name)
    if site.desks.is_current(held) and held.reads == reads:   # a cancel or a read meanwhile voids it
        held.ready, held.touched = ready, site.now()
    site.bus.publish(EventKind.COUNTER_READY, site.now(), desk=held.name, trade_number=trade, method=METHOD,
                     state=counter.snapshot(site, held))
    return ready


async def confirm_card(site: Site, clerk_id: str, ticket: str, card: ParcelCard, *,
                       desk: str = counter.DEFAULT_DESK, cash_received: int | None = None) -> str:
    """The clerk hands over the parcel the card was verified for: the card signs the
    receipt and keeps it, the signature is queued for the store, the parcel is collected.
    Returns the trade number. Raises CounterIncomplete, CardProblem, and what
    ``counter.confirm`` raises."""
    site.require_storage()
    held = counter._held(site, desk)
    ready = held.ready
    if ready is None or ready.ticket != ticket or site.now() - ready.at > counter.READY_TTL_S:
        raise CounterIncomplete("nothing verified is waiting to be handed over here; verify again", "verification")
    trade, now = ready.trade_number, site.now()
    clerk.check_cash(site.db.require_parcel(trade), cash_received)   # before the card signs anything

    def make(number: int) -> CardReceipt:
        return CardReceipt(trade, site.config.site_id, int(now), "counter", ticket, number)

    with card_errors(site, trade):
        receipt, signature, number = await asyncio.to_thread(card.sign_receipt, make)
    with site.db.transaction(site.now()) as tx:
        emit_signature(tx, trade, card.card_id(), receipt, signature)
        tx.audit("kioskd", "card_signed", trade, card=card.card_id(), signature_number=number, desk=desk)
    return counter.confirm(site, clerk_id, ticket, desk=desk, cash_received=cash_received)
