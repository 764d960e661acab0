"""The F3 hand-over on a parcel card, step by step as docs/cards.md lists it.

``ParcelCardSession`` holds one card for one hand-over: ``unlock(pin)`` (PIN status, then
VERIFY 82 once: never sent to a blocked card, never re-sent), ``trade_number()`` (DO 0103,
only readable after the PIN), ``sign_receipt(...)`` (VERIFY 81 with the same PIN entry,
counter 93, PSO:CDS over the receipt's digest, PUT DATA 0101, read back and compare).
Every card error propagates (CardRemoved, CardPinWrong, CardPinBlocked, CardStatusError,
CardNotSupported): the caller decides what the parcel and the screen do.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.cards.openpgp import PW1_OTHER, PW1_SIGN, CardInfo, OpenPGPCard, PublicKey, verify_signature
from kiosk.errors import CardNotSupported, CardStatusError
from kiosk.security.card_receipt import MAX_DO, CardReceipt, ReceiptError
from kiosk.security.card_receipt import parse as parse_receipt

ALGORITHMS = ("ed25519", "p256")


class ParcelCardSession:
    """One parcel card in one reader, for one hand-over."""

    def __init__(self, reader):
        self.card = OpenPGPCard(reader)
        self.info: CardInfo | None = None
        self._pin: bytes | None = None
        self._armed = False

    def open(self) -> CardInfo:
        """SELECT and check the card offers what the profile needs. Raises CardNotSupported."""
        info = self.card.select()
        if info.version[0] < 3:
            raise CardNotSupported(f"OpenPGP card {info.version[0]}.{info.version[1]}: the profile needs 3.x")
        if not info.private_dos:
            raise CardNotSupported("the card has no private-use DOs")
        if info.max_special_do and info.max_special_do < MAX_DO - 51:
            raise CardNotSupported(f"private-use DOs of {info.max_special_do} bytes are too small for a receipt")
        if info.algorithm not in ALGORITHMS:
            raise CardNotSupported(f"signature algorithm {info.algorithm} is not Ed25519 or P-256")
        self.info = info
        return info

    def card_id(self) -> str:
        """``openpgp-<manufacturer>-<serial>`` from the AID: unique per card, no holder data."""
        if self.info is None:
            raise ValueError("open the card first")
        return f"openpgp-{self.info.manufacturer:04X}-{self.info.serial}"

    def tries_left(self) -> int | None:
        """PIN tries left as the card says (None: verified already)."""
        return self.card.pin_tries(PW1_OTHER)

    def unlock(self, pin: str) -> None:
        """Present the PIN the recipient typed, once. Raises CardPinWrong, CardPinBlocked."""
        self.card.verify(PW1_OTHER, pin)
        self._pin = pin.encode()

    def arm(self) -> None:
        """Present the PIN for signing now (VERIFY 81) and forget it: for a hand-over that
        signs later (the counter signs when the clerk confirms). The card keeps the
        verification until it signs once, is reset, or leaves the reader."""
        if self._pin is None:
            raise ValueError("unlock the card with the recipient's PIN first")
        self.card.verify(PW1_SIGN, self._pin)
        self._pin, self._armed = None, True

    def trade_number(self) -> str:
        """The trade number on the card (after ``unlock``)."""
        raw = self.card.get_data(0x0103)
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise CardStatusError("the trade number on the card is not ASCII", 0x9000) from None

    def sign_receipt(self, make: Callable[[int], CardReceipt]) -> tuple[CardReceipt, bytes, int]:
        """Sign the receipt ``make(signature_number)`` builds and write it back to DO 0101,
        then read it back. Returns (receipt, signature, the card's counter afterwards).
        Raises CardStatusError (also when the read-back differs), CardRemoved, ValueError
        when ``unlock`` did not succeed first."""
        if self._pin is None and not self._armed:
            raise ValueError("unlock the card with the recipient's PIN first")
        number = self.card.signature_counter() + 1
        receipt = make(number)
        if not self._armed:
            self.card.verify(PW1_SIGN, self._pin or b"")
        self._armed = False
        signature = self.card.sign(receipt.digest())
        data = receipt.with_signature(signature)
        self.card.put_data(0x0101, data)
        if self.card.get_data(0x0101) != data:
            raise CardStatusError("the receipt read back from the card differs from what was written", 0x6581)
        counter = self.card.signature_counter()
        if counter != number:
            raise CardStatusError(f"signature counter {counter}, expected {number}", 0x6F00)
        return receipt, signature, counter

    def stored_receipt(self) -> tuple[CardReceipt, bytes] | None:
        """The receipt on the card (DO 0101, readable without a PIN) and its signature, or
        None when there is none. Raises CardStatusError when it is not a receipt."""
        data = self.card.get_data(0x0101)
        if not data:
            return None
        try:
            receipt, _, signature = parse_receipt(data)
        except ReceiptError as err:
            raise CardStatusError(f"DO 0101 does not hold a receipt: {err}", 0x9000) from None
        return receipt, signature

    def public_key(self) -> PublicKey:
        return self.card.public_key()


def receipt_verifies(public_key: PublicKey, receipt: CardReceipt, signature: bytes) -> bool:
    return verify_signature(public_key, receipt.digest(), signature)
