"""AIM symbology identifiers (ISO/IEC 15424): ``]`` + code character + modifier.

Serial scanners put one in front of the data when told to (``]Q1`` QR, ``]d2`` Data Matrix
with FNC1, ``]C0`` Code 128, ``]E0`` EAN-13, ...); zxing-cpp reports the same identifier
as ``Barcode.symbology_identifier``. So the serial and the camera path share this one
normaliser, and a ``Scan`` says ``"qr"`` however the code was read.
"""

from __future__ import annotations

import re

# code character -> symbology name used in Scan.symbology
CODE_CHARACTERS = {
    "A": "code39", "C": "code128", "d": "datamatrix", "E": "ean", "e": "databar", "F": "codabar",
    "G": "code93", "H": "code11", "I": "itf", "K": "code16k", "L": "pdf417", "M": "msi",
    "P": "plessey", "Q": "qr", "R": "2of5", "S": "2of5", "U": "maxicode", "X": "other", "z": "aztec",
}
# EAN/UPC modifiers: 0 = EAN-13 or UPC-A (UPC-A is sent as 13 digits), 4 = EAN-8,
# 1/2/3 = a 2- or 5-digit add-on (alone, or after the main symbol)
_EAN = {"0": "ean13", "1": "ean-addon", "2": "ean-addon", "3": "ean13", "4": "ean8"}

_PATTERN = re.compile(rb"\](?P<code>[A-Za-z])(?P<mod>[0-9A-Za-z])")

IDENTIFIER_LENGTH = 3


def symbology_of(identifier: str) -> str | None:
    """``"]Q1"`` -> ``"qr"``; None if it is not an AIM identifier this module knows."""
    if len(identifier) != IDENTIFIER_LENGTH or identifier[0] != "]":
        return None
    code, mod = identifier[1], identifier[2]
    if not mod.isalnum() or not mod.isascii():
        return None
    if code == "E":
        return _EAN.get(mod)
    return CODE_CHARACTERS.get(code)


def split(frame: bytes) -> tuple[str, str, bytes] | None:
    """``b"]Q1data"`` -> (``"]Q1"``, ``"qr"``, ``b"data"``); None if the frame does not
    start with a known identifier."""
    match = _PATTERN.match(frame)
    if match is None:
        return None
    identifier = match.group(0).decode("ascii")
    name = symbology_of(identifier)
    if name is None:
        return None
    return identifier, name, frame[IDENTIFIER_LENGTH:]


def identifier_for(symbology: str) -> str:
    """The usual identifier a scanner sends for ``symbology`` (for emulators and tests).
    Raises KeyError for a name this module does not know."""
    usual = {"qr": "]Q1", "datamatrix": "]d1", "code128": "]C0", "ean13": "]E0", "ean8": "]E4",
             "code39": "]A0", "itf": "]I0", "pdf417": "]L0", "aztec": "]z0", "databar": "]e0",
             "codabar": "]F0", "code93": "]G0"}
    return usual[symbology]
