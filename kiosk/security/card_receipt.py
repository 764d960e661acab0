"""The receipt an IC parcel card signs and keeps (F3; docs/cards.md is the specification).

The controller builds the record, the card signs its SHA-256 with its own key (PSO:CDS,
after the recipient's PIN) and the record and signature are written back to the card's
DO ``0101``; the store verifies the signature with the public key it registered when it
provisioned the card. Layout of DO ``0101`` (BER-TLV)::

    E0 len                         the record (what is signed)
       80 01 version (1)
       81 n  trade number          ASCII, 4-40
       82 n  site id               ASCII, 1-32
       83 04 handed over at        Unix seconds, UTC
       84 01 place                 01 counter, 02 locker
       85 n  hand-over id          ASCII, 1-40 (the controller's id for this hand-over)
       86 03 signature number      the card's signature counter (93) for this signature
    9E 40 signature                Ed25519 R||S or ECDSA P-256 r||s over SHA-256(E0 ...)

At most 255 bytes in all (the private-use DO size every card with private DOs offers).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

VERSION = 1
PLACES = {"counter": 1, "locker": 2}
MAX_DO = 255
_ASCII = re.compile(r"^[\x21-\x7e]+$")


class ReceiptError(ValueError):
    """Not a receipt this version knows, or a field out of bounds."""


@dataclass(frozen=True)
class CardReceipt:
    trade_number: str
    site_id: str
    handed_over_at: int
    place: str
    handover_id: str
    signature_number: int

    def record(self) -> bytes:
        """The signed bytes (the ``E0`` object). Raises ReceiptError for a bad field."""
        for name, value, hi in (("trade_number", self.trade_number, 40), ("site_id", self.site_id, 32),
                                ("handover_id", self.handover_id, 40)):
            if not (1 <= len(value) <= hi and _ASCII.match(value)):
                raise ReceiptError(f"{name} must be 1-{hi} printable ASCII characters")
        if self.place not in PLACES:
            raise ReceiptError(f"place {self.place!r} is not one of {', '.join(PLACES)}")
        if not 0 <= self.handed_over_at < 2**32 or not 0 < self.signature_number < 2**24:
            raise ReceiptError("time or signature number out of range")
        body = (_tlv(0x80, bytes((VERSION,))) + _tlv(0x81, self.trade_number.encode())
                + _tlv(0x82, self.site_id.encode()) + _tlv(0x83, self.handed_over_at.to_bytes(4, "big"))
                + _tlv(0x84, bytes((PLACES[self.place],))) + _tlv(0x85, self.handover_id.encode())
                + _tlv(0x86, self.signature_number.to_bytes(3, "big")))
        return _tlv(0xE0, body)

    def digest(self) -> bytes:
        """What the card signs: SHA-256 of the record."""
        return hashlib.sha256(self.record()).digest()

    def with_signature(self, signature: bytes) -> bytes:
        """The bytes for DO 0101. Raises ReceiptError when they would not fit."""
        data = self.record() + _tlv(0x9E, signature)
        if len(signature) != 64 or len(data) > MAX_DO:
            raise ReceiptError(f"receipt of {len(data)} bytes (signature {len(signature)}) does not fit DO 0101")
        return data


def parse(data: bytes) -> tuple[CardReceipt, bytes, bytes]:
    """Read DO 0101: (receipt, the signed record bytes, signature). Raises ReceiptError."""
    record, body, rest = _take(data, 0xE0)
    _, signature, rest = _take(rest, 0x9E)
    if rest.strip(b"\x00\xff"):
        raise ReceiptError("bytes after the signature")
    fields: dict[int, bytes] = {}
    while body:
        tag, n = body[0], body[1] if len(body) > 1 else 0
        if len(body) < 2 or n >= 0x80 or len(body) < 2 + n or tag in fields:
            raise ReceiptError("malformed record")
        fields[tag], body = body[2:2 + n], body[2 + n:]
    try:
        if fields[0x80] != bytes((VERSION,)):
            raise ReceiptError(f"receipt version {fields[0x80].hex()} is not {VERSION}")
        place = {v: k for k, v in PLACES.items()}[fields[0x84][0]]
        receipt = CardReceipt(fields[0x81].decode("ascii"), fields[0x82].decode("ascii"),
                              int.from_bytes(fields[0x83], "big"), place, fields[0x85].decode("ascii"),
                              int.from_bytes(fields[0x86], "big"))
    except (KeyError, IndexError, UnicodeDecodeError) as err:
        raise ReceiptError(f"malformed record: {err!r}") from None
    if receipt.record() != record:
        raise ReceiptError("record is not in canonical form")
    return receipt, record, signature


def _tlv(tag: int, value: bytes) -> bytes:
    if len(value) > 255:
        raise ReceiptError("field too long")
    length = bytes((len(value),)) if len(value) < 0x80 else bytes((0x81, len(value)))
    return bytes((tag,)) + length + value


def _take(data: bytes, tag: int) -> tuple[bytes, bytes, bytes]:
    """(whole object, its value, what follows)."""
    if len(data) < 2 or data[0] != tag:
        raise ReceiptError(f"expected a {tag:02X} object")
    head, n = (3, data[2]) if data[1] == 0x81 and len(data) > 2 else (2, data[1])
    if n >= 0x80 and head == 2 or len(data) < head + n:
        raise ReceiptError(f"{tag:02X} object: bad length")
    return data[:head + n], data[head:head + n], data[head + n:]
