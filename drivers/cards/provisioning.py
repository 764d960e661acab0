"""Store side of the parcel-card profile (docs/cards.md): provision a card for a parcel,
and check a card that came back.

Runs at the store's provisioning station (or in the simulator), over any reader the
OpenPGP layer can use. The admin PIN (PW3) never reaches a kiosk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from drivers.cards.openpgp import PW1_OTHER, PW3, OpenPGPCard, PublicKey, verify_signature
from kiosk.security.card_receipt import CardReceipt, ReceiptError, parse


@dataclass(frozen=True)
class ReturnedCard:
    """What a returned card holds: its receipt if there is one, and whether it verifies."""

    serial: str
    receipt: CardReceipt | None
    signature_ok: bool
    signature_counter: int
    problem: str = ""


def provision(card: OpenPGPCard, *, trade_number: str, pin: str, admin_pin: str) -> PublicKey:
    """Make ``card`` the parcel card of ``trade_number`` with user PIN ``pin``: a new
    signing key (resets the signature counter), the PIN reset (and unblocked), PW1 valid
    for one signature per VERIFY, the trade number in 0103, the old receipt cleared.
    Returns the public key to register. Raises CardStatusError, CardPinWrong (admin PIN),
    CardNotSupported, CardRemoved."""
    card.select()
    card.verify(PW3, admin_pin)
    public = card.generate_key()
    card.reset_pin(pin)
    card.put_data(0xC4, b"\x00")
    card.verify(PW1_OTHER, pin)
    card.put_data(0x0103, trade_number.encode("ascii"))
    card.put_data(0x0101, b"")
    return public


def check_returned(card: OpenPGPCard, registered_key: PublicKey) -> ReturnedCard:
    """Read a returned card's receipt (DO 0101, readable without a PIN) and verify its
    signature with the key the store registered for this card. Raises CardRemoved,
    CardStatusError, CardNotSupported."""
    info = card.select()
    counter = card.signature_counter()
    data = card.get_data(0x0101)
    if not data:
        return ReturnedCard(info.serial, None, False, counter, "no receipt on the card")
    try:
        receipt, record, signature = parse(data)
    except ReceiptError as err:
        return ReturnedCard(info.serial, None, False, counter, f"unreadable receipt: {err}")
    ok = verify_signature(registered_key, hashlib.sha256(record).digest(), signature)
    problem = "" if ok else "the receipt's signature does not verify with the registered key"
    if ok and receipt.signature_number > counter:
        ok, problem = False, "the receipt claims a signature number the card never reached"
    return ReturnedCard(info.serial, receipt, ok, counter, problem)
