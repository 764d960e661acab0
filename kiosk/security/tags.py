"""Parcel tags F1 and F2: the store's signed 2-D code payload, built and checked.

docs/tags.md is the specification and the threat model; this module is its codec. The
store side (the store emulator, hwsim) calls ``build_f1``/``build_f2``; the kiosk calls
``read`` (cheap: shape, bounds, signature, site) and then ``check_secret`` (slow: one
Argon2id; run it off the event loop).

Binary layout, version 1 (big-endian):

    0  version     1   = 1
    1  kind        1   1 = F1 (trade number in the clear + keyed verifier), 2 = F2 (sealed)
    2  site hint   4   SHA-256("pickup-kiosk site\\0" + site id)[:4]
    6  memory      1   Argon2id memory = 2**memory KiB
    7  iterations  1
    8  lanes       1
    9  salt       16   random per tag
   25  F1: length 1, trade number (ASCII, 4-40), verifier 16
       F2: binding 8, sealed trade number (ChaCha20-Poly1305, length + 16)
  end  signature  64   Ed25519 by the store over "pickup-kiosk tag\\0" + all bytes before it

Text form (what the QR code holds): those bytes as one decimal integer (the version byte
is never 0, so no leading zero is lost), then two ISO 7064 MOD 97-10 check digits (as in
IBAN). Digits only: QR numeric mode (3.3 bits a character, as compact as Base45 in
alphanumeric mode), and a keyboard-wedge scanner types digits the same on every layout.

Hostile input costs little: the size is bounded before any arithmetic, the parameters
before any KDF, and the signature is checked before any KDF, so a forged tag costs one
Ed25519 verification and never an Argon2id run.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from kiosk.errors import TagForged, TagMalformed, TagNotForThisSite, TagUnsupportedVersion
from kiosk.security.secrets import normalise
from kiosk.security.tag_keys import SITE_KEY_BYTES, TagKeys

VERSION = 1
SIGN_CONTEXT = b"pickup-kiosk tag\x00"   # a tag signature can never be taken for a manifest's
SITE_CONTEXT = b"pickup-kiosk site\x00"
HEADER = struct.Struct(">BB4sBBB16s")
SALT_BYTES = 16
VERIFIER_BYTES = 16   # F1: 128 bits; only ever tested through the counter's attempt limits
BINDING_BYTES = 8     # F2: ties the sealed number to the label's, checked without the secret
AEAD_TAG_BYTES = 16
SIGNATURE_BYTES = 64
ZERO_NONCE = bytes(12)  # each F2 key seals exactly one message (fresh salt → fresh key)

# The same rule as kiosk.domain.parcels.TRADE_NUMBER (a test keeps them equal); the
# security layer sits below the domain and cannot import it.
TRADE_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,39}$")
MIN_TRADE, MAX_TRADE = 4, 40
MAX_SECRET_BYTES = 256

# Argon2id bounds, checked before any KDF runs: the top keeps one verification on a
# 2-core kiosk to about a second even for a (signed) tag at the limit; the bottom is the
# cheapest tag the codec accepts at all (tests use it; production tags carry PRODUCTION).
MEMORY_LOG2 = (10, 17)     # 1 MiB .. 128 MiB
ITERATIONS = (1, 6)
LANES = (1, 4)

_MIN_BYTES = HEADER.size + 1 + MIN_TRADE + VERIFIER_BYTES + SIGNATURE_BYTES            # smallest F1
_MAX_BYTES = HEADER.size + BINDING_BYTES + MAX_TRADE + AEAD_TAG_BYTES + SIGNATURE_BYTES  # largest F2
MIN_TEXT = len(str(1 << (8 * (_MIN_BYTES - 1)))) + 2
MAX_TEXT = len(str(1 << (8 * _MAX_BYTES))) + 2
MAX_PAYLOAD = 1024   # bytes from a scanner, blanks included; anything longer is not a tag
_DIGITS = re.compile(r"^[1-9][0-9]*$")   # ASCII only: str.isdigit() would accept other scripts' digits


class Kind(enum.IntEnum):
    F1 = 1
    F2 = 2

    @property
    def method(self) -> str:
        """The manifest's name for parcels verified with this kind of tag."""
        return "f1_tag" if self is Kind.F1 else "f2_tag"


def _params_problem(memory_log2: int, iterations: int, lanes: int) -> str | None:
    if not MEMORY_LOG2[0] <= memory_log2 <= MEMORY_LOG2[1]:
        return f"Argon2id memory 2**{memory_log2} KiB is outside 2**{MEMORY_LOG2[0]}..2**{MEMORY_LOG2[1]}"
    if not ITERATIONS[0] <= iterations <= ITERATIONS[1]:
        return f"Argon2id iterations {iterations} outside {ITERATIONS[0]}..{ITERATIONS[1]}"
    if not LANES[0] <= lanes <= LANES[1]:
        return f"Argon2id lanes {lanes} outside {LANES[0]}..{LANES[1]}"
    return None


@dataclass(frozen=True)
class TagParams:
    """Argon2id cost carried in a tag. Raises ValueError outside the bounds."""

    memory_log2: int = 16
    iterations: int = 2
    lanes: int = 1

    def __post_init__(self) -> None:
        problem = _params_problem(self.memory_log2, self.iterations, self.lanes)
        if problem:
            raise ValueError(problem)

    @property
    def memory_kib(self) -> int:
        return 1 << self.memory_log2


PRODUCTION = TagParams(16, 2, 1)   # 64 MiB, 2 passes: ~130 ms idle on the 2-core reference box
CHEAP = TagParams(10, 1, 1)        # 1 MiB, 1 pass: tests and simulations only


@dataclass(frozen=True)
class Tag:
    """A parsed tag. Fields are as read: trust them only after ``authenticate``."""

    kind: Kind
    site_hint: bytes
    params: TagParams
    salt: bytes
    trade_number: str | None = None   # F1 only: the trade number in the clear
    verifier: bytes | None = field(default=None, repr=False)   # F1
    binding: bytes | None = field(default=None, repr=False)    # F2
    sealed: bytes | None = field(default=None, repr=False)     # F2
    signed: bytes = field(default=b"", repr=False)             # every byte before the signature
    signature: bytes = field(default=b"", repr=False)

    @property
    def method(self) -> str:
        return self.kind.method


# --- text form -----------------------------------------------------------------------------

def _check_digits(number: str) -> str:
    """ISO 7064 MOD 97-10: the two digits that make ``number + digits`` ≡ 1 (mod 97)."""
    return f"{98 - (int(number) * 100) % 97:02d}"


def encode_text(raw: bytes) -> str:
    if not raw or raw[0] == 0:
        raise ValueError("a tag starts with a non-zero version byte")
    number = str(int.from_bytes(raw, "big"))
    return number + _check_digits(number)


def looks_like_tag(text: str) -> bool:
    """True for text that can only be meant as a tag (a trade number is at most 40 characters)."""
    return len(text) > MAX_TRADE and text.isascii() and text.isdigit()


def decode_text(payload: bytes | str) -> bytes:
    """The tag bytes from a scanned payload. Raises TagMalformed."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "replace")
    if not isinstance(payload, (bytes, bytearray)) or len(payload) > MAX_PAYLOAD:
        raise TagMalformed("not a parcel tag (too long)")
    try:
        text = bytes(payload).strip().decode("ascii")
    except UnicodeDecodeError:
        raise TagMalformed("not a parcel tag (not plain text)") from None
    if not _DIGITS.match(text):
        raise TagMalformed("not a parcel tag")
    if len(text) < MIN_TEXT:
        raise TagMalformed("tag too short: the read was cut off; scan again")
    if len(text) > MAX_TEXT:
        raise TagMalformed("not a parcel tag (too long)")
    if int(text) % 97 != 1:
        raise TagMalformed("tag damaged in reading (check digits); scan again")
    number = int(text[:-2])
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


# --- parsing (kiosk side, cheap) -------------------------------------------------------------

def parse(payload: bytes | str) -> Tag:
    """The tag in a scanned payload, its shape and bounds checked (not yet its signature).

    Raises TagMalformed, TagUnsupportedVersion."""
    raw = decode_text(payload)   # at least _MIN_BYTES long, by its digit count
    if raw[0] != VERSION:
        raise TagUnsupportedVersion(f"tag format version {raw[0]} is not read here (this controller reads {VERSION})")
    if raw[1] not in (Kind.F1, Kind.F2):
        raise TagUnsupportedVersion(f"unknown tag kind {raw[1]}")
    kind = Kind(raw[1])
    if not _MIN_BYTES <= len(raw) <= _MAX_BYTES:
        raise TagMalformed("tag has the wrong length")
    _, _, hint, memory, iterations, lanes, salt = HEADER.unpack_from(raw)
    problem = _params_problem(memory, iterations, lanes)
    if problem:
        raise TagMalformed(f"tag refused: {problem}")
    params = TagParams(memory, iterations, lanes)
    signed, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    rest = signed[HEADER.size:]
    if kind is Kind.F1:
        length = rest[0]
        if len(rest) != 1 + length + VERIFIER_BYTES:
            raise TagMalformed("tag has the wrong length")
        trade = rest[1:1 + length].decode("ascii", "replace")
        if not TRADE_NUMBER.match(trade):
            raise TagMalformed("tag carries no valid trade number")
        return Tag(kind, hint, params, salt, trade_number=trade, verifier=rest[1 + length:],
                   signed=signed, signature=signature)
    sealed = rest[BINDING_BYTES:]
    if not MIN_TRADE + AEAD_TAG_BYTES <= len(sealed) <= MAX_TRADE + AEAD_TAG_BYTES:
        raise TagMalformed("tag has the wrong length")
    return Tag(kind, hint, params, salt, binding=rest[:BINDING_BYTES], sealed=sealed,
               signed=signed, signature=signature)


def site_hint(site_id: str) -> bytes:
    return hashlib.sha256(SITE_CONTEXT + site_id.encode("utf-8")).digest()[:4]


def authenticate(tag: Tag, keys: TagKeys) -> Tag:
    """``tag`` if the store signed it for this site. Raises TagForged, TagNotForThisSite."""
    try:
        keys.store_public_key.verify(tag.signature, SIGN_CONTEXT + tag.signed)
    except InvalidSignature:
        raise TagForged("this tag was not made by the store: do not hand the parcel over") from None
    # After the signature: so "another site" is the store's word, not the tag's claim.
    if not hmac.compare_digest(tag.site_hint, site_hint(keys.site_id)):
        raise TagNotForThisSite("this parcel belongs to another pickup point")
    return tag


def read(payload: bytes | str, keys: TagKeys) -> Tag:
    """Parse and authenticate a scanned tag. Raises TagMalformed, TagUnsupportedVersion,
    TagForged, TagNotForThisSite."""
    return authenticate(parse(payload), keys)


# --- keys --------------------------------------------------------------------------------------

def _subkey(site_key: bytes, purpose: bytes) -> bytes:
    # The site key is 32 uniformly random bytes, so HKDF-Expand alone derives one
    # independent key per purpose (RFC 5869 §3.3).
    return HKDFExpand(hashes.SHA256(), 32, b"pickup-kiosk tags v1 " + purpose).derive(site_key)


def _stretch(secret: str, tag_salt: bytes, params: TagParams) -> bytes:
    """The slow part: Argon2id of the normalised secret (the only cost of an offline guess)."""
    return Argon2id(salt=tag_salt, length=32, iterations=params.iterations, lanes=params.lanes,
                    memory_cost=params.memory_kib).derive(normalise(secret))


def _combine(stretched: bytes, site_key: bytes, info: bytes, length: int) -> bytes:
    # HKDF-Extract keyed with a subkey of the site key (RFC 5869 allows a secret salt):
    # HMAC(site subkey, Argon2id(secret)) is a PRF of the site key, so without that key the
    # output says nothing about the secret, and with it each guess still costs one Argon2id.
    return HKDF(hashes.SHA256(), length, salt=_subkey(site_key, b"kdf"), info=info).derive(stretched)


def _f1_info(site_id: str, trade: str) -> bytes:
    return b"F1 verifier\x00" + site_id.encode("utf-8") + b"\x00" + trade.encode("ascii")


def _f2_info(site_id: str) -> bytes:
    return b"F2 key\x00" + site_id.encode("utf-8")


def _binding(site_key: bytes, site_id: str, trade: str) -> bytes:
    mac = hmac.new(_subkey(site_key, b"binding"), site_id.encode("utf-8") + b"\x00" + trade.encode("ascii"),
                   hashlib.sha256)
    return mac.digest()[:BINDING_BYTES]


# --- checking (kiosk side) ---------------------------------------------------------------------

def matches_label(tag: Tag, label_trade_number: str, keys: TagKeys) -> bool:
    """True when an authenticated ``tag`` belongs to the parcel whose label reads
    ``label_trade_number``. Cheap (no secret needed): a swapped tag is caught before the
    recipient is asked for anything, and a wrong secret is charged to the right parcel."""
    if tag.kind is Kind.F1:
        trade_number, _ = _f1_parts(tag)
        return hmac.compare_digest(trade_number.encode("ascii"), label_trade_number.encode("utf-8"))
    if not TRADE_NUMBER.match(label_trade_number):
        return False
    binding, _ = _f2_parts(tag)
    return hmac.compare_digest(binding, _binding(keys.site_key, keys.site_id, label_trade_number))


def _f1_parts(tag: Tag) -> tuple[str, bytes]:
    """An F1 tag's trade number and verifier (the parser sets both). Raises TagMalformed."""
    if tag.trade_number is None or tag.verifier is None:
        raise TagMalformed("an F1 tag without its trade number or verifier")
    return tag.trade_number, tag.verifier


def _f2_parts(tag: Tag) -> tuple[bytes, bytes]:
    """An F2 tag's binding and sealed trade number (the parser sets both). Raises TagMalformed."""
    if tag.binding is None or tag.sealed is None:
        raise TagMalformed("an F2 tag without its binding or sealed trade number")
    return tag.binding, tag.sealed


def check_secret(tag: Tag, secret: str, keys: TagKeys) -> str | None:
    """The trade number ``secret`` proves on an authenticated ``tag``, or None if it proves
    nothing. Slow by design (one Argon2id at the tag's cost): call it off the event loop.
    An attacker holding the tag and the site key pays exactly this per guess."""
    if not isinstance(secret, str):
        return None
    try:
        secret_bytes = normalise(secret)
    except TypeError:
        return None
    if not secret_bytes or len(secret_bytes) > MAX_SECRET_BYTES:
        return None
    stretched = _stretch(secret, tag.salt, tag.params)
    if tag.kind is Kind.F1:
        trade_number, verifier = _f1_parts(tag)
        expected = _combine(stretched, keys.site_key, _f1_info(keys.site_id, trade_number), VERIFIER_BYTES)
        return trade_number if hmac.compare_digest(expected, verifier) else None
    _, sealed = _f2_parts(tag)
    key = _combine(stretched, keys.site_key, _f2_info(keys.site_id), 32)
    aad = tag.signed[:HEADER.size + BINDING_BYTES]
    try:
        plain = ChaCha20Poly1305(key).decrypt(ZERO_NONCE, sealed, aad)
    except InvalidTag:
        return None
    trade = plain.decode("ascii", "replace")
    return trade if TRADE_NUMBER.match(trade) else None


# --- building (store side) ---------------------------------------------------------------------

def _header(kind: Kind, site_id: str, params: TagParams, salt: bytes) -> bytes:
    return HEADER.pack(VERSION, kind, site_hint(site_id), params.memory_log2, params.iterations, params.lanes, salt)


def _checked_inputs(site_key: bytes, trade_number: str, secret: str, salt: bytes | None) -> bytes:
    if not isinstance(site_key, bytes) or len(site_key) != SITE_KEY_BYTES:
        raise ValueError(f"the site tag key is {SITE_KEY_BYTES} bytes")
    if not isinstance(trade_number, str) or not TRADE_NUMBER.match(trade_number):
        raise ValueError("not a trade number (4-40 of 0-9 A-Z -, starting with a letter or digit)")
    if not isinstance(secret, str) or not normalise(secret) or len(normalise(secret)) > MAX_SECRET_BYTES:
        raise ValueError(f"a secret is 1..{MAX_SECRET_BYTES} bytes of text")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes")
    return salt


def _sign(store_key: Ed25519PrivateKey, body: bytes) -> str:
    return encode_text(body + store_key.sign(SIGN_CONTEXT + body))


def build_f1(store_key: Ed25519PrivateKey, site_key: bytes, site_id: str, trade_number: str, secret: str,
             params: TagParams = PRODUCTION, *, salt: bytes | None = None) -> str:
    """The text of an F1 tag: the trade number in the clear plus a verifier of the secret
    keyed with the site key. Raises ValueError for bad inputs."""
    salt = _checked_inputs(site_key, trade_number, secret, salt)
    verifier = _combine(_stretch(secret, salt, params), site_key, _f1_info(site_id, trade_number), VERIFIER_BYTES)
    trade = trade_number.encode("ascii")
    return _sign(store_key, _header(Kind.F1, site_id, params, salt) + bytes([len(trade)]) + trade + verifier)


def build_f2(store_key: Ed25519PrivateKey, site_key: bytes, site_id: str, trade_number: str, secret: str,
             params: TagParams = PRODUCTION, *, salt: bytes | None = None) -> str:
    """The text of an F2 tag: the trade number sealed under a key from both the secret
    (Argon2id) and the site key (HKDF). Raises ValueError for bad inputs."""
    salt = _checked_inputs(site_key, trade_number, secret, salt)
    key = _combine(_stretch(secret, salt, params), site_key, _f2_info(site_id), 32)
    aad = _header(Kind.F2, site_id, params, salt) + _binding(site_key, site_id, trade_number)
    sealed = ChaCha20Poly1305(key).encrypt(ZERO_NONCE, trade_number.encode("ascii"), aad)
    return _sign(store_key, aad + sealed)
