"""The OpenPGP card application (v3.4) as the parcel-card profile uses it (docs/cards.md).

Works over anything with ``transmit(apdu) -> response`` (a CardReader). What it does:
SELECT by AID, read the Application Related Data (``6E``) once for the capabilities,
VERIFY (PIN tries from ``63Cx``; ``6983`` = blocked; a PIN is never re-sent by this
layer, and never sent to a card that says it is blocked), GET DATA / PUT DATA (long
data with extended length when the card announces it, else command chaining), PSO:
COMPUTE DIGITAL SIGNATURE, reading and generating the signature key, RESET RETRY
COUNTER, and the signature counter (``7A``/``93``). Signatures are checked with the
``cryptography`` library: Ed25519, or ECDSA P-256 (the card answers r‖s).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from drivers.cards import tlv
from drivers.cards.apdu import APDUError, Command, Response, sw_text
from kiosk.errors import CardNotSupported, CardPinBlocked, CardPinWrong, CardStatusError

AID_PREFIX = bytes.fromhex("D27600012401")
PW1_SIGN, PW1_OTHER, PW3 = 0x81, 0x82, 0x83
DO_RECEIPT, DO_TRADE_NUMBER = 0x0101, 0x0103
OID_ED25519 = bytes.fromhex("2B06010401DA470F01")
OID_P256 = bytes.fromhex("2A8648CE3D030107")
SHORT_MAX = 255

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class CardInfo:
    """What SELECT and the Application Related Data say about a card."""

    aid: bytes
    version: tuple[int, int]
    manufacturer: int
    serial: str                    # 8 hex digits, printed on the card as well
    algorithm: str                 # "ed25519", "p256" or "other:<hex>"
    private_dos: bool              # Extended Capabilities byte 1 b4
    max_special_do: int            # the most a private-use DO can hold
    extended_length: bool
    chaining: bool
    pw1_tries: int
    pw3_tries: int


def _check(response: Response, what: str) -> bytes:
    if response.ok:
        return response.data
    raise CardStatusError(f"{what}: {sw_text(response.sw)}", response.sw)


class OpenPGPCard:
    """One OpenPGP card in ``reader``. Call ``select()`` first (again after a re-insert)."""

    def __init__(self, reader):
        self.reader = reader
        self.info: CardInfo | None = None

    def _send(self, command: Command) -> Response:
        return Response.parse(self.reader.transmit(command.encode()))

    def _long(self, ins: int, p1: int, p2: int, data: bytes, le: int | None = None) -> Response:
        """A command with more data than short length carries: extended if the card says
        it can, else command chaining. Raises CardNotSupported when it can neither."""
        info = self.info
        if len(data) <= SHORT_MAX:
            return self._send(Command(0x00, ins, p1, p2, data, le))
        if info is not None and info.extended_length and getattr(self.reader, "active_protocol", "T=1") != "T=0":
            return self._send(Command(0x00, ins, p1, p2, data, le, extended=True))
        if info is None or not info.chaining:
            raise CardNotSupported(f"{len(data)} bytes need extended length or command chaining; the card has neither")
        chunks = [data[i:i + SHORT_MAX] for i in range(0, len(data), SHORT_MAX)]
        for chunk in chunks[:-1]:
            _check(self._send(Command(0x10, ins, p1, p2, chunk)), "chained command")
        return self._send(Command(0x00, ins, p1, p2, chunks[-1], le))

    # --- selection and what the card offers ----------------------------------------------------

    def select(self) -> CardInfo:
        """SELECT the OpenPGP application and read its capabilities. Raises
        CardNotSupported (no OpenPGP application, or terminated), CardRemoved."""
        response = self._send(Command(0x00, 0xA4, 0x04, 0x00, AID_PREFIX))
        if response.sw == 0x6285:
            raise CardNotSupported("the OpenPGP application on this card is terminated (needs ACTIVATE)")
        if not response.ok:
            raise CardNotSupported(f"no OpenPGP application on this card ({sw_text(response.sw)})")
        ard = _check(self._send(Command(0x00, 0xCA, 0x00, 0x6E, le=256)), "GET DATA 6E")
        try:
            self.info = self._parse_ard(ard)
        except APDUError as err:
            raise CardNotSupported(f"Application Related Data unreadable: {err}") from err
        return self.info

    @staticmethod
    def _parse_ard(ard: bytes) -> CardInfo:
        aid = tlv.find(ard, 0x4F) or b""
        if len(aid) != 16 or not aid.startswith(AID_PREFIX):
            raise APDUError(f"AID {aid.hex()} is not an OpenPGP AID")
        caps = tlv.find(ard, 0xC0) or b""
        algo = tlv.find(ard, 0xC1) or b""
        status = tlv.find(ard, 0xC4) or b""
        hist = tlv.find(ard, 0x5F52) or b""
        card_caps = _card_capabilities(hist)
        algorithm = ("ed25519" if algo[:1] == b"\x16" and algo[1:10] == OID_ED25519 else
                     "p256" if algo[:1] == b"\x13" and algo[1:9] == OID_P256 else f"other:{algo.hex()}")
        return CardInfo(
            aid=aid, version=(aid[6], aid[7]), manufacturer=int.from_bytes(aid[8:10], "big"),
            serial=aid[10:14].hex().upper(), algorithm=algorithm,
            private_dos=bool(caps[:1] and caps[0] & 0x08),
            max_special_do=int.from_bytes(caps[6:8], "big") if len(caps) >= 8 else 0,
            extended_length=bool(card_caps & 0x40) or tlv.find(ard, 0x7F66) is not None,
            chaining=bool(card_caps & 0x80),
            pw1_tries=status[4] if len(status) >= 7 else 0, pw3_tries=status[6] if len(status) >= 7 else 0)

    # --- PINs --------------------------------------------------------------------------------------

    def pin_tries(self, ref: int = PW1_OTHER) -> int | None:
        """Tries left for ``ref`` from the empty VERIFY (None: it is verified already)."""
        response = self._send(Command(0x00, 0x20, 0x00, ref))
        if response.ok:
            return None
        if response.sw == 0x6983:
            return 0
        if response.sw & 0xFFF0 == 0x63C0:
            return response.sw & 0x0F
        raise CardStatusError(f"VERIFY status {ref:02X}: {sw_text(response.sw)}", response.sw)

    def verify(self, ref: int, pin: str | bytes) -> None:
        """Present ``pin`` once for ``ref`` (81 sign, 82 other, 83 admin). Raises
        CardPinWrong (with the tries left), CardPinBlocked (blocked now or already: then
        the PIN was not sent), CardStatusError, CardRemoved."""
        pin_bytes = pin.encode() if isinstance(pin, str) else bytes(pin)
        if self.pin_tries(ref) == 0:
            raise CardPinBlocked(f"PIN {ref:02X} is blocked", 0x6983)
        response = self._send(Command(0x00, 0x20, 0x00, ref, pin_bytes))
        if response.ok:
            return
        if response.sw == 0x6983 or response.sw == 0x63C0:
            raise CardPinBlocked(f"PIN {ref:02X} wrong; now blocked", response.sw)
        if response.sw & 0xFFF0 == 0x63C0:
            raise CardPinWrong(f"PIN {ref:02X} wrong", response.sw, response.sw & 0x0F)
        raise CardStatusError(f"VERIFY {ref:02X}: {sw_text(response.sw)}", response.sw)

    def reset_pin(self, new_pin: str | bytes) -> None:
        """RESET RETRY COUNTER for PW1 with a new PIN (after ``verify(PW3, ...)``)."""
        data = new_pin.encode() if isinstance(new_pin, str) else bytes(new_pin)
        _check(self._send(Command(0x00, 0x2C, 0x02, 0x81, data)), "RESET RETRY COUNTER")

    # --- data objects ------------------------------------------------------------------------------

    def get_data(self, tag: int) -> bytes:
        """GET DATA ``tag``. Raises CardStatusError (e.g. 6982 before the PIN)."""
        return _check(self._send(Command(0x00, 0xCA, tag >> 8, tag & 0xFF, le=256)), f"GET DATA {tag:04X}")

    def put_data(self, tag: int, value: bytes) -> None:
        """PUT DATA ``tag``. Raises CardNotSupported (longer than the card's private-use DOs
        hold), CardStatusError (6982 without the PIN, 6581 memory failure...)."""
        if self.info is not None and tag in (0x0101, 0x0102, 0x0103, 0x0104):
            if not self.info.private_dos:
                raise CardNotSupported("the card has no private-use DOs (Extended Capabilities)")
            if self.info.max_special_do and len(value) > self.info.max_special_do:
                raise CardNotSupported(f"{len(value)} bytes do not fit DO {tag:04X} "
                                       f"(the card holds {self.info.max_special_do})")
        _check(self._long(0xDA, tag >> 8, tag & 0xFF, bytes(value)), f"PUT DATA {tag:04X}")

    def signature_counter(self) -> int:
        """The digital-signature counter (DO 93 in 7A): signatures made with this key."""
        value = tlv.find(self.get_data(0x7A), 0x93)
        if value is None:
            raise CardStatusError("DO 7A has no signature counter (93)", 0x6A88)
        return int.from_bytes(value, "big")

    # --- the signature key ---------------------------------------------------------------------------

    def public_key(self) -> PublicKey:
        """Read the signature key's public part (47 81). Raises CardStatusError (no key),
        CardNotSupported (an algorithm other than Ed25519 / P-256)."""
        return self._key_from(_check(self._send(Command(0x00, 0x47, 0x81, 0x00, b"\xB6\x00", le=256)),
                                     "read public key"))

    def generate_key(self) -> PublicKey:
        """Generate a new signature key on the card (after ``verify(PW3, ...)``); resets
        the signature counter. Returns the public key."""
        return self._key_from(_check(self._send(Command(0x00, 0x47, 0x80, 0x00, b"\xB6\x00", le=256)),
                                     "GENERATE ASYMMETRIC KEY PAIR"))

    def _key_from(self, data: bytes) -> PublicKey:
        point = tlv.find(data, 0x86)
        algorithm = self.info.algorithm if self.info else ""
        try:
            if point is not None and algorithm == "ed25519":
                return ed25519.Ed25519PublicKey.from_public_bytes(point)
            if point is not None and algorithm == "p256":
                return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as err:
            raise CardNotSupported(f"the card's public key is malformed: {err}") from err
        raise CardNotSupported(f"signature algorithm {algorithm or 'unknown'} is not one the profile verifies")

    def sign(self, digest: bytes) -> bytes:
        """PSO:COMPUTE DIGITAL SIGNATURE over a SHA-256 ``digest`` (after ``verify(PW1_SIGN, ...)``).
        Returns the raw signature (64 bytes: R‖S for Ed25519, r‖s for ECDSA P-256)."""
        if len(digest) != 32:
            raise ValueError("sign a SHA-256 digest (32 bytes)")
        return _check(self._send(Command(0x00, 0x2A, 0x9E, 0x9A, digest, le=256)), "PSO:CDS")


def verify_signature(public_key: PublicKey, digest: bytes, signature: bytes) -> bool:
    """Does ``signature`` (as a card returns it) sign ``digest`` under ``public_key``?"""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, digest)
        else:
            if len(signature) != 64:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public_key.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return False
    return True


def _card_capabilities(hist: bytes) -> int:
    """The third byte of the card-capabilities object (tag 73) in the historical bytes."""
    if not hist or hist[0] != 0x00:
        return 0
    i, end = 1, len(hist) - 3                  # category 00: the last 3 bytes are the status indicator
    while i < end:
        tag, n = hist[i] >> 4, hist[i] & 0x0F
        if tag == 0x7 and n == 3 and i + 3 < len(hist):
            return hist[i + 3]
        i += 1 + n
    return 0
