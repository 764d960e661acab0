"""Signatures cover RFC 8785 (JCS) canonical JSON, so a store in any language can check
them (issue 8 §2). Before, they covered "what Python's json.dumps does", which differs
from JCS in number forms and in the order of keys outside the Basic Multilingual Plane."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.security.keys import sign, signing_bytes, unb64url, verify

# RFC 8785 §3.2.2.3 / §3.2.3: numbers in ECMAScript form; keys sorted by UTF-16 code units
# ("\U0001f600" is D83D DE00, before "\ue000").
CASES = [
    ({"a": 1.0, "b": 1e21, "c": 0.000001}, b'{"a":1,"b":1e+21,"c":0.000001}'),
    ({"\ue000": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\ue000":1}'.encode()),
    ({"b": [True, None, "\u00e9\n"], "a": {}}, '{"a":{},"b":[true,null,"\u00e9\\n"]}'.encode()),
]


@pytest.mark.parametrize("document, expected", CASES)
def test_the_signed_bytes_are_rfc_8785(document, expected):
    assert signing_bytes(document) == expected
    key = Ed25519PrivateKey.generate()
    key.public_key().verify(unb64url(sign(key, document)), expected)   # what any JCS verifier checks


def test_what_jcs_cannot_carry_is_not_signed_and_never_verifies():
    key = Ed25519PrivateKey.generate()
    for bad in ({"n": 2**53}, {"s": "\ud800"}, {"f": float("nan")}):
        with pytest.raises(ValueError):
            sign(key, bad)
        assert not verify(key.public_key(), bad, "A" * 86)
