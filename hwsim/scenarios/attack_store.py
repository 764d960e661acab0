"""Attacks on the store link (issue 8 §2, §3), run against the real controller and client
and the store emulator over loopback — the proofs of concept of the red team, kept as a
scenario so that they keep failing.

    replay      captured site requests sent again verbatim: a manifest pull (every new
                parcel's secret hash), wrong-secret checks (which would lock the parcel at
                the store), an events batch; and a captured manifest pull re-sent later
    forged_ack  a party answering HTTP for the store acknowledges a batch: unsigned (as in
                v1.0), signed with another key, or with a genuine acknowledgement of another
                request — the receipt notices must stay pending
    rollback    a parcel cancelled by the store: a forged 410 plus the old, genuinely signed
                page that still lists it; the old page alone; a signed 410 replayed
    audit       with the disk in hand after a shutdown: the log's tail deleted; an entry
                rewritten and the chain recomputed (both pass the chain check alone)

    from hwsim.scenarios.attack_store import run_attacks
    figures = run_attacks(folder, seed)     # or: await attacks(folder, seed) inside a loop

Returns ``attacks_run`` and, all of which must be 0, ``replays_accepted``,
``forged_acks_accepted``, ``rollbacks_accepted``, ``audit_rewrites_undetected``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sqlite3
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.scenarios import attack_books as books
from hwsim.site import FAST_HASH, SimSite, register_site, store_config, write_config
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.errors import SyncError
from kiosk.security.keys import load_or_create_site_key, sign
from kiosk.service import anchoring
from kiosk.service.controller import Controller
from kiosk.storage import audit
from kiosk.storage.database import Reader
from kiosk.sync.client import StoreClient

SITE = "sim-site"
START = 1_800_000_000.0
LINK = {"timeout_s": 2.0, "backoff_initial_s": 1.0, "backoff_max_s": 30.0, "manifest_interval_s": 3600,
        "anchor_interval_s": 3600}


@dataclass
class Exchange:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    reply: bytes = b""


@dataclass
class Wire:
    """The site's HTTP transport with a party in the middle: it records every exchange and,
    when ``answer`` is set, answers a request itself instead of the store (None: pass it on)."""

    inner: httpx.AsyncBaseTransport = field(default_factory=lambda: httpx.AsyncHTTPTransport(retries=0))
    log: list[Exchange] = field(default_factory=list)
    answer: Callable[[httpx.Request], httpx.Response | None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        seen = Exchange(request.method, str(request.url), dict(request.headers), body)
        self.log.append(seen)
        forged = self.answer(request) if self.answer else None
        if forged is not None:
            seen.status, seen.reply = forged.status_code, forged.content
            return forged
        response = await self.inner.handle_async_request(request)
        seen.reply = await response.aread()
        seen.status = response.status_code
        return httpx.Response(response.status_code, headers=response.headers, content=seen.reply)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def last(self, method: str, path_end: str, status: int = 200) -> Exchange:
        return [e for e in self.log if e.method == method and httpx.URL(e.url).path.endswith(path_end)
                and e.status == status][-1]


@dataclass
class Figures:
    attacks_run: int = 0
    replays_accepted: int = 0
    forged_acks_accepted: int = 0
    rollbacks_accepted: int = 0
    audit_rewrites_undetected: int = 0
    notes: list[str] = field(default_factory=list)


def _replay(store: StoreEmulator, seen: Exchange) -> int:
    """Send a captured request again, byte for byte, headers and all. Returns the status."""
    keep = {k: v for k, v in seen.headers.items()
            if k.lower() in ("x-site-id", "x-site-timestamp", "x-site-nonce", "x-site-signature", "content-type")}
    url = httpx.URL(seen.url)
    with httpx.Client(base_url=store.url, trust_env=False, timeout=10.0) as http:
        target = url.raw_path.decode("ascii")
        return http.request(seen.method, target, content=seen.body or None, headers=keep).status_code


class AttackDay:
    def __init__(self, folder: Path, seed: int):
        self.folder = folder
        self.rng = random.Random(seed)
        self.seed = seed
        self.clock = ManualClock(START + self.rng.randrange(86400))
        self.store = StoreEmulator(folder / "store", clock=self.clock, hash_params=FAST_HASH, seed=seed)
        self.wire = Wire()
        self.figures = Figures()
        self.controller: Controller | None = None
        self.site: SimSite | None = None

    @property
    def c(self) -> Controller:
        assert self.controller is not None
        return self.controller

    async def boot(self) -> None:
        self.store.start()
        extra = store_config(self.store, verification={"locker": "online"}, **LINK)
        config = load(write_config(self.folder / "site", locks="gpio", doors=6, extra=extra))
        register_site(config, self.store)
        self.controller = Controller(config, clock=self.clock, rng=random.Random(self.seed),
                                     store_transport=self.wire)
        await self.c.start()
        await self.c.sync.settle()
        self.site = SimSite(self.c, self.clock, store=self.store)

    async def settle(self, seconds: float = 0.0) -> None:
        self.clock.advance(seconds)
        self.c.tick()
        await self.c.sync.settle()

    # --- replay ----------------------------------------------------------------------------

    async def replays(self) -> None:
        f = self.figures
        made = self.store.create_parcel(SITE)
        await self.c.pull_manifest()
        pull = self.wire.last("GET", "/manifest")
        await self.site.deposit(made)
        with self.c.site.db.transaction(self.clock.now()) as tx:
            tx.audit("clerk", "drill", None, step="replay")
        for _ in range(3):   # wrong secrets at the kiosk: each one an online check
            try:
                await self.c.submit_code(made.trade_number, _wrong(made.secret))
            except Exception:   # noqa: BLE001 - CodeInvalid / NotCollectable: the check was made
                pass
            await self.settle(6)
        check = self.wire.last("POST", "/verify")
        batch = self.wire.last("POST", "/events")
        new = self.store.create_parcel(SITE)            # a parcel the replayed pull would reveal
        for seen in (pull, batch):
            f.attacks_run += 1
            f.replays_accepted += _replay(self.store, seen) == 200
        for _ in range(6):                              # enough to lock the parcel at the store, if accepted
            f.attacks_run += 1
            f.replays_accepted += _replay(self.store, check) == 200
        if self.store.parcel_state(SITE, made.trade_number) != "arrived":
            f.replays_accepted += 1
            f.notes.append("replayed wrong-secret checks locked a parcel at the store")
        self.clock.advance(120)                          # later: stale as well as used
        f.attacks_run += 1
        f.replays_accepted += _replay(self.store, pull) == 200
        if not self.c.site.db.parcel(new.trade_number):
            await self.c.pull_manifest()   # the honest pull still sees it

    # --- forged acknowledgements --------------------------------------------------------------

    async def forged_acks(self) -> None:
        f = self.figures
        await self.settle(1)
        genuine = self.wire.last("POST", "/events")
        attacker = Ed25519PrivateKey.generate()

        def unsigned(request: httpx.Request) -> httpx.Response:
            ids = [e["event_id"] for e in _events(request)]
            return httpx.Response(200, json={"accepted": ids, "duplicates": []})

        def wrong_key(request: httpx.Request) -> httpx.Response:
            ids = [e["event_id"] for e in _events(request)]
            doc = {"site_id": SITE, "nonce": request.headers["X-Site-Nonce"],
                   "body_sha256": _sha256(request.content), "accepted": ids, "duplicates": [], "rejected": []}
            return httpx.Response(200, json={"document": doc, "signature": sign(attacker, doc)})

        def replayed(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=genuine.reply, headers={"Content-Type": "application/json"})

        for name, forge in (("unsigned", unsigned), ("wrong_key", wrong_key), ("replayed", replayed)):
            with self.c.site.db.transaction(self.clock.now()) as tx:
                event_id = tx.emit("device_health", None, component="drill", problem=name, at=tx.now)
            self.wire.answer = lambda r, forge=forge: forge(r) if r.url.path.endswith("/events") else None
            await self.settle(LINK["backoff_max_s"] + 1)   # past any backoff: the pump sends now
            self.wire.answer = None
            f.attacks_run += 1
            sent_here = [e for e in self.c.site.db.outbox() if e["event_id"] == event_id][0]["sent_at"] is not None
            at_store = any(e["event_id"] == event_id for e in self.store.events(SITE))
            if sent_here and not at_store:
                f.forged_acks_accepted += 1
                f.notes.append(f"a {name} acknowledgement marked an event sent that the store never got")
        await self._deliver()

    async def _deliver(self) -> None:
        for _ in range(20):
            await self.settle(LINK["backoff_max_s"] + 1)
            if self.c.site.db.pending_summary()[0] == 0:
                return
        self.figures.notes.append("events still pending after the attacks")

    # --- rollback ------------------------------------------------------------------------------

    async def rollbacks(self) -> None:
        f = self.figures
        doomed = self.store.create_parcel(SITE)
        await self.c.pull_manifest()
        old_page = self.wire.last("GET", "/manifest")    # genuinely signed, lists `doomed`
        self.store.cancel_parcel(SITE, doomed.trade_number)
        await self.c.pull_manifest()
        if self.c.site.db.parcel(doomed.trade_number) is not None:
            f.notes.append("the store's cancellation was not applied")
        self.store.cancel_parcel(SITE, self.store.create_parcel(SITE).trade_number)
        await self.c.pull_manifest()
        signed_gone = None

        def forged_410(request: httpx.Request) -> httpx.Response | None:
            if not request.url.path.endswith("/manifest"):
                return None
            if request.url.params.get("cursor"):
                return httpx.Response(410, json={"error": "cursor_unknown", "message": "store was reset"})
            return httpx.Response(200, content=old_page.reply, headers={"Content-Type": "application/json"})

        def old_page_only(request: httpx.Request) -> httpx.Response | None:
            if not request.url.path.endswith("/manifest"):
                return None
            return httpx.Response(200, content=old_page.reply, headers={"Content-Type": "application/json"})

        def replayed_410(request: httpx.Request) -> httpx.Response | None:
            if not request.url.path.endswith("/manifest"):
                return None
            if request.url.params.get("cursor") and signed_gone is not None:
                return httpx.Response(410, content=signed_gone, headers={"Content-Type": "application/json"})
            return httpx.Response(200, content=old_page.reply, headers={"Content-Type": "application/json"})

        # A genuinely signed 410 (for a cursor the store never issued), for the last attack.
        self.wire.answer = None
        with self.c.site.db.transaction(self.clock.now()) as tx:
            cursor = tx.sync_channel("manifest")["cursor"]
            tx.save_sync_channel("manifest", cursor="999999999")
        try:
            await self.c.pull_manifest()
        except SyncError:
            pass
        gone = [e for e in self.wire.log if e.status == 410]
        signed_gone = gone[-1].reply if gone else None
        with self.c.site.db.transaction(self.clock.now()) as tx:
            tx.save_sync_channel("manifest", cursor=cursor)

        for name, forge in (("forged 410 + old page", forged_410), ("old page", old_page_only),
                            ("replayed signed 410 + old page", replayed_410)):
            self.wire.answer = forge
            try:
                await self.c.pull_manifest()
            except SyncError:
                pass
            self.wire.answer = None
            f.attacks_run += 1
            if self.c.site.db.parcel(doomed.trade_number) is not None:
                f.rollbacks_accepted += 1
                f.notes.append(f"{name}: the cancelled parcel {doomed.trade_number} is back")
                with self.c.site.db.transaction(self.clock.now()) as tx:
                    tx.delete_expected_parcel(doomed.trade_number)   # undo, so the next attack counts alone
        await self.c.pull_manifest()   # and the honest store still works

    # --- audit -----------------------------------------------------------------------------------

    async def audit_rewrites(self) -> None:
        f = self.figures
        config = self.c.config
        await self.c.stop()        # anchors the head at shutdown and delivers it
        self.controller = None
        key = load_or_create_site_key(config.site_key_path)
        client = StoreClient(config.store, SITE, key, clock=self.clock)
        try:
            anchors = await client.fetch_audit_anchors()
        finally:
            await client.aclose()
        if not anchors:
            f.notes.append("the store holds no audit anchor")
        original = Path(config.database)
        head = books.audit_head(original)
        for name, tamper in (("tail deleted", lambda conn: books.delete_audit_tail(conn, head - 3)),
                             ("entry rewritten and re-chained", lambda conn: books.rechain_audit(conn, max(2, head - 4))),
                             ("entry rewritten", lambda conn: books.rewrite_audit(conn, max(2, head - 4)))):
            copy = self.folder / f"tampered-{len(name)}.db"
            books.copy_db(original, copy)
            conn = sqlite3.connect(copy, isolation_level=None)
            try:
                tamper(conn)
                chain_ok = audit.verify(conn).ok
                store_ok = anchoring.check_against(Reader(conn), anchors).ok
            finally:
                conn.close()
            f.attacks_run += 1
            if chain_ok and store_ok:
                f.audit_rewrites_undetected += 1
                f.notes.append(f"audit log {name}: not detected")


async def attacks(folder: Path, seed: int = 0) -> dict:
    """Run every attack; returns the figures (see the module docstring)."""
    day = AttackDay(Path(folder), seed)
    try:
        await day.boot()
        await day.replays()
        await day.forged_acks()
        await day.rollbacks()
        await day.audit_rewrites()
    finally:
        if day.controller is not None:
            await day.controller.stop()
        day.store.close()
    f = day.figures
    return {"attacks_run": f.attacks_run, "replays_accepted": f.replays_accepted,
            "forged_acks_accepted": f.forged_acks_accepted, "rollbacks_accepted": f.rollbacks_accepted,
            "audit_rewrites_undetected": f.audit_rewrites_undetected, "notes": f.notes}


def run_attacks(folder: Path, seed: int = 0) -> dict:
    """``attacks`` from synchronous code (in its own event loop; a thread when one is running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(attacks(Path(folder), seed))
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, attacks(Path(folder), seed)).result()


async def run(locks: str = "gpio", seed: int = 0) -> dict:
    """For ``hwsim scenario attack-store``."""
    with tempfile.TemporaryDirectory(prefix="attack-store-") as tmp:
        return {"scenario": "attack-store", "seed": seed, **await attacks(Path(tmp), seed)}


# --- small helpers --------------------------------------------------------------------------------

def _wrong(secret: str | None) -> str:
    return "000000" if secret != "000000" else "111111"


def _events(request: httpx.Request) -> list[dict]:
    return json.loads(request.content)["events"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
