"""NFC Forum Type 2 tags (NTAG213/215/216): the memory layout, the NDEF TLV, the text.

Memory is 4-byte pages. Pages 0-2 hold the 7-byte UID and lock bytes; page 3 is the
Capability Container ``E1 10 <size/8> <access>`` (``E1``: NDEF data present, ``10``: mapping
version 1.0; the data area is ``size`` bytes from page 4). The data area is a list of TLVs:
``00`` (NULL, skipped), ``03 <len> <NDEF message>`` (``len`` one byte, or ``FF`` and two
bytes big-endian), ``FE`` (terminator). A parcel token holds one NDEF message with one
Text record: the store-signed tag text of docs/tags.md (digits), so the token is checked
exactly as a printed F1 tag is and cannot be edited or forged.

NDEF records are decoded by ``ndeflib`` (the nfcpy project's NDEF library), strictly.
Everything here raises NtagError for anything that is not a well-formed parcel token.
"""

from __future__ import annotations

import ndef

PAGE = 4
CC_PAGE = 3
DATA_PAGE = 4
CC_MAGIC = 0xE1
TLV_NULL, TLV_NDEF, TLV_TERMINATOR = 0x00, 0x03, 0xFE
MAX_DATA = 2048            # NTAG216: 872 bytes; anything claiming more is not a Type 2 tag
MAX_TEXT = 1024            # the longest tag text (kiosk.security.tags.MAX_PAYLOAD)


class NtagError(ValueError):
    """Not a well-formed parcel token. ``reason``: wrong_type (not an NDEF Type 2 tag) or
    malformed (a broken TLV or NDEF message, no text record)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def data_size(cc: bytes) -> int:
    """The data area's size from the Capability Container (page 3). Raises NtagError."""
    if len(cc) < 4 or cc[0] != CC_MAGIC or cc[1] >> 4 != 1:
        raise NtagError(f"not an NDEF Type 2 tag (capability container {cc[:4].hex()})", "wrong_type")
    size = cc[2] * 8
    if not 0 < size <= MAX_DATA:
        raise NtagError(f"a data area of {size} bytes is not a Type 2 tag's", "wrong_type")
    return size


def ndef_span(area: bytes) -> tuple[int, int] | None:
    """Where the NDEF message is in the data area read so far: (offset, length), or None when
    more bytes are needed to tell. Raises NtagError (no NDEF TLV, a length past the area)."""
    i = 0
    while i < len(area):
        t = area[i]
        if t == TLV_NULL:
            i += 1
            continue
        if t == TLV_TERMINATOR:
            raise NtagError("the tag holds no NDEF message", "malformed")
        if i + 1 >= len(area):
            return None
        length, head = area[i + 1], 2
        if length == 0xFF:
            if i + 3 >= len(area):
                return None
            length, head = int.from_bytes(area[i + 2:i + 4], "big"), 4
        if t == TLV_NDEF:
            return i + head, length
        i += head + length      # another TLV (lock or memory control): skip it
    return None


def text_of(message: bytes) -> str:
    """The text of the NDEF message's Text record. Raises NtagError."""
    try:
        records = list(ndef.message_decoder(message, errors="strict"))
    except (ndef.DecodeError, ValueError, UnicodeDecodeError) as err:
        raise NtagError(f"the NDEF message is broken: {err}", "malformed") from None
    texts = [r for r in records if isinstance(r, ndef.TextRecord)]
    if len(texts) != 1:
        raise NtagError(f"a parcel token holds one text record, not {len(texts)}", "malformed")
    text = texts[0].text
    if not 0 < len(text) <= MAX_TEXT:
        raise NtagError("the token's text is empty or too long", "malformed")
    return text


def text_message(text: str) -> bytes:
    """The NDEF message a store writes for ``text`` (one Text record, language en)."""
    return b"".join(ndef.message_encoder([ndef.TextRecord(text, "en")]))


def tlv(message: bytes) -> bytes:
    """``message`` as an NDEF TLV with its terminator."""
    n = len(message)
    head = bytes([TLV_NDEF, n]) if n < 0xFF else bytes([TLV_NDEF, 0xFF]) + n.to_bytes(2, "big")
    return head + message + bytes([TLV_TERMINATOR])
