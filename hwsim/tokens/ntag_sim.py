"""An NTAG215 in the field of a PC/SC contactless reader, on a vpcd slot of the private pcscd.

``NtagSim`` is the tag as the reader presents it: the contactless ATR of PC/SC part 3 (an
NFC Forum Type 2 tag, "Mifare Ultralight" class), and the reader's pseudo-APDUs answered
from a 540-byte memory image (135 pages): ``FF CA`` the UID, ``FF B0`` 16 bytes from a
page, ``FF D6`` one page written (pages 0-2 and the CC are not writable by a token writer).
``token_image(uid, text)`` is what the store's station writes: the CC and one NDEF Text
record holding the store-signed tag text.

Faults: ``corrupt(at)`` flips a byte of the NDEF message; ``wrong_type()`` makes it a tag
without NDEF (CC cleared); a tag taken away mid-read is the slot's
``slot.pull_on(lambda cmd: cmd.ins == 0xB0 and cmd.p2 > 4)``.

``nfc_sim`` builds ``sim+pcsc-nfc://``: the real token reader (drivers.tokens.nfc) and
the real PC/SC driver on a vpcd slot; ``reader.sim`` is a ``NfcFieldSim`` (``present(tag)``,
``take_away()``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from drivers.cards.pcsc import CardReaderPcsc
from drivers.tokens import ntag
from drivers.tokens.nfc import NfcTokenReader
from hwsim.cards.sim import CardSlotSim
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError

PAGES = 135                      # NTAG215
DATA_BYTES = 504                 # pages 4..129
# PC/SC part 3 ATR for a contactless storage card: RID A0 00 00 03 06, standard 03
# (ISO 14443-A part 3), card name 00 03 (Mifare Ultralight / NTAG), then the checksum.
ATR = bytes.fromhex("3B8F8001804F0CA0000003060300030000000068")
SW_OK, SW_WRONG_P1P2, SW_WRONG_LENGTH, SW_NOT_SUPPORTED = b"\x90\x00", b"\x6A\x82", b"\x67\x00", b"\x6A\x81"


@dataclass
class _State:
    serial: bytes


def token_image(uid: bytes, text: str) -> bytearray:
    """The memory of a parcel token: UID pages, CC, the NDEF TLV with ``text``, zeros."""
    if len(uid) != 7:
        raise ValueError("an NTAG UID is 7 bytes")
    memory = bytearray(PAGES * ntag.PAGE)
    memory[0:3], memory[4:8] = uid[:3], uid[3:7]
    memory[12:16] = bytes([ntag.CC_MAGIC, 0x10, DATA_BYTES // 8, 0x00])
    body = ntag.tlv(ntag.text_message(text))
    if len(body) > DATA_BYTES:
        raise ValueError("the text does not fit an NTAG215")
    memory[16:16 + len(body)] = body
    return memory


class NtagSim:
    """One tag; duck-types the card a VirtualCardSlot serves."""

    def __init__(self, memory: bytearray | None = None, *, uid: bytes | None = None):
        self.uid = uid or bytes([0x04]) + os.urandom(6)
        self.memory = memory if memory is not None else token_image(self.uid, "")
        self.state = _State(self.uid)
        self.reads = 0

    @property
    def atr(self) -> bytes:
        return ATR

    def power_on(self) -> None:
        pass

    def corrupt(self, at: int = 4) -> None:
        self.memory[16 + at] ^= 0x5A

    def wrong_type(self) -> None:
        self.memory[12:16] = bytes(4)

    def process(self, raw: bytes) -> bytes:
        if len(raw) < 5 or raw[0] != 0xFF:
            return SW_NOT_SUPPORTED
        ins, p1, p2, lc = raw[1], raw[2], raw[3], raw[4]
        if ins == 0xCA and p1 == 0:
            return self.uid + SW_OK
        if ins == 0xB0:
            start = p2 * ntag.PAGE
            if start + lc > len(self.memory):
                return SW_WRONG_P1P2
            self.reads += 1
            return bytes(self.memory[start:start + lc]) + SW_OK
        if ins == 0xD6:
            data = raw[5:5 + lc]
            if lc != ntag.PAGE or len(data) != lc:
                return SW_WRONG_LENGTH
            if p2 < ntag.DATA_PAGE or p2 >= PAGES:
                return SW_WRONG_P1P2
            self.memory[p2 * ntag.PAGE:(p2 + 1) * ntag.PAGE] = data
            return SW_OK
        return SW_NOT_SUPPORTED


class NfcFieldSim:
    """The reader's field: a tag is presented (inserted in the vpcd slot) or taken away."""

    def __init__(self, slot: CardSlotSim):
        self.slot = slot

    @property
    def reader_name(self) -> str:
        return self.slot.reader_name

    def present(self, tag: NtagSim) -> None:
        """``tag`` into the field (the last one taken away first); returns once pcscd sees it."""
        self.take_away()
        self.slot.insert(tag)   # type: ignore[arg-type]  # a tag, not an OpenPGP card: same slot protocol

    def take_away(self) -> None:
        """The tag out of the field; returns once pcscd has seen it go (every tag has the
        same ATR, so the next one must not meet this one's stale presence)."""
        self.slot.remove()
        self.slot.wait_empty()   # also after a pull mid-read: pcscd may not have seen it yet

    def stop(self) -> None:
        self.take_away()
        self.slot.stop()


class EmulatedNfcTokenReader(NfcTokenReader):
    def __init__(self, field: NfcFieldSim, url: str):
        super().__init__(CardReaderPcsc(field.reader_name, url=url), url=url)
        self.sim = field

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.sim.stop()


def nfc_sim(url: DeviceURL, **context) -> EmulatedNfcTokenReader:
    """The ``sim+pcsc-nfc://`` device (not opened). Raises DeviceURLError, DeviceUnavailable."""
    _check(url)
    url.reject_unknown()
    field = NfcFieldSim(CardSlotSim.take(context.get("history")))
    try:
        return EmulatedNfcTokenReader(field, url.raw)
    except BaseException:
        field.stop()
        raise


def _check(url: DeviceURL) -> None:
    if url.host or url.path not in ("", "/"):
        raise DeviceURLError(f"{url.raw!r}: sim+pcsc-nfc takes no host or path")


nfc_sim.check_url = _check   # type: ignore[attr-defined]
