"""Demo and test parcels, made the way the store makes them.

The store (here: this module, until the store emulator lands) invents a trade number and
a secret per parcel, tells the recipient the secret, and sends the pickup point only the
Argon2id hash in the manifest. ``make_parcels`` returns both halves: the manifest entries
(what the kiosk gets) and the secrets (what recipients would be told).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, UTC

from kiosk.security.secrets import HashParams, hash_secret


@dataclass(frozen=True)
class DemoParcel:
    trade_number: str
    secret: str
    entry: dict  # the manifest entry: no secret, only its hash


def invent(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A fresh trade number (not in ``taken``, which it joins) and a 6-digit secret, as the store makes them."""
    while True:
        trade = f"{rng.randrange(1000, 10000)}-{rng.randrange(1000, 10000)}"
        if trade not in taken:
            taken.add(trade)
            return trade, f"{rng.randrange(0, 10**6):06d}"


def deadline_text(now: float, hold_s: float) -> str:
    """The manifest's hold deadline: ISO 8601 in UTC."""
    return datetime.fromtimestamp(now + hold_s, tz=UTC).isoformat().replace("+00:00", "Z")


def make_parcels(count: int, rng: random.Random, params: HashParams, *, now: float,
                 hold_s: float = 3 * 86400, method: str = "locker", amount_due: int = 0) -> list[DemoParcel]:
    made, seen = [], set()
    while len(made) < count:
        trade, secret = invent(rng, seen)
        entry = {"trade_number": trade, "method": method, "secret_hash": hash_secret(secret, params),
                 "amount_due": amount_due, "hold_deadline": deadline_text(now, hold_s)}
        made.append(DemoParcel(trade, secret, entry))
    return made


def manifest_document(parcels: list[DemoParcel]) -> dict:
    return {"version": 1, "parcels": [p.entry for p in parcels]}
