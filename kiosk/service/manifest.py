"""The manifest: the parcels the store says are coming to this pickup point.

For now a JSON file (the store-sync issue brings it over the network, signed)::

    {"version": 1,
     "parcels": [{"trade_number": "1234-5678", "method": "locker",
                  "secret_hash": "$argon2id$v=19$m=...", "amount_due": 0,
                  "hold_deadline": "2026-11-28T12:00:00Z", "locker_hint": 3}]}

No personal data: a trade number, how it is verified, the hash of the secret, money due,
a deadline. Importing is idempotent: a parcel already known is left as it is (its state
here is the truth), so importing the same file twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from pathlib import Path

from kiosk.domain.parcels import METHODS, Parcel, normalise_trade_number, valid_trade_number
from kiosk.errors import ConfigError
from kiosk.security.secrets import is_valid_hash
from kiosk.domain.compartments import check_size
from kiosk.service.site import Site
from kiosk.service.events import EventKind
from kiosk.sync.settings import FALLBACK_LOCAL, ONLINE, VerificationSettings

GROUP = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEYS = {"trade_number", "method", "secret_hash", "amount_due", "hold_deadline", "locker_hint", "token_hash",
         "size", "low_door", "group", "dropoff"}


def parse(data: dict | list, where: str = "manifest") -> list[Parcel]:
    """Check a manifest document; raises ConfigError listing every bad entry."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("parcels"), list):
        raise ConfigError([("", 'expected {"version": 1, "parcels": [...]}')], where)
    parcels, seen = [], set()
    for i, entry in enumerate(data["parcels"]):
        key = f"parcels[{i}]"
        if not isinstance(entry, dict):
            problems.append((key, "must be an object"))
            continue
        extra = set(entry) - _KEYS
        if extra:
            problems.append((key, f"unknown field(s) {', '.join(sorted(extra))} (no personal data belongs here)"))
            continue
        trade = normalise_trade_number(str(entry.get("trade_number", "")))
        if not valid_trade_number(trade):
            problems.append((f"{key}.trade_number", "missing or not a trade number (4-40 of 0-9 A-Z -)"))
            continue
        if trade in seen:
            problems.append((f"{key}.trade_number", f"{trade} appears twice"))
            continue
        method = entry.get("method")
        if method not in METHODS:
            problems.append((f"{key}.method", f"must be one of {', '.join(METHODS)}"))
            continue
        secret_hash = entry.get("secret_hash")
        if method in ("locker", "secret") and not is_valid_hash(secret_hash):
            problems.append((f"{key}.secret_hash", "must be an Argon2id hash within the allowed cost"))
            continue
        token_hash = entry.get("token_hash")
        # A 125 kHz token's id is bound here (token_hash, with the secret's hash); an NFC token
        # carries the store-signed tag itself and needs neither.
        if method == "token" and token_hash is not None and not (is_valid_hash(token_hash)
                                                                 and is_valid_hash(secret_hash)):
            problems.append((f"{key}.token_hash", "a 125 kHz token parcel needs its token's and its secret's "
                                                  "Argon2id hashes"))
            continue
        if method != "token" and token_hash is not None:
            problems.append((f"{key}.token_hash", "only a token parcel has one"))
            continue
        amount = entry.get("amount_due", 0)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            problems.append((f"{key}.amount_due", "must be a whole number ≥ 0 (minor units)"))
            continue
        hint = entry.get("locker_hint")
        if hint is not None and (isinstance(hint, bool) or not isinstance(hint, int) or hint < 1):
            problems.append((f"{key}.locker_hint", "must be a locker number ≥ 1"))
            continue
        size = entry.get("size")
        if size is not None and (why := check_size(size)):
            problems.append((f"{key}.size", why))
            continue
        low_door = entry.get("low_door", False)
        if not isinstance(low_door, bool):
            problems.append((f"{key}.low_door", "must be true or false"))
            continue
        dropoff = entry.get("dropoff", False)
        if not isinstance(dropoff, bool) or (dropoff and method not in ("secret", "locker")):
            problems.append((f"{key}.dropoff", "must be true or false; a parcel to send has a drop-off code "
                                               "(method secret or locker)"))
            continue
        group = entry.get("group")
        if group is not None and not (isinstance(group, str) and GROUP.fullmatch(group)):
            problems.append((f"{key}.group", "must be 1-64 of A-Z a-z 0-9 - _ (an opaque id, never a name)"))
            continue
        try:
            deadline = _timestamp(entry.get("hold_deadline"))
        except ValueError as err:
            problems.append((f"{key}.hold_deadline", str(err)))
            continue
        seen.add(trade)
        parcels.append(Parcel(trade, method, secret_hash=secret_hash, amount_due=amount,
                              hold_deadline=deadline, locker_hint=hint, token_hash=token_hash,
                              size=size, low_door=low_door, visit_group=group, dropoff=dropoff))
    if problems:
        raise ConfigError(problems, where)
    return parcels


def _timestamp(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 time such as 2026-11-28T12:00:00Z") from None
        if moment.tzinfo is None:
            raise ValueError("must say its time zone (e.g. Z or +09:00)")
        return moment.timestamp()
    raise ValueError("must be an ISO 8601 time string")


def load_file(path: str | Path) -> list[Parcel]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError([("", f"cannot read the manifest: {err}")], str(path)) from None
    return parse(data, str(path))


TAG_METHODS = ("f1_tag", "f2_tag")


def keeps_plain_hash(settings: VerificationSettings, method: str) -> bool:
    """Does this site need a parcel's plain ``secret_hash``?

    Always for the plain-secret methods. For tag methods (F1/F2) only where the method is
    checked online with a local fallback: anywhere else the tag is the one protection of
    the secret, and a plain Argon2id hash beside it would be a cheaper target needing no
    site tag key (docs/tags.md, threat model)."""
    if method not in TAG_METHODS:
        return True
    return settings.mode(method) == ONLINE and settings.fallback == FALLBACK_LOCAL


def _as_kept(settings: VerificationSettings, parcel: Parcel) -> Parcel:
    if parcel.secret_hash is None or keeps_plain_hash(settings, parcel.method):
        return parcel
    return dataclasses.replace(parcel, secret_hash=None)


def drop_unneeded_hashes(site: Site) -> int:
    """Forget the plain hashes of tag parcels that this site's settings no longer need
    (e.g. online checking was switched off). Returns how many were dropped."""
    settings = site.config.verification
    methods = [m for m in TAG_METHODS if not keeps_plain_hash(settings, m)]
    if not methods:
        return 0
    with site.db.transaction(site.now()) as tx:
        dropped = tx.drop_secret_hashes(methods)
        if dropped:
            tx.audit("controller", "secret_hashes_dropped", None, count=dropped, methods=",".join(methods))
    return dropped


def import_parcels(site: Site, parcels: list[Parcel], source: str) -> int:
    """Add the parcels not yet known, in one transaction. Returns how many were new."""
    now = site.now()
    added = 0
    settings = site.config.verification
    with site.db.transaction(now) as tx:
        for parcel in parcels:
            if tx.parcel(parcel.trade_number) is None:
                tx.save_parcel(_as_kept(settings, parcel))
                tx.audit("store", "parcel_expected", parcel.trade_number, method=parcel.method, source=source)
                added += 1
    if added:
        site.bus.publish(EventKind.MANIFEST_IMPORTED, now, added=added)
    return added
