"""A virtual OpenPGP card, application version 3.4: the subset docs/cards.md names.

Pure APDU in, APDU out (``process``); ``hwsim.cards.vpcd`` puts it behind pcscd. What
it implements, as a real card does: SELECT by AID, VERIFY 81/82/83 (retry counters,
63Cx, 6983 when blocked, the empty VERIFY status query, P1=FF to forget), CHANGE
REFERENCE DATA, RESET RETRY COUNTER (with PW3), GET DATA (4F, 5F52, 6E, 7A, C4, 7F66,
5E, 0101-0104), PUT DATA (0101-0104, 5E, C4, C7, CE), GENERATE ASYMMETRIC KEY PAIR
(47 80 generate with PW3, 47 81 read), PSO:COMPUTE DIGITAL SIGNATURE (Ed25519 or ECDSA
P-256, signature counter 93), TERMINATE DF / ACTIVATE FILE, GET RESPONSE, command
chaining (CLA 10) and extended length.

``protocol="T=0"`` makes it answer as a T=0 card does: a command whose answer has data
gets ``61xx`` and the data only through GET RESPONSE; a case-2 command with the wrong Le
gets ``6Cxx``. With T=1 an answer longer than Le is chained with ``61xx`` too.

Faults (``faults`` attribute, a CardFaults): ``memory_failure`` (writes answer 6581 and
change nothing), ``status_word`` (the next command answers this SW), ``slow_s`` (each
command takes this long). A card pulled mid-command is the vpcd link's job
(``VirtualCardSlot.pull_on``).
"""

from __future__ import annotations

import hmac
import os
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from drivers.cards import tlv
from drivers.cards.apdu import APDUError, Command, Response
from hwsim.cards.openpgp_dos import DataObjects
from hwsim.cards.openpgp_state import (ALGORITHMS, MAX_TRIES, PW1_MIN, PW3_MIN, PW_MAX, SPECIAL_DO_MAX, SW, CardFaults,
                                       CardSW, _State)

class OpenPGPCardSim(DataObjects):
    """One virtual OpenPGP card. Thread-safe: ``process`` runs under a lock."""

    def __init__(self, *, serial: int | None = None, algorithm: str = "ed25519", protocol: str = "T=1",
                 extended_length: bool = True, chaining: bool = True, special_do_max: int = SPECIAL_DO_MAX):
        """Raises ValueError for an unknown algorithm or protocol."""
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
        if protocol not in ("T=0", "T=1"):
            raise ValueError(f"protocol {protocol!r} is not T=0 or T=1")
        serial = int.from_bytes(os.urandom(4), "big") if serial is None else serial
        self.protocol, self.extended_length, self.chaining = protocol, extended_length, chaining
        self.special_do_max = special_do_max
        self.state = _State(serial.to_bytes(4, "big"), algorithm)
        self.faults = CardFaults()
        self.pins_sent_while_blocked = 0
        self._lock = threading.RLock()
        self.power_on()

    # --- what the reader sees -------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        """ATR with the OpenPGP historical bytes (spec 6): card capabilities say whether
        command chaining and extended Lc/Le are supported, status 05 9000 (operational)."""
        hist = self._historical()
        if self.protocol == "T=0":
            return bytes((0x3B, len(hist))) + hist          # no TD1: T=0 only
        body = bytes((0x80 | len(hist), 0x01)) + hist        # TD1 = T=1
        tck = 0
        for b in body:
            tck ^= b
        return b"\x3B" + body + bytes((tck,))

    def power_on(self) -> None:
        """Power-up or reset: volatile state (selection, verified PINs, buffers) is gone."""
        with self._lock:
            self._selected = False
            self._verified: set[int] = set()
            self._pending = b""               # response data waiting for GET RESPONSE
            self._chain: tuple[tuple[int, int, int], bytes] | None = None

    power_off = power_on

    def process(self, raw: bytes) -> bytes:
        """One command APDU in, one response APDU out (never raises)."""
        with self._lock:
            if self.faults.slow_s:
                time.sleep(self.faults.slow_s)
            if self.faults.status_word is not None:
                sw, self.faults.status_word = self.faults.status_word, None
                return sw.to_bytes(2, "big")
            try:
                cmd = Command.parse(raw)
            except APDUError:
                return Response(b"", SW["length"]).encode()
            try:
                return self._answer(cmd).encode()
            except CardSW as stop:
                return Response(b"", stop.sw).encode()

    # --- helpers for tests and the console (what the store's tool would read) -----------------

    @property
    def signature_counter(self) -> int:
        return self.state.signatures

    def tries_left(self, ref: int = 0x81) -> int:
        return self.state.tries[0x83 if ref == 0x83 else 0x81]

    def public_key(self):
        return None if self.state.key is None else self.state.key.public_key()

    # --- dispatch ------------------------------------------------------------------------------

    def _answer(self, cmd: Command) -> Response:
        if cmd.cla & ~CLA_BITS:
            raise CardSW(SW["cla"])
        if cmd.ins == 0xC0:
            return self._get_response(cmd)
        self._pending = b""
        cmd = self._unchain(cmd)
        if cmd is None:
            return Response(b"", SW["ok"])
        if self.state.terminated and cmd.ins not in (0x44, 0xA4):
            raise CardSW(SW["terminated"])
        if cmd.extended and not self.extended_length:
            raise CardSW(SW["length"])
        handler = HANDLERS.get(cmd.ins)
        if handler is None:
            raise CardSW(SW["ins"])
        if cmd.ins != 0xA4 and not self._selected:
            raise CardSW(SW["not_found"])
        data = handler(self, cmd)
        return self._deliver(cmd, data)

    def _unchain(self, cmd: Command) -> Command | None:
        key = (cmd.ins, cmd.p1, cmd.p2)
        if self._chain is not None and self._chain[0] != key:
            self._chain = None
            raise CardSW(SW["chain_last"])
        if cmd.cla & CLA_CHAINING:
            if not self.chaining:
                raise CardSW(0x6884)
            self._chain = (key, (self._chain[1] if self._chain else b"") + cmd.data)
            return None
        if self._chain is not None:
            data, self._chain = self._chain[1] + cmd.data, None
            return Command(cmd.cla, cmd.ins, cmd.p1, cmd.p2, data, cmd.le, cmd.extended)
        return cmd

    def _deliver(self, cmd: Command, data: bytes) -> Response:
        """Apply the transport rules to an answer of ``data``."""
        if not data:
            return Response(b"", SW["ok"])
        if self.protocol == "T=0":
            if cmd.case == 2 and cmd.le is not None and cmd.le != len(data) and not cmd.extended:
                if len(data) <= 256:
                    raise CardSW(0x6C00 | (len(data) & 0xFF))
            if cmd.case != 2:
                self._pending = data
                return Response(b"", 0x6100 | min(len(data), 256) & 0xFF)
        limit = cmd.le if cmd.le is not None else 0
        if len(data) > limit:
            self._pending = data[limit:]
            return Response(data[:limit], 0x6100 | min(len(self._pending), 256) & 0xFF)
        return Response(data, SW["ok"])

    def _get_response(self, cmd: Command) -> Response:
        if not self._pending:
            raise CardSW(SW["conditions"])
        if cmd.p1 or cmd.p2:
            raise CardSW(SW["p1p2"])
        n = cmd.le or 256
        chunk, self._pending = self._pending[:n], self._pending[n:]
        if self._pending:
            return Response(chunk, 0x6100 | min(len(self._pending), 256) & 0xFF)
        return Response(chunk, SW["ok"])

    # --- commands ----------------------------------------------------------------------------------

    def _select(self, cmd: Command) -> bytes:
        if cmd.p1 != 0x04:
            raise CardSW(SW["not_found"])
        if len(cmd.data) < 5 or not self.aid.startswith(cmd.data):
            self._selected = False
            raise CardSW(SW["not_found"])
        self._selected = True
        self._verified.clear()
        if self.state.terminated:
            raise CardSW(SW["terminated"])
        return b""

    def _verify(self, cmd: Command) -> bytes:
        if cmd.p2 not in (0x81, 0x82, 0x83):
            raise CardSW(SW["ref_not_found"])
        if cmd.p1 == 0xFF:                                 # forget the verification (3.x)
            if cmd.data:
                raise CardSW(SW["p1p2"])
            self._verified.discard(cmd.p2)
            return b""
        if cmd.p1 != 0x00:
            raise CardSW(SW["p1p2"])
        counter = 0x83 if cmd.p2 == 0x83 else 0x81
        left = self.state.tries[counter]
        if not cmd.data:                                   # status query
            if left == 0:
                raise CardSW(SW["blocked"])
            if cmd.p2 in self._verified:
                return b""
            raise CardSW(0x63C0 | left)
        if left == 0:
            self.pins_sent_while_blocked += 1              # what a careful terminal never does
            raise CardSW(SW["blocked"])
        minimum = PW3_MIN if counter == 0x83 else PW1_MIN
        if not minimum <= len(cmd.data) <= PW_MAX:
            raise CardSW(SW["length"])
        secret = self.state.pw3 if counter == 0x83 else self.state.pw1
        if not _equal(cmd.data, secret):
            self._verified.discard(cmd.p2)
            self.state.tries[counter] = left - 1
            raise CardSW(0x63C0 | (left - 1))
        self.state.tries[counter] = MAX_TRIES
        self._verified.add(cmd.p2)
        return b""

    def _change_reference(self, cmd: Command) -> bytes:
        if cmd.p1 != 0 or cmd.p2 not in (0x81, 0x83):
            raise CardSW(SW["p1p2"])
        counter = cmd.p2
        old = self.state.pw3 if counter == 0x83 else self.state.pw1
        if self.state.tries[counter] == 0:
            raise CardSW(SW["blocked"])
        given, new = cmd.data[:len(old)], cmd.data[len(old):]
        if not _equal(given, old):
            self.state.tries[counter] -= 1
            raise CardSW(0x63C0 | self.state.tries[counter])
        self._set_pw(counter, new)
        return b""

    def _reset_retry_counter(self, cmd: Command) -> bytes:
        if cmd.p1 != 0x02 or cmd.p2 != 0x81:               # no resetting code on this card: PW3 only
            raise CardSW(SW["p1p2"] if cmd.p1 not in (0x00, 0x02) else SW["security"])
        self._need(0x83)
        self._set_pw(0x81, cmd.data)
        return b""

    def _set_pw(self, counter: int, new: bytes) -> None:
        minimum = PW3_MIN if counter == 0x83 else PW1_MIN
        if not minimum <= len(new) <= PW_MAX:
            raise CardSW(SW["length"])
        self._write()
        if counter == 0x83:
            self.state.pw3 = bytes(new)
        else:
            self.state.pw1 = bytes(new)
        self.state.tries[counter] = MAX_TRIES

    def _get_data(self, cmd: Command) -> bytes:
        tag = (cmd.p1 << 8) | cmd.p2
        if tag == 0x0103:
            self._need(0x82)
        elif tag == 0x0104:
            self._need(0x83)
        if tag in (0x0101, 0x0102, 0x0103, 0x0104, 0x5E, 0xC7, 0xCE):
            return self.state.dos.get(tag, b"")
        builders = {0x4F: lambda: self.aid, 0x5F52: self._historical, 0xC4: self._pw_status,
                    0x7A: self._security_template, 0x6E: self._application_data, 0x7F66: self._ext_length,
                    0xC0: self._ext_capabilities, 0xC1: lambda: ALGORITHMS[self.state.algorithm]}
        build = builders.get(tag)
        if build is None:
            raise CardSW(SW["ref_not_found"])
        return build()

    def _put_data(self, cmd: Command) -> bytes:
        tag = (cmd.p1 << 8) | cmd.p2
        if tag in (0x0101, 0x0103):
            self._need(0x82)
        elif tag in (0x0102, 0x0104, 0x5E, 0xC4, 0xC7, 0xCE):
            self._need(0x83)
        else:
            raise CardSW(SW["ref_not_found"])
        if tag == 0xC4:
            if len(cmd.data) != 1 or cmd.data[0] not in (0, 1):
                raise CardSW(SW["data"])
            self._write()
            self.state.pw1_several = bool(cmd.data[0])
            return b""
        if len(cmd.data) > self.special_do_max:
            raise CardSW(SW["length"])
        self._write()
        self.state.dos[tag] = bytes(cmd.data)
        return b""

    def _generate(self, cmd: Command) -> bytes:
        if cmd.p2 != 0 or cmd.data[:1] not in (b"\xB6",):    # the signature key only on this card
            raise CardSW(SW["data"] if cmd.p2 == 0 else SW["p1p2"])
        if cmd.p1 == 0x80:
            self._need(0x83)
            self._write()
            if self.state.algorithm == "ed25519":
                self.state.key = ed25519.Ed25519PrivateKey.generate()
            else:
                self.state.key = ec.generate_private_key(ec.SECP256R1())
            self.state.signatures = 0                       # spec: a new signature key resets 93
        elif cmd.p1 != 0x81:
            raise CardSW(SW["p1p2"])
        if self.state.key is None:
            raise CardSW(SW["ref_not_found"])
        public = self.state.key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            point = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        else:
            point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return tlv.encode(0x7F49, tlv.encode(0x86, point))

    def _pso(self, cmd: Command) -> bytes:
        if (cmd.p1, cmd.p2) != (0x9E, 0x9A):
            raise CardSW(SW["p1p2"])
        self._need(0x81)
        if not self.state.pw1_several:
            self._verified.discard(0x81)                    # C4 byte 1 = 00: one signature per VERIFY
        key = self.state.key
        if key is None:
            raise CardSW(SW["conditions"])
        if isinstance(key, ed25519.Ed25519PrivateKey):
            if not cmd.data:
                raise CardSW(SW["length"])
            signature = key.sign(cmd.data)
        else:
            if len(cmd.data) != 32:
                raise CardSW(SW["length"])
            r, s = decode_dss_signature(key.sign(cmd.data, ec.ECDSA(Prehashed(_SHA256))))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        self.state.signatures = (self.state.signatures + 1) & 0xFFFFFF
        return signature

    def _terminate(self, cmd: Command) -> bytes:
        if self.state.tries[0x83] and 0x83 not in self._verified:
            raise CardSW(SW["security"])
        self.state.terminated = True
        self._verified.clear()
        return b""

    def _activate(self, cmd: Command) -> bytes:
        if self.state.terminated:                          # factory reset: everything but the serial
            self.state = _State(self.state.serial, self.state.algorithm)
            self._verified.clear()
        return b""

    def _need(self, ref: int) -> None:
        if ref not in self._verified:
            counter = 0x83 if ref == 0x83 else 0x81
            raise CardSW(SW["blocked"] if self.state.tries[counter] == 0 else SW["security"])

    def _write(self) -> None:
        if self.faults.memory_failure:
            raise CardSW(SW["memory"])


CLA_BITS = 0x10         # the only CLA bit this card accepts: chaining (no SM, channel 0)
CLA_CHAINING = 0x10
_SHA256 = hashes.SHA256()


def _equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


HANDLERS = {0xA4: OpenPGPCardSim._select, 0x20: OpenPGPCardSim._verify, 0x24: OpenPGPCardSim._change_reference,
            0x2C: OpenPGPCardSim._reset_retry_counter, 0xCA: OpenPGPCardSim._get_data,
            0xDA: OpenPGPCardSim._put_data, 0x47: OpenPGPCardSim._generate, 0x2A: OpenPGPCardSim._pso,
            0xE6: OpenPGPCardSim._terminate, 0x44: OpenPGPCardSim._activate}


class DirectLink:
    """A card in a reader that is not behind pcscd: the store's provisioning station in
    simulations. ``transmit`` hands the APDU straight to the card (T=1 rules)."""

    active_protocol = "T=1"

    def __init__(self, card: OpenPGPCardSim):
        self.card = card

    def transmit(self, apdu: bytes) -> bytes:
        return self.card.process(apdu)
