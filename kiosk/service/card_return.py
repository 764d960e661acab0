"""The counter collects used IC parcel cards for return to the store (F3).

After a card pickup the card stays at the pickup point (the locker's slot, or the clerk's
tray). At the end of the day the clerk puts each one in the counter's reader: the card's
id and the receipt it holds (readable without a PIN) are recorded in one transaction, an
outbox event ``card_collected`` for the store (which expects the card back and checks the
receipt against the key it registered) and an audit entry under the clerk's id. The card
is not changed: only the store resets it.
"""

from __future__ import annotations

import asyncio

from kiosk.devices.roles import ParcelCard
from kiosk.errors import CardNotSupported, CardRemoved, CardStatusError, SeeStaff
from kiosk.service.dto import CollectedCard


async def collect(site, card: ParcelCard, clerk_id: str) -> CollectedCard:
    """Record the card in the reader as collected for return. Raises OutOfService,
    SeeStaff (no card, not a parcel card, an unreadable receipt)."""
    site.require_storage()
    try:
        await asyncio.to_thread(card.open)
        stored = await asyncio.to_thread(card.stored_receipt)
    except CardRemoved:
        raise SeeStaff("put the card in the reader") from None
    except (CardNotSupported, CardStatusError) as err:
        raise SeeStaff(f"this card cannot be read as a parcel card ({err}); set it aside for the store") from None
    card_id = card.card_id()
    receipt = stored[0] if stored else None
    result = CollectedCard(card_id, receipt.trade_number if receipt else None,
                           receipt.signature_number if receipt else None)
    with site.db.transaction(site.now()) as tx:
        tx.emit("card_collected", result.trade_number, card_id=card_id, signature_number=result.signature_number,
                at=site.now())
        tx.audit(f"clerk:{clerk_id}", "card_collected", result.trade_number, card=card_id,
                 signature_number=result.signature_number)
    return result
