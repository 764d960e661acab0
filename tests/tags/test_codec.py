"""The tag codec (kiosk.security.tags): round trips, every rejection, bounds before any
KDF, and the known-answer vector printed in docs/tags.md."""

from __future__ import annotations

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain.parcels import TRADE_NUMBER as DOMAIN_TRADE_NUMBER
from kiosk.errors import TagForged, TagMalformed, TagNotForThisSite, TagUnsupportedVersion
from kiosk.security import tags
from kiosk.security.tag_keys import TagKeys
from hwsim.tags import TagIssuer, forged, foreign, TagParcel

from tests.tags.conftest import SITE


def _raw(text: str) -> bytes:
    return tags.decode_text(text)


def _resign(issuer: TagIssuer, raw_body: bytes) -> str:
    """A tag with this body, validly signed by the store (to reach checks after the signature)."""
    return tags.encode_text(raw_body + issuer.store_key.sign(tags.SIGN_CONTEXT + raw_body))


@pytest.fixture
def no_kdf(monkeypatch):
    """Fail the test if anything runs Argon2id."""
    def refuse(*args, **kwargs):
        raise AssertionError("Argon2id ran")
    monkeypatch.setattr(tags, "Argon2id", refuse)


# --- round trips -------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["f1_tag", "f2_tag"])
@pytest.mark.parametrize("trade", ["1234-5678", "ABCD", "A" * 40, "20261121-0001-XY"])
def test_round_trip(issuer, keys, method, trade):
    text = issuer.tag(method, trade, "424242")
    tag = tags.read(text, keys)
    assert tag.method == method
    assert tags.matches_label(tag, trade, keys)
    assert tags.check_secret(tag, "424242", keys) == trade
    assert tags.check_secret(tag, "424243", keys) is None


def test_f1_carries_the_number_in_the_clear_and_f2_does_not(issuer, keys, f1, f2):
    assert tags.read(f1, keys).trade_number == "1234-5678" and b"1234-5678" in _raw(f1)
    assert tags.read(f2, keys).trade_number is None and b"1234-5678" not in _raw(f2)


def test_secrets_are_normalised_like_typed_ones(keys, f1, f2):
    # Full-width digits from a Japanese keyboard, and blanks around, are the same secret.
    for text in (f1, f2):
        assert tags.check_secret(tags.read(text, keys), " ４２４２４２ ", keys) == "1234-5678"


@pytest.mark.parametrize("secret", ["", "   ", "x" * 300, None, 424242])
def test_unusable_secrets_prove_nothing(keys, f2, secret, no_kdf):
    assert tags.check_secret(tags.read(f2, keys), secret, keys) is None


def test_the_label_comparison_needs_no_secret_and_catches_other_numbers(keys, f1, f2, no_kdf):
    for text in (f1, f2):
        tag = tags.read(text, keys)
        assert tags.matches_label(tag, "1234-5678", keys)
        assert not tags.matches_label(tag, "1234-5679", keys)
        assert not tags.matches_label(tag, "not a number", keys)


# --- the text form -----------------------------------------------------------------------------

def test_text_is_digits_in_qr_numeric_mode_and_small(f1, f2):
    for text in (f1, f2):
        assert text.isascii() and text.isdigit()
        qr = segno.make(text, error="M", micro=False)
        assert qr.mode == "numeric" and qr.version <= 8


def test_scanner_framing_is_tolerated(keys, f1):
    assert tags.read((f1 + "\r\n").encode(), keys).trade_number == "1234-5678"
    assert tags.read("  " + f1 + "\t", keys).trade_number == "1234-5678"


def test_every_single_digit_error_is_caught_by_the_check_digits(f2):
    for at in range(0, len(f2), 7):
        for digit in "0123456789":
            if digit != f2[at] and not (at == 0 and digit == "0"):
                with pytest.raises(TagMalformed):
                    tags.parse(f2[:at] + digit + f2[at + 1:])


def test_adjacent_transpositions_are_caught(f1):
    for at in range(len(f1) - 1):
        if f1[at] != f1[at + 1] and not (at == 0 and f1[1] == "0"):
            with pytest.raises(TagMalformed):
                tags.parse(f1[:at] + f1[at + 1] + f1[at] + f1[at + 2:])


def test_every_truncation_is_refused(f1, f2):
    for text in (f1, f2):
        for cut in range(1, len(text)):
            with pytest.raises(TagMalformed):
                tags.parse(text[:cut])


@pytest.mark.parametrize("payload", [
    b"", b"\xff\xfe", "１２３４".encode(), "٣" * 300, "0" + "1" * 300, "1" * 2000,
    b"]Q1" + b"1" * 300, "12345678901234567890" * 5, "HTTPS://EXAMPLE.COM/1234",
])
def test_not_a_tag(payload):
    with pytest.raises(TagMalformed):
        tags.parse(payload)


# --- structure, version, bounds ------------------------------------------------------------------

def test_unknown_version_and_kind(issuer, f1):
    body = bytearray(_raw(f1)[:-tags.SIGNATURE_BYTES])
    for at, value in ((0, 2), (0, 255), (1, 3), (1, 0)):
        changed = bytearray(body)
        changed[at] = value
        with pytest.raises(TagUnsupportedVersion):
            tags.parse(_resign(issuer, bytes(changed)))


@pytest.mark.parametrize("at,value", [(6, 9), (6, 18), (6, 40), (7, 0), (7, 7), (7, 255), (8, 0), (8, 5)])
def test_parameters_out_of_bounds_are_refused_before_any_kdf(issuer, keys, f2, at, value, no_kdf):
    body = bytearray(_raw(f2)[:-tags.SIGNATURE_BYTES])
    body[at] = value
    text = _resign(issuer, bytes(body))   # signed by the store, and still refused
    with pytest.raises(TagMalformed, match="outside"):
        tags.read(text, keys)


def test_wrong_lengths(issuer, f1, f2):
    f1_body = _raw(f1)[:-tags.SIGNATURE_BYTES]
    longer = bytearray(f1_body)
    longer[tags.HEADER.size] += 1          # the F1 length byte claims one more character
    with pytest.raises(TagMalformed):
        tags.parse(_resign(issuer, bytes(longer)))
    bad_trade = bytearray(f1_body)
    bad_trade[tags.HEADER.size + 1] = ord("a")   # lower case is not a trade number
    with pytest.raises(TagMalformed):
        tags.parse(_resign(issuer, bytes(bad_trade)))
    f2_body = _raw(f2)[:-tags.SIGNATURE_BYTES]
    with pytest.raises(TagMalformed):
        tags.parse(_resign(issuer, f2_body[:tags.HEADER.size + tags.BINDING_BYTES + 19]))   # sealed too short


def test_parameter_bounds_in_code():
    assert tags.TagParams().memory_kib == 64 * 1024
    for bad in ((9, 1, 1), (18, 1, 1), (10, 0, 1), (10, 7, 1), (10, 1, 0), (10, 1, 5)):
        with pytest.raises(ValueError):
            tags.TagParams(*bad)


# --- authenticity ---------------------------------------------------------------------------------

def test_forged_tags_are_refused_without_any_kdf(issuer, keys, monkeypatch):
    made = [forged(issuer, TagParcel("1234-5678", "424242", {"method": method}, ""), "000000")
            for method in ("f1_tag", "f2_tag")]
    monkeypatch.setattr(tags, "Argon2id", lambda *a, **k: pytest.fail("Argon2id ran"))
    for text in made:
        with pytest.raises(TagForged):
            tags.read(text, keys)


def test_every_byte_is_signed(issuer, keys, f1):
    raw = _raw(f1)
    for at in range(2, len(raw) - tags.SIGNATURE_BYTES):
        changed = bytearray(raw)
        changed[at] ^= 0x01
        with pytest.raises((TagForged, TagMalformed)):
            tags.read(tags.encode_text(bytes(changed)), keys)


def test_another_sites_tag(issuer, keys):
    parcel = TagParcel("1234-5678", "424242", {"method": "f2_tag"}, "")
    with pytest.raises(TagNotForThisSite):
        tags.read(foreign(issuer, parcel), keys)


def test_the_tag_alone_proves_nothing_without_the_site_key(issuer, f1, f2):
    # Same store, same site id, but not the site key: the right secret opens nothing.
    other = TagKeys(SITE, issuer.store_key.public_key(), bytes(32))
    for text in (f1, f2):
        tag = tags.read(text, other)
        assert tags.check_secret(tag, "424242", other) is None
        assert not tags.matches_label(tag, "1234-5678", other) or tag.kind is tags.Kind.F1


def test_trade_number_rule_is_the_domains():
    assert tags.TRADE_NUMBER.pattern == DOMAIN_TRADE_NUMBER.pattern


def test_builder_refuses_bad_inputs(issuer):
    build = tags.build_f2
    args = (issuer.store_key, issuer.site_key, SITE)
    for trade, secret in (("12", "1"), ("abcd-1234", "1"), ("1234-5678", ""), ("1234-5678", "x" * 300)):
        with pytest.raises(ValueError):
            build(*args, trade, secret, tags.CHEAP)
    with pytest.raises(ValueError):
        build(issuer.store_key, b"short", SITE, "1234-5678", "1", tags.CHEAP)
    with pytest.raises(ValueError):
        build(*args, "1234-5678", "1", tags.CHEAP, salt=b"short")


# --- the known-answer vector of docs/tags.md ----------------------------------------------------

VECTOR_STORE_SEED = bytes(range(32))
VECTOR_SITE_KEY = bytes(range(32, 64))
VECTOR_SALT = bytes(range(16))


def vector(kind: str) -> str:
    store = Ed25519PrivateKey.from_private_bytes(VECTOR_STORE_SEED)
    build = tags.build_f1 if kind == "f1" else tags.build_f2
    return build(store, VECTOR_SITE_KEY, "example-site", "1234-5678", "424242", tags.CHEAP, salt=VECTOR_SALT)


def test_known_answer_vectors_match_the_document():
    doc = (__import__("pathlib").Path(__file__).parents[2] / "docs" / "tags.md").read_text(encoding="utf-8")
    for kind in ("f1", "f2"):
        text = vector(kind)
        assert text in doc, f"docs/tags.md does not show the {kind} vector: {text}"
        keys = TagKeys("example-site", Ed25519PrivateKey.from_private_bytes(VECTOR_STORE_SEED).public_key(),
                       VECTOR_SITE_KEY)
        assert tags.check_secret(tags.read(text, keys), "424242", keys) == "1234-5678"
