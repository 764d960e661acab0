"""The OpenPGP card's data objects that are built on demand from its state and its options
(the AID, historical bytes, PW status, security template, extended capabilities and length, the
application related data), mixed into the virtual card (hwsim.cards.openpgp_card)."""

from __future__ import annotations

from drivers.cards import tlv
from hwsim.cards.openpgp_state import (ALGORITHMS, MANUFACTURER, MAX_CMD, MAX_RESP, PW_MAX, RID_OPENPGP, VERSION,
                                       _State)


class DataObjects:
    """Mixed into OpenPGPCardSim, which owns what is named here."""

    state: _State
    chaining: bool
    extended_length: bool
    special_do_max: int

    @property
    def aid(self) -> bytes:
        return RID_OPENPGP + VERSION + MANUFACTURER + self.state.serial + b"\x00\x00"

    def _historical(self) -> bytes:
        # category 00; card capabilities (73): b8 chaining, b7 extended Lc/Le, b6 7F66 present;
        # status indicator: life cycle 05 (operational), 9000
        caps = (0x80 if self.chaining else 0) | (0x60 if self.extended_length else 0)
        return bytes((0x00, 0x73, 0x00, 0x00, caps, 0x05, 0x90, 0x00))

    def _pw_status(self) -> bytes:
        t = self.state.tries
        return bytes((int(self.state.pw1_several), PW_MAX, PW_MAX, PW_MAX, t[0x81], 0, t[0x83]))

    def _security_template(self) -> bytes:
        return tlv.encode(0x93, self.state.signatures.to_bytes(3, "big"))

    def _ext_capabilities(self) -> bytes:
        # b7 GET CHALLENGE no, b6 key import no, b5 PW status changeable, b4 private-use DOs
        return bytes((0x18, 0x00, 0x00, 0x00, 0x00, 0x00)) + self.special_do_max.to_bytes(2, "big") + b"\x00\x00"

    def _ext_length(self) -> bytes:
        return b"\x02\x02" + MAX_CMD.to_bytes(2, "big") + b"\x02\x02" + MAX_RESP.to_bytes(2, "big")

    def _application_data(self) -> bytes:
        discretionary = (tlv.encode(0xC0, self._ext_capabilities())
                         + tlv.encode(0xC1, ALGORITHMS[self.state.algorithm])
                         + tlv.encode(0xC4, self._pw_status())
                         + tlv.encode(0xC5, self.state.dos.get(0xC7, bytes(20)) + bytes(40))
                         + tlv.encode(0xCD, self.state.dos.get(0xCE, bytes(4)) + bytes(8)))
        parts = tlv.encode(0x4F, self.aid) + tlv.encode(0x5F52, self._historical())
        if self.extended_length:
            parts += tlv.encode(0x7F66, self._ext_length())
        return parts + tlv.encode(0x73, discretionary)
