"""The store's side of F1/F2 tags, for simulations: tagged parcels, and the bad tags of a day.

``TagIssuer`` plays the store: it holds the store's signing key and the tag key it
shares with one site, makes parcels with F1 or F2 tags (a trade number, the secret the
recipient is told, the manifest entry the site gets, the tag text the label carries),
and hands the site its ``TagKeys``. The fault makers produce what a counter must refuse:
forged tags (signed by a key that is not the store's), swapped tags (a genuine tag of
another parcel), tags for another site, and reads cut short or damaged on the way.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.security import tags
from kiosk.security.tag_keys import SITE_KEY_BYTES, TagKeys
from hwsim.parcels import deadline_text, invent


@dataclass(frozen=True)
class TagParcel:
    trade_number: str
    secret: str = field(repr=False)   # what the recipient is told
    entry: dict                       # the manifest entry: trade number and method only
    tag: str                          # the text of the 2-D code on the parcel


@dataclass
class TagIssuer:
    """The store, as far as one site's tags go."""

    site_id: str
    params: tags.TagParams = tags.CHEAP
    store_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate, repr=False)
    site_key: bytes = field(default_factory=lambda: os.urandom(SITE_KEY_BYTES), repr=False)

    def keys(self) -> TagKeys:
        """What the site is given at set-up (its config's [tags])."""
        return TagKeys(self.site_id, self.store_key.public_key(), self.site_key)

    def tag(self, method: str, trade_number: str, secret: str) -> str:
        build = tags.build_f1 if method == "f1_tag" else tags.build_f2
        return build(self.store_key, self.site_key, self.site_id, trade_number, secret, self.params)

    def parcels(self, count: int, rng: random.Random, *, method: str, now: float,
                hold_s: float = 3 * 86400, taken: set[str] | None = None) -> list[TagParcel]:
        """``count`` new parcels verified by ``method`` ("f1_tag" or "f2_tag"); trade numbers
        avoid ``taken`` (and are added to it)."""
        if method not in ("f1_tag", "f2_tag"):
            raise ValueError("method must be f1_tag or f2_tag")
        taken = set() if taken is None else taken
        made = []
        while len(made) < count:
            trade, secret = invent(rng, taken)
            entry = {"trade_number": trade, "method": method, "amount_due": 0,
                     "hold_deadline": deadline_text(now, hold_s)}
            made.append(TagParcel(trade, secret, entry, self.tag(method, trade, secret)))
        return made


# --- what a counter must refuse ---------------------------------------------------------------

def forged(issuer: TagIssuer, parcel: TagParcel, secret: str | None = None) -> str:
    """A tag for ``parcel`` with a secret the forger chose, made by someone with the site's
    tag key but not the store's signing key (the strongest forger short of the store)."""
    fake = TagIssuer(issuer.site_id, issuer.params, Ed25519PrivateKey.generate(), issuer.site_key)
    return fake.tag(parcel.entry["method"], parcel.trade_number, secret or parcel.secret)


def foreign(issuer: TagIssuer, parcel: TagParcel, other_site: str = "another-site") -> str:
    """A genuine tag the store made for the same trade number at another site."""
    other = TagIssuer(other_site, issuer.params, issuer.store_key)
    return other.tag(parcel.entry["method"], parcel.trade_number, parcel.secret)


def truncated(tag: str, rng: random.Random) -> str:
    """The read cut short (a keyboard-wedge scan interrupted, a partial serial frame)."""
    return tag[:rng.randrange(1, len(tag) - 1)]


def damaged(tag: str, rng: random.Random, flips: int = 1) -> str:
    """A read with ``flips`` digits changed (what the check digits are for)."""
    digits = list(tag)
    for at in rng.sample(range(len(digits)), flips):
        digits[at] = rng.choice([d for d in "0123456789" if d != digits[at]])
    return "".join(digits)


def garbage(rng: random.Random) -> bytes:
    """Bytes off a noisy line, or a code that is not ours (a URL, a GS1 element string).
    Never a plausible trade number: a product's EAN-13 would be one, and is a different test."""
    kind = rng.randrange(3)
    if kind == 0:
        return b"\xff" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
    if kind == 1:
        return b"HTTPS://EXAMPLE.COM/P/" + str(rng.randrange(10**8)).encode()
    return b"01" + str(rng.randrange(10**13, 10**14)).encode() + b"\x1d10LOT" + str(rng.randrange(100)).encode()
