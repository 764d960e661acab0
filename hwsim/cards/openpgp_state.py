"""What the virtual OpenPGP card keeps (hwsim.cards.openpgp_card): its constants, the state a
real card holds in EEPROM, the faults a test can switch on, and the status words it answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

RID_OPENPGP = bytes.fromhex("D27600012401")
VERSION = b"\x03\x04"
MANUFACTURER = b"\xFF\x00"          # FF00..FFFE: "unmanaged/test" range of the spec
DEFAULT_PW1, DEFAULT_PW3 = b"123456", b"12345678"
MAX_TRIES = 3
PW1_MIN, PW3_MIN, PW_MAX = 6, 8, 127
SPECIAL_DO_MAX = 255                 # Extended Capabilities bytes 7-8: the max size of 0101..0104
MAX_CMD, MAX_RESP = 2048, 2048       # 7F66 extended length information

# Algorithm attributes (C1): algorithm id then curve OID.
ALGORITHMS = {
    "ed25519": bytes.fromhex("16") + bytes.fromhex("2B06010401DA470F01"),
    "p256": bytes.fromhex("13") + bytes.fromhex("2A8648CE3D030107"),
}

SW = {"ok": 0x9000, "terminated": 0x6285, "memory": 0x6581, "length": 0x6700, "chain_last": 0x6883,
      "security": 0x6982, "blocked": 0x6983, "conditions": 0x6985, "data": 0x6A80, "not_found": 0x6A82,
      "ref_not_found": 0x6A88, "p1p2": 0x6B00, "ins": 0x6D00, "cla": 0x6E00}


class CardSW(Exception):
    """Inside ``process``: end this command with status word ``sw``."""

    def __init__(self, sw: int):
        self.sw = sw


@dataclass
class CardFaults:
    memory_failure: bool = False
    status_word: int | None = None     # answer the next command with this, once
    slow_s: float = 0.0


@dataclass
class _State:
    """Everything a real card keeps in EEPROM."""

    serial: bytes
    algorithm: str
    pw1: bytes = DEFAULT_PW1
    pw3: bytes = DEFAULT_PW3
    tries: dict[int, int] = field(default_factory=lambda: {0x81: MAX_TRIES, 0x83: MAX_TRIES})
    pw1_several: bool = False          # C4 byte 1: PW1 stays valid for several signatures
    dos: dict[int, bytes] = field(default_factory=dict)
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | None = None
    signatures: int = 0
    terminated: bool = False
