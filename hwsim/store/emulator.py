"""StoreEmulator: the store backend on loopback, with its control API (tests and scenarios).

    with StoreEmulator(tmp_path / "store", clock=clock) as store:      # listening on port 0
        store.register_site("sim-0001", site_public_key_text)
        parcel = store.create_parcel("sim-0001")                        # what the recipient is told
        store.set_fault("timeout_after_processing", times=1)
        ...
        store.events("sim-0001"), store.duplicates_received, store.requests

It keeps its own SQLite (``store.db``) and Ed25519 key (``store_key.pem``, 0600) in its
folder, so a restarted emulator is the same store. It speaks docs/api/PROTOCOL.md on one
loopback port; the admin API (``/_admin/``, not part of the contract) listens on another
one only when asked (``start(admin_port=…)``), so that faults on the store's port, even
``down``, never cut off the technician's controls.
"""

from __future__ import annotations

import random
import re
import secrets
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from hwsim.biometrics.fingers import enrol
from kiosk.clock import Clock, SystemClock
from kiosk.domain.compartments import SIZES
from kiosk.domain.parcels import METHODS
from kiosk.errors import InvalidTransition, UnknownParcel
from kiosk.security.keys import load_or_create_site_key, load_public_key, public_key_text
from kiosk.security.secrets import HashParams, hash_secret
from hwsim.history import History
from hwsim.store import wire
from hwsim.store.admin import AdminApp
from hwsim.store.contract import ContractApp, RequestRecord
from hwsim.store.db import OPEN_STATES, StoreDB
from hwsim.store.faults import Faults
from hwsim.store.operations import Limits, Operations
from hwsim.store.server import Listener, check_loopback

LOCKER_SIZES = ("S", "M", "L")


@dataclass(frozen=True)
class CreatedParcel:
    """What the recipient would be told: the trade number and the secret (or, for a
    biometric parcel, nothing to remember: ``template`` is the enrolled reference)."""

    trade_number: str
    secret: str | None
    template: bytes | None = None
    token_id: str | None = None    # a token parcel (F4): the id of the token that travels on it


class StoreEmulator:
    """An emulated store backend. Control methods are thread-safe and work before start()."""

    def __init__(self, folder: Path, *, clock: Clock | None = None, hash_params: HashParams | None = None,
                 seed: int | None = None, limits: Limits | None = None, manifest_page_size: int = 200):
        """``hash_params``: the cost of the Argon2id hashes of new parcels' secrets (default:
        kiosk.security.secrets' defaults; tests pass cheap ones). ``seed``: repeatable trade
        numbers, secrets and fault dice (default: a CSPRNG for parcels, seed 0 for faults).
        ``limits``: online-check rate limits and lock-out. ``manifest_page_size``: parcels per
        manifest page. Raises KeyFileError (the store key is unusable), ValueError."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.clock = clock or SystemClock()
        self.hash_params = hash_params or HashParams()
        self._key = load_or_create_site_key(self.folder / "store_key.pem")
        self._db = StoreDB(self.folder / "store.db")
        self._rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
        self._faults = Faults(seed or 0)
        self.history = History()
        self._ops = Operations(self._db, self.clock, limits or Limits(), manifest_page_size)
        self._listener = Listener(ContractApp(self._ops, self._faults, self._key, self.history, self.clock),
                                  "hwsim-store")
        self._admin: Listener | None = None
        self._host = "127.0.0.1"
        self._started = False

    # --- life ----------------------------------------------------------------------------

    def start(self, port: int = 0, *, host: str = "127.0.0.1", admin_port: int | None = None) -> str:
        """Listen on ``host:port`` (loopback only; 0 = a free port) and return the base URL.
        ``admin_port`` also opens the admin API. Raises ValueError (not loopback), OSError."""
        host = check_loopback(host)
        if not self._started:
            self._host = host
            if not self._faults.is_set("down"):
                self._listener.start(host, port)
            else:   # down from the start: keep a port for later, listen when the fault ends
                self._listener.port = port or _free_port(host)
            self._started = True
        if admin_port is not None and self._admin is None:
            admin = Listener(AdminApp(self), "hwsim-store-admin")
            admin.start(host, admin_port)
            self._admin = admin
        return self.url

    def stop(self) -> None:
        """Stop listening (both ports) and join every thread. Idempotent; start() may follow."""
        self._listener.stop()
        if self._admin is not None:
            self._admin.stop()
            self._admin = None
        self._started = False

    def close(self) -> None:
        """stop(), then close the database: the emulator is finished."""
        self.stop()
        self._db.close()

    def __enter__(self) -> "StoreEmulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.url if self._started else "stopped"
        return f"<StoreEmulator {self.folder} {where}>"

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT``); the port is kept while ``down``."""
        return f"http://{self._host}:{self._listener.port}"

    @property
    def admin_url(self) -> str | None:
        return f"http://{self._host}:{self._admin.port}" if self._admin is not None else None

    @property
    def public_key_text(self) -> str:
        """The store's Ed25519 public key, base64url: what a site pins as ``[store] public_key``."""
        return public_key_text(self._key.public_key())

    # --- sites ---------------------------------------------------------------------------

    def register_site(self, site_id: str, public_key_text: str) -> None:
        """Register (or re-key) a site. Raises ValueError (bad site id or key)."""
        if not isinstance(site_id, str) or not wire.SITE_ID.fullmatch(site_id):
            raise ValueError("a site id is 1..64 of A-Z a-z 0-9 _ -, first a letter or digit")
        load_public_key(public_key_text)
        setup = {"lockers": [{"number": n, "size": "M"} for n in range(1, 9)], "hold_days": 3,
                 "reminder_hours": [24, 48]}
        self._db.register_site(site_id, public_key_text, self.clock.now(), setup)

    def set_setup(self, site_id: str, *, lockers: list[tuple[int, str]], hold_days: int = 3,
                  reminder_hours: tuple[int, ...] = (24, 48)) -> None:
        """The locker set-up the site will fetch. Raises ValueError, LookupError (unknown site)."""
        if not lockers or any(not isinstance(n, int) or n < 1 or s not in LOCKER_SIZES for n, s in lockers):
            raise ValueError(f"lockers are (number ≥ 1, size in {LOCKER_SIZES}) pairs")
        if hold_days < 1 or any(h < 1 for h in reminder_hours):
            raise ValueError("hold_days and reminder_hours are at least 1")
        setup = {"lockers": [{"number": n, "size": s} for n, s in lockers], "hold_days": hold_days,
                 "reminder_hours": list(reminder_hours)}
        if not self._db.set_setup(site_id, setup):
            raise LookupError(f"site {site_id} is not registered")

    # --- parcels -------------------------------------------------------------------------

    def create_visit(self, site_id: str, count: int, *, secret: str | None = None, **options) -> list[CreatedParcel]:
        """``count`` parcels for one recipient under one pickup code (the same secret, one
        fresh group id): one visit collects them all (issue 15 §1)."""
        if not 2 <= count <= 20:
            raise ValueError("a visit groups 2..20 parcels")
        group = f"V{self._rng.randrange(16**12):012X}"
        secret = secret if secret is not None else f"{self._rng.randrange(10**6):06d}"
        return [self.create_parcel(site_id, "locker", secret=secret, group=group, **options) for _ in range(count)]

    def create_parcel(self, site_id: str, method: str = "locker", *, secret: str | None = None,
                      amount_due: int = 0, hold_s: float = 3 * 86400, locker_hint: int | None = None,
                      template: bytes | None = None, trade_number: str | None = None,
                      token_id: str | None = None, size: str | None = None, low_door: bool = False,
                      group: str | None = None, dropoff: bool = False) -> CreatedParcel:
        """Make a parcel for ``site_id``: unless given, a fresh trade number (NNNN-NNNN) and a
        6-digit secret (a biometric parcel gets a random reference ``template`` instead; a
        token parcel also a random EM4100 ``token_id``, kept only as a slow hash too).
        Only the secret's Argon2id hash is kept. Raises ValueError (bad argument, trade number
        taken), LookupError (unknown site)."""
        if trade_number is not None and not (isinstance(trade_number, str)
                                             and wire.TRADE_NUMBER.fullmatch(trade_number)):
            raise ValueError("a trade number is 4..40 of 0-9 A-Z -, first a letter or digit")
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        if self._db.site_key(site_id) is None:
            raise LookupError(f"site {site_id} is not registered")
        if isinstance(amount_due, bool) or not isinstance(amount_due, int) or amount_due < 0:
            raise ValueError("amount_due is a whole number ≥ 0 (minor units)")
        if locker_hint is not None and (isinstance(locker_hint, bool) or not isinstance(locker_hint, int)
                                        or locker_hint < 1):
            raise ValueError("locker_hint is a locker number ≥ 1")
        if not hold_s > 0:
            raise ValueError("hold_s must be more than 0")
        if size is not None and size not in SIZES:
            raise ValueError(f"size is one of {', '.join(SIZES)}")
        if not isinstance(low_door, bool):
            raise ValueError("low_door is true or false")
        if dropoff is not False and (dropoff is not True or method not in ("secret", "locker")):
            raise ValueError("a parcel to send (dropoff) is a secret or locker parcel: its code is the drop-off code")
        if group is not None and not (isinstance(group, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", group)):
            raise ValueError("a group is 1-64 of A-Z a-z 0-9 - _")
        if method == "biometric":
            template = template if template is not None else enrol(self._rng.randrange(1, 10**6))
            if not isinstance(template, bytes) or not 1 <= len(template) <= 12 * 1024:
                raise ValueError("a template is 1..12288 bytes")
            secret = None
        elif template is not None:
            raise ValueError("only a biometric parcel has a template")
        else:
            secret = secret if secret is not None else f"{self._rng.randrange(10**6):06d}"
            if not isinstance(secret, str) or not 1 <= len(secret) <= 64:
                raise ValueError("a secret is 1..64 characters")
        if method == "token":
            token_id = (token_id if token_id is not None else f"{self._rng.randrange(1 << 40):010X}").upper()
            if not re.fullmatch(r"[0-9A-F]{10}", token_id):
                raise ValueError("a token id is ten hex digits (EM4100)")
        elif token_id is not None:
            raise ValueError("only a token parcel has a token id")
        token_hash = hash_secret(token_id, self.hash_params) if token_id is not None else None
        now = self.clock.now()
        while True:
            trade = trade_number or f"{self._rng.randrange(1000, 10000)}-{self._rng.randrange(10000):04d}"
            parcel = {"trade_number": trade, "site_id": site_id, "method": method,
                      "secret_hash": hash_secret(secret, self.hash_params) if secret is not None else None,
                      "amount_due": amount_due, "hold_deadline": now + hold_s, "locker_hint": locker_hint}
            try:
                self._db.add_parcel(parcel, now, template, token_hash, size, low_door, group, dropoff)
            except sqlite3.IntegrityError:
                if trade_number:
                    raise ValueError(f"trade number {trade_number} is taken") from None
                continue  # that trade number is taken: draw again
            return CreatedParcel(trade, secret, template, token_id)

    def cancel_parcel(self, site_id: str, trade_number: str) -> None:
        """The parcel is no longer to be handed over: it goes into the next manifest's
        ``cancelled``. Raises UnknownParcel, InvalidTransition (already collected or returned)."""
        row = self._db.parcel(site_id, trade_number)
        if row is None:
            raise UnknownParcel(f"no parcel {trade_number} at site {site_id}")
        if row["state"] == "cancelled":
            return
        if row["state"] not in OPEN_STATES:
            raise InvalidTransition(f"parcel {trade_number} is {row['state']}; it cannot be cancelled")
        self._db.set_parcel_state(site_id, trade_number, "cancelled", store_change=True)

    def parcel_state(self, site_id: str, trade_number: str) -> str:
        """The parcel's state as the store knows it. Raises UnknownParcel."""
        row = self._db.parcel(site_id, trade_number)
        if row is None:
            raise UnknownParcel(f"no parcel {trade_number} at site {site_id}")
        return "locked" if row["locked"] and row["state"] in OPEN_STATES else row["state"]

    def reset_attempts(self, site_id: str, trade_number: str) -> None:
        """Unlock a parcel locked by wrong online answers. Raises UnknownParcel."""
        if not self._db.reset_attempts(site_id, trade_number):
            raise UnknownParcel(f"no parcel {trade_number} at site {site_id}")

    # --- what the store received ---------------------------------------------------------

    def events(self, site_id: str | None = None) -> list[dict]:
        """Received events in arrival order, each once, with ``duplicates`` (how often it came
        again) and ``conflicts`` (how many of those repeats differed from the first)."""
        return self._db.events(site_id)

    @property
    def duplicates_received(self) -> int:
        return self._db.duplicates_total()

    @property
    def out_of_order_received(self) -> int:
        """Events that arrived after a later one (higher seq) about the same parcel."""
        newest: dict[tuple[str, str], int] = {}
        late = 0
        for event in self._db.events():
            if event["trade_number"] is None:
                continue
            key = (event["site_id"], event["trade_number"])
            if event["seq"] < newest.get(key, -1):
                late += 1
            newest[key] = max(event["seq"], newest.get(key, -1))
        return late

    def audit_anchors(self, site_id: str) -> list[dict]:
        """The audit-chain heads the site sent (``{seq, hash, created_at}``), oldest first."""
        return self._db.audit_anchors(site_id, 1_000_000)

    def card_signatures(self, site_id: str | None = None) -> list[dict]:
        return self._db.card_signatures(site_id)

    # --- faults and history --------------------------------------------------------------

    def set_fault(self, name: str, **params) -> None:
        """Put a fault in force (see hwsim.store.faults). Raises ValueError."""
        self._faults.set(name, **params)
        self.history.record("store", "fault", name=name, params=params)
        if name == "down" and self._started:
            self._listener.stop()

    def clear_faults(self, name: str | None = None) -> None:
        """End one fault, or all. Ending ``down`` listens again on the same port. Raises OSError."""
        was_down = self._faults.is_set("down")
        self._faults.clear(name)
        self.history.record("store", "fault_cleared", name=name or "all")
        if was_down and not self._faults.is_set("down") and self._started:
            self._listener.start(self._host, self._listener.port)

    @property
    def faults(self) -> dict[str, dict]:
        return self._faults.active()

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request the store answered (or dropped), oldest first."""
        return [e.detail["record"] for e in self.history.entries("store", "request")]


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
