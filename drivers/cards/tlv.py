"""BER-TLV as smart cards use it (ISO 7816-4 5.2): tags of 1-3 bytes, lengths 1-3 bytes.

The OpenPGP card's constructed DOs (``6E``, ``73``, ``7A``, ``7F49``) are nested BER-TLV.
"""

from __future__ import annotations

from drivers.cards.apdu import APDUError


def _tag(buf: bytes, i: int) -> tuple[int, int, bool]:
    first = buf[i]
    tag, i = first, i + 1
    if first & 0x1F == 0x1F:                      # more tag bytes follow
        while True:
            if i >= len(buf):
                raise APDUError("TLV: tag runs past the end")
            tag = (tag << 8) | buf[i]
            i += 1
            if not buf[i - 1] & 0x80:
                break
    return tag, i, bool(first & 0x20)


def _length(buf: bytes, i: int) -> tuple[int, int]:
    if i >= len(buf):
        raise APDUError("TLV: length missing")
    first = buf[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n not in (1, 2, 3) or i + 1 + n > len(buf):
        raise APDUError(f"TLV: bad length field {first:02X}")
    return int.from_bytes(buf[i + 1:i + 1 + n], "big"), i + 1 + n


def parse(buf: bytes) -> list[tuple[int, bytes, bool]]:
    """Top-level (tag, value, constructed) triples. Raises APDUError when lengths overrun.
    ``00``/``FF`` padding between objects is skipped (ISO 7816-4 allows it)."""
    out, i = [], 0
    while i < len(buf):
        if buf[i] in (0x00, 0xFF):
            i += 1
            continue
        tag, i, constructed = _tag(buf, i)
        n, i = _length(buf, i)
        if i + n > len(buf):
            raise APDUError(f"TLV: tag {tag:X} says {n} bytes, {len(buf) - i} left")
        out.append((tag, bytes(buf[i:i + n]), constructed))
        i += n
    return out


def find(buf: bytes, tag: int) -> bytes | None:
    """The value of the first ``tag`` found anywhere in ``buf`` (depth first), or None."""
    for t, value, constructed in parse(buf):
        if t == tag:
            return value
        if constructed:
            inner = find(value, tag)
            if inner is not None:
                return inner
    return None


def encode(tag: int, value: bytes) -> bytes:
    """One TLV with a definite length."""
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes((n,))
    elif n <= 0xFF:
        length = b"\x81" + bytes((n,))
    elif n <= 0xFFFF:
        length = b"\x82" + n.to_bytes(2, "big")
    else:
        raise APDUError(f"TLV: {n} bytes is too long")
    return tag_bytes + length + bytes(value)
