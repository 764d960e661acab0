"""The receipt record written to DO 0101: canonical, bounded, tamper-evident."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives import hashes

from drivers.cards.openpgp import verify_signature
from kiosk.security.card_receipt import MAX_DO, CardReceipt, ReceiptError, parse

RECEIPT = CardReceipt("1234-5678", "site-7", 1_790_000_000, "locker", "h-000042", 3)


def test_roundtrip_and_size_bound():
    data = RECEIPT.with_signature(bytes(64))
    parsed, record, signature = parse(data)
    assert parsed == RECEIPT and record == RECEIPT.record() and signature == bytes(64)
    longest = CardReceipt("T" * 40, "S" * 32, 2**32 - 1, "counter", "H" * 40, 2**24 - 1)
    assert len(longest.with_signature(bytes(64))) <= MAX_DO


@pytest.mark.parametrize("bad", [
    dict(trade_number=""), dict(trade_number="x" * 41), dict(site_id="a b"), dict(place="door"),
    dict(signature_number=0), dict(handed_over_at=-1), dict(handover_id="ü"),
])
def test_bad_fields_are_refused(bad):
    fields = dict(RECEIPT.__dict__, **bad)
    with pytest.raises(ReceiptError):
        CardReceipt(**fields).record()


def test_truncated_or_padded_do_is_refused():
    data = RECEIPT.with_signature(bytes(64))
    for cut in (1, 10, len(data) - 1):
        with pytest.raises(ReceiptError):
            parse(data[:cut])
    with pytest.raises(ReceiptError):
        parse(data + b"\x01")


@pytest.mark.parametrize("make", ["ed25519", "p256"])
def test_signature_verifies_and_a_changed_record_does_not(make):
    if make == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        sig = key.sign(RECEIPT.digest())
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        r, s = decode_dss_signature(key.sign(RECEIPT.digest(), ec.ECDSA(Prehashed(hashes.SHA256()))))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_signature(key.public_key(), RECEIPT.digest(), sig)
    other = CardReceipt("1234-5679", "site-7", 1_790_000_000, "locker", "h-000042", 3)
    assert not verify_signature(key.public_key(), other.digest(), sig)
