"""Pickup at a locker with an IC parcel card (F3; docs/cards.md).

The recipient gives the trade number, puts the parcel's card in the reader and types the
secret on the keypad. The checks, in order, each with its own answer for the screen:
site slow-down → parcel known, collectable, of method ``ic_card``, in a working locker →
through the attempt gate: the card checks the PIN itself (VERIFY 82; a wrong PIN is a
failed attempt here too, and the screen shows the smaller of the card's and the parcel's
tries left; a blocked card gets no PIN and sends the recipient to staff) → the trade
number on the card (readable only after the PIN) must be this parcel's (another
parcel's card is a failed attempt) → the card signs the receipt and it is written back
and read back → one transaction: the locker opening, the card-signature event for the
store (sent by the outbox pump to the card-signature endpoint) and the audit entry
(card serial and signature number, never the PIN) → pulse. The parcel becomes collected
only on door evidence (kiosk.service.doors), as for every pickup.

A card pulled out at any step changes nothing here (CardRemoved → "put the card back");
if it went after the receipt was written, the next try signs again with the next number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from kiosk.devices.roles import ParcelCard
from kiosk.domain import attempts as A
from kiosk.domain import lockers as L
from kiosk.errors import (CardNotSupported, CardPinBlocked, CardPinWrong, CardProblem, CardRemoved, CardStatusError,
                          CodeInvalid, LockedOut, NotCollectable)
from kiosk.domain.parcels import LOCKED_OUT_MESSAGE
from kiosk.security.card_receipt import CardReceipt
from kiosk.security.keys import b64url
from kiosk.service import unlock
from kiosk.service.dto import DoorOpening
from kiosk.service.events import EventKind
from kiosk.service.pickup import _check_collectable, check_trade_number, recent_failures, record_failure
from kiosk.service.site import Site

METHOD = "ic_card"
CARD_SIGNATURE_EVENT = "card_signature"   # outbox kind the pump sends to /card-signatures
PIN_REFUSED_UNCOUNTED = frozenset({0x6700, 0x6A80})   # VERIFY: wrong length / wrong data, no try used


async def submit_card(site: Site, card: ParcelCard, trade_number: str, pin: str) -> DoorOpening:
    """Check the parcel card in the reader for ``trade_number`` with the PIN typed; on
    success the locker door is unlocked.

    Raises OutOfService, SlowDown, UnknownParcel, LockedOut, NotCollectable, SeeStaff,
    CodeInvalid (wrong PIN or another parcel's card), CardProblem, DoorFault."""
    parcel = check_trade_number(site, trade_number)
    trade, policy = parcel.trade_number, site.config.attempts
    if parcel.method != METHOD:
        raise NotCollectable("this parcel is not collected with a card", "wrong_method")
    with site.gate.admit(recent_failures(site), site.now(), policy, trade), card_errors(site, trade):
        await check_card(site, card, trade, pin)
        # The world may have moved while the card worked (another screen, a door): look again.
        parcel = site.db.require_parcel(trade)
        _check_collectable(site, parcel)
        locker = site.db.require_locker(parcel.locker)
        op_id = site.new_id()
        now = site.now()

        def make(number: int) -> CardReceipt:
            return CardReceipt(trade, site.config.site_id, int(now), "locker", op_id, number)

        receipt, signature, counter = await asyncio.to_thread(card.sign_receipt, make)

    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_pickup(locker, op_id, site.now()))
        emit_signature(tx, trade, card.card_id(), receipt, signature)
        tx.audit("recipient", "unlock_commanded", trade, locker=locker.number, op_id=op_id, op="pickup",
                 verified="ic_card", source="card", card=card.card_id(), signature_number=counter)
    site.bus.publish(EventKind.PICKUP_STARTED, site.now(), locker=locker.number, trade_number=trade, source="card")
    await unlock.fire(site, locker.number)
    return DoorOpening("pickup", trade, locker.number, op_id)



async def check_card(site: Site, card: ParcelCard, trade: str, pin: str) -> None:
    """Open the card, present the PIN once, and compare its trade number with ``trade``.
    A wrong PIN, one that used the card's last try, and another parcel's card are failed
    attempts of the parcel (and the site). Raises CodeInvalid, LockedOut, and the card's
    errors (``card_errors`` turns them into CardProblem)."""
    policy = site.config.attempts
    await asyncio.to_thread(card.open)
    try:
        await asyncio.to_thread(card.unlock, pin)
    except CardPinBlocked as blocked:
        if blocked.sw != 0x6983:   # 63C0: this PIN was wrong and used the card's last try
            record_failure(site, trade, known=True)
        raise
    except CardPinWrong as wrong:
        parcel = record_failure(site, trade, known=True)
        if parcel.locked_out:
            raise LockedOut(LOCKED_OUT_MESSAGE) from None
        raise CodeInvalid("the card did not accept the PIN", min(wrong.tries_left, A.attempts_left(parcel, policy))) \
            from None
    except CardStatusError as refused:
        if refused.sw not in PIN_REFUSED_UNCOUNTED:
            raise
        # Too short or too long for the card: it refuses without counting a try. Here it is a
        # failed attempt all the same (or guessing by length would cost nothing).
        parcel = record_failure(site, trade, known=True)
        if parcel.locked_out:
            raise LockedOut(LOCKED_OUT_MESSAGE) from None
        raise CodeInvalid("the card refused a PIN of that length", A.attempts_left(parcel, policy)) from None
    on_card = await asyncio.to_thread(card.trade_number)
    if on_card != trade:
        parcel = record_failure(site, trade, known=True)
        with site.db.transaction(site.now()) as tx:
            tx.audit("recipient", "card_swapped", trade, card=card.card_id())
        if parcel.locked_out:
            raise LockedOut(LOCKED_OUT_MESSAGE)
        raise CodeInvalid("this card belongs to another parcel", A.attempts_left(parcel, policy))


@contextmanager
def card_errors(site: Site, trade: str) -> Iterator[None]:
    """The card's own errors as what a screen can say (CardProblem with a reason)."""
    try:
        yield
    except CardPinBlocked:
        with site.db.transaction(site.now()) as tx:
            tx.audit("recipient", "card_blocked", trade)
        raise CardProblem("this card is blocked after too many wrong PINs; please see staff", "blocked") from None
    except CardRemoved:
        raise CardProblem("the card was taken out; put it back in and try again", "removed") from None
    except CardNotSupported:
        raise CardProblem("this is not a parcel card; please see staff", "unsupported") from None
    except CardStatusError as err:
        raise CardProblem(f"the card reported an error ({err.sw:04X}); please see staff", "failed") from None


def emit_signature(tx, trade: str, card_id: str, receipt: CardReceipt, signature: bytes) -> None:
    """Queue the card's receipt signature for the store (the pump posts it to /card-signatures)."""
    tx.emit(CARD_SIGNATURE_EVENT, trade, card_id=card_id, signature=b64url(signature),
            signed_data=b64url(receipt.record()))
