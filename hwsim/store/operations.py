"""What the store does for each message of the protocol (docs/api/PROTOCOL.md), HTTP aside.

Each method takes an already authenticated site and an already checked request
(hwsim.store.wire) and returns the document to send: ``contract.py`` signs it, applies
faults and writes it. Refusals are raised as ``wire.ApiError`` (``RateLimited`` for 429).

Online checks (``verify``, ``biometric_match``) count attempts per site and per parcel in
sliding windows on the injected clock, and lock a parcel after ``lock_after`` wrong
answers in a row. Central biometric matching uses the synthetic fingers' matcher
(hwsim.biometrics.fingers.same_finger): a capture of the enrolled finger matches, any
other template does not.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

from kiosk.clock import Clock, iso
from kiosk.security.keys import b64url, unb64url
from kiosk.security.secrets import verify_secret
from hwsim.biometrics.fingers import same_finger
from hwsim.store.db import OPEN_STATES, StoreDB
from hwsim.store.wire import ApiError, RateLimited

# Methods whose secret the manifest carries (as its hash) for a local check.
HASH_METHODS = ("secret", "locker", "f1_tag", "f2_tag", "token")
TEMPLATE_FORMAT = "opaque-v1"
MAX_ANCHORS = 1000


@dataclass(frozen=True)
class Limits:
    """How often a site, and a parcel, may ask for an online check; when a parcel locks."""

    site_max: int = 60
    site_window_s: float = 60.0
    parcel_max: int = 10
    parcel_window_s: float = 300.0
    lock_after: int = 5

    def __post_init__(self) -> None:
        if min(self.site_max, self.parcel_max, self.lock_after) < 1:
            raise ValueError("limits must be at least 1")
        if min(self.site_window_s, self.parcel_window_s) <= 0:
            raise ValueError("windows must be longer than 0 s")


class Operations:
    """The store's side of every message. Thread-safe (the database is)."""

    def __init__(self, db: StoreDB, clock: Clock, limits: Limits, page_size: int):
        if page_size < 1:
            raise ValueError("manifest_page_size must be at least 1")
        self.db = db
        self.clock = clock
        self.limits = limits
        self.page_size = page_size
        self._attempts_lock = threading.Lock()   # check-then-count is one step

    # --- manifest and set-up --------------------------------------------------------------

    def manifest(self, site_id: str, cursor: str | None, nonce: str, *, stale: bool = False) -> dict:
        """One page of changes after ``cursor``, answering the request ``nonce``, with the
        store's ``sequence`` (its change counter: it never goes down). ``stale`` (a fault): a
        page answering another cursor — the first page when a cursor was sent, else an empty
        page after the newest change. Raises ApiError 410 cursor_unknown, with a document
        to sign (so that a party in the middle cannot send the pickup point back to the start)."""
        current = self.db.current_change()
        since = 0
        if cursor is not None:
            if not cursor.isdigit() or len(cursor) > 18 or int(cursor) > current:
                raise ApiError("cursor_unknown", "this store did not issue that cursor; pull again without one", 410,
                               document={"site_id": site_id, "nonce": nonce, "cursor": cursor,
                                         "error": "cursor_unknown", "sequence": current})
            since = int(cursor)
        answered = cursor
        if stale:
            answered, since = (None, 0) if cursor is not None else (str(current), current)
        rows = self.db.changes(site_id, since, self.page_size + 1)
        more = len(rows) > self.page_size
        rows = rows[:self.page_size]
        parcels = [self._with_token(self._entry(r)) for r in rows if r["state"] in OPEN_STATES]
        cancelled = [r["trade_number"] for r in rows if r["state"] == "cancelled"]
        return {"site_id": site_id, "nonce": nonce, "sequence": current, "since": answered,
                "cursor": str(rows[-1]["change"] if rows else since), "complete": not more, "parcels": parcels,
                "cancelled": cancelled}

    @staticmethod
    def _entry(row) -> dict:
        entry = {"trade_number": row["trade_number"], "method": row["method"], "amount_due": row["amount_due"],
                 "hold_deadline": iso(row["hold_deadline"])}
        if row["method"] in HASH_METHODS and row["secret_hash"]:
            entry["secret_hash"] = row["secret_hash"]
        if row["locker_hint"] is not None:
            entry["locker_hint"] = row["locker_hint"]
        return entry

    def _with_token(self, entry: dict) -> dict:
        size, low_door, group, dropoff = self.db.placement(entry["trade_number"])
        if dropoff:
            entry["dropoff"] = True
        if size is not None:
            entry["size"] = size
        if low_door:
            entry["low_door"] = True
        if group is not None:
            entry["group"] = group
        if entry["method"] == "token":
            token_hash = self.db.token_hash(entry["trade_number"])
            if token_hash:
                entry["token_hash"] = token_hash
        return entry

    def setup(self, site_id: str) -> dict:
        return {"site_id": site_id, **self.db.setup(site_id)}

    # --- events and card signatures -------------------------------------------------------

    def receive_events(self, site_id: str, checked: tuple[list[tuple[int, dict]], list[dict]], nonce: str,
                       body: bytes) -> dict:
        """Keep the valid events (each id once); answer with what became of every one of
        them, bound to the request (``nonce``) and its exact body (``body_sha256``)."""
        valid, rejected = checked
        accepted, duplicates = self.db.receive_events(site_id, [e for _, e in valid], self.clock.now())
        return {"site_id": site_id, "nonce": nonce, "body_sha256": hashlib.sha256(body).hexdigest(),
                "accepted": accepted, "duplicates": duplicates, "rejected": rejected}

    def audit_anchors(self, site_id: str, nonce: str) -> dict:
        """The audit-chain heads the site sent (newest MAX_ANCHORS), for ``kiosk audit verify --against-store``."""
        return {"site_id": site_id, "nonce": nonce, "anchors": self.db.audit_anchors(site_id, MAX_ANCHORS)}

    def card_signature(self, site_id: str, upload: dict, nonce: str, body: bytes) -> dict:
        """Keep the signature (once); the answer is bound to the request (``nonce``) and its
        exact body, like an events acknowledgement. Raises ApiError 404 unknown_parcel."""
        if self.db.parcel(site_id, upload["trade_number"]) is None:
            raise ApiError("unknown_parcel", f"parcel {upload['trade_number']} was never sent to this site", 404)
        self.db.add_card_signature(site_id, upload, self.clock.now())
        return {"site_id": site_id, "nonce": nonce, "body_sha256": hashlib.sha256(body).hexdigest(), "stored": True}

    # --- online checks --------------------------------------------------------------------

    def verify(self, site_id: str, request: dict) -> dict:
        """The answer to an online secret check. Raises RateLimited, ApiError 409 wrong_method."""
        trade = request["trade_number"]
        self._first_use(site_id, request["request_id"])
        self._count_attempt(site_id, trade)
        row = self.db.parcel(site_id, trade)
        result = "unknown"
        if row is not None and row["state"] in OPEN_STATES and row["secret_hash"]:
            if row["method"] != request["method"]:
                raise ApiError("wrong_method", f"parcel {trade} is verified by {row['method']}, "
                                               f"not {request['method']}", 409)
            result = self._judge(site_id, row, lambda: verify_secret(request["secret"], row["secret_hash"]))
        return {"trade_number": trade, "request_id": request["request_id"], "result": result}

    def biometric_reference(self, site_id: str, trade_number: str) -> dict:
        """The reference template for local matching. Raises ApiError 404 unknown_parcel."""
        row = self.db.parcel(site_id, trade_number)
        template = self.db.biometric_template(trade_number) if row is not None else None
        if row is None or row["state"] not in OPEN_STATES or row["method"] != "biometric" or template is None:
            raise ApiError("unknown_parcel", f"no biometric parcel {trade_number} is to be handed over here", 404)
        return {"site_id": site_id, "trade_number": trade_number, "format": TEMPLATE_FORMAT,
                "template": b64url(template)}

    def biometric_match(self, site_id: str, request: dict) -> dict:
        """Central matching (synthetic fingers). Raises RateLimited, ApiError 409."""
        trade = request["trade_number"]
        self._first_use(site_id, request["request_id"])
        self._count_attempt(site_id, trade)
        row = self.db.parcel(site_id, trade)
        template = self.db.biometric_template(trade) if row is not None else None
        result = "unknown"
        if row is not None and row["state"] in OPEN_STATES and template is not None:
            if row["method"] != "biometric":
                raise ApiError("wrong_method", f"parcel {trade} is verified by {row['method']}, not biometric", 409)
            offered = unb64url(request["template"])
            result = self._judge(site_id, row, lambda: same_finger(template, offered))
        # The offered template is not kept: it goes out of scope here.
        return {"trade_number": trade, "request_id": request["request_id"], "result": result}

    def _judge(self, site_id: str, row, check) -> str:
        if row["locked"]:
            return "locked"
        if check():
            self.db.record_outcome(site_id, row["trade_number"], True, self.limits.lock_after)
            return "match"
        locked = self.db.record_outcome(site_id, row["trade_number"], False, self.limits.lock_after)
        return "locked" if locked else "mismatch"

    def _first_use(self, site_id: str, request_id: str) -> None:
        """A check is asked once: a request_id seen before is a replay. Raises ApiError 409."""
        if not self.db.first_use_of_request_id(site_id, request_id, self.clock.now()):
            raise ApiError("request_id_reused", "this request_id was used before; a check is asked once", 409)

    def _count_attempt(self, site_id: str, trade_number: str) -> None:
        """Count one attempt, or raise RateLimited when the site or the parcel asks too often."""
        lim = self.limits
        with self._attempts_lock:
            now = self.clock.now()
            waits = []
            for key, most, window in ((None, lim.site_max, lim.site_window_s),
                                      (trade_number, lim.parcel_max, lim.parcel_window_s)):
                times = self.db.attempts_since(site_id, key, now - window)
                if len(times) >= most:
                    waits.append(times[len(times) - most] + window - now)
            if waits:
                retry = max(1, math.ceil(max(waits)))
                raise RateLimited(f"too many checks; ask again in {retry} s", retry)
            self.db.add_attempt(site_id, trade_number, now, now - max(lim.site_window_s, lim.parcel_window_s))

    # --- time ----------------------------------------------------------------------------

    def time(self, nonce: str | None) -> dict:
        doc = {"now": iso(self.clock.now())}
        if nonce is not None:
            doc["nonce"] = nonce
        return doc
