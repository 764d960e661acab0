"""A day of pickups while the store backend fails in every way it can, and kioskd is killed.

Parcels are made at the emulated store and reach the pickup point through the manifest
pull; a courier loads them; recipients collect them, verified online at the store
(falling back to the held reference when the store cannot answer). Meanwhile the store:

    morning    up: events leave as they happen
    outage     down for 3-5 hours (simulated clock), then HTTP 500s for most requests
    kill 1     kioskd (in a child process) is SIGKILLed while the store holds a batch
               it has already processed: the restarted controller sends it again
    recovery   replies lost after processing (the store has it, the kiosk retries)
    kill 2     a short outage, then kioskd is SIGKILLed while a slow store has the
               batch on the wire but has not handled it
    afternoon  forged signatures (manifests and verification answers), broken JSON,
               out-of-order acks, rate limits, cancellations
    evening    the store is well again: everything drains

The controller, its lock driver and the store emulator are the real ones; only people,
doors and the store's misbehaviour are scripted. The verdict comes from the two databases
(hwsim.scenarios.delivery and hwsim.scenarios.invariants), not from the script.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import asyncio
import time
from pathlib import Path

from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.errors import CodeInvalid, KioskError, NoLockerFree
from kiosk.service.controller import Controller
from hwsim.scenarios.delivery import judge
from hwsim.scenarios.invariants import summarise
from hwsim.site import FAST_HASH, SimSite, start_site
from hwsim.store import StoreEmulator

DOORS = 8
START = 1_800_000_000.0 - 1_800_000_000.0 % 86400 + 7 * 3600   # 07:00 UTC on a simulated day
LINK = {"timeout_s": 1.0, "batch_size": 25, "backoff_initial_s": 2.0, "backoff_max_s": 300.0,
        "manifest_interval_s": 600.0}
VERIFY = {"locker": "online"}
SITE = "sim-site"


class OutageDay:
    def __init__(self, folder: Path, rng: random.Random, locks: str, seed: int):
        self.folder, self.rng, self.locks, self.seed = folder, rng, locks, seed
        self.clock = ManualClock(START)
        self.store = StoreEmulator(folder / "store", clock=self.clock, hash_params=FAST_HASH, seed=seed)
        self.site: SimSite | None = None
        self.secrets: dict[str, str] = {}        # trade number -> what the recipient was told
        self.loaded: list[str] = []               # in a locker, not yet collected
        self.unexpected: list[str] = []
        self.injected: list[str] = []
        self.forged_accepted = 0
        self.kills = 0
        self.max_pending = 0

    @property
    def c(self) -> Controller:
        return self.site.controller

    # --- the machinery ---------------------------------------------------------------------

    async def boot(self) -> None:
        if self.site is None:
            self.store.start()
            self.site = await start_site(self.folder / "site", clock=self.clock, store=self.store,
                                         store_settings=LINK, verification=VERIFY, locks=self.locks,
                                         doors=DOORS, rng=random.Random(self.seed))
        else:
            controller = Controller(load(self.folder / "site" / "kiosk.toml"), clock=self.clock,
                                    rng=random.Random(self.seed + self.kills))
            await controller.start()
            self.site = SimSite(controller, self.clock, store=self.store)
        await self.c.sync.settle()

    async def later(self, low_s: float, high_s: float) -> None:
        self.clock.advance(self.rng.uniform(low_s, high_s))
        self.c.tick()
        await self.c.sync.settle()
        self.max_pending = max(self.max_pending, self.c.site.db.pending_summary()[0])

    async def kill_mid_send(self, moment, why: str) -> None:
        """Hand the database to kioskd in a child process and SIGKILL it at ``moment()``."""
        await self.c.stop()
        self.store.clear_faults("down")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        child = subprocess.Popen([sys.executable, "-m", "hwsim.scenarios.kiosk_child",  # noqa: ASYNC220 — returns at once
                                  str(self.folder / "site" / "kiosk.toml"), repr(self.clock.now()), str(self.seed)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.monotonic() + 60
            while not moment():
                if child.poll() is not None or time.monotonic() > deadline:
                    self.unexpected.append(f"kill {why}: the moment never came")
                    break
                await asyncio.sleep(0.002)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
            child.stderr.close()
        self.kills += 1
        self.injected.append(f"SIGKILL {why}")
        await self.boot()

    # --- people ----------------------------------------------------------------------------

    def new_parcels(self, count: int) -> None:
        for _ in range(count):
            made = self.store.create_parcel(SITE, hold_s=3 * 86400)
            self.secrets[made.trade_number] = made.secret

    async def courier(self) -> None:
        """Load every known, expected parcel there is a free locker for."""
        for parcel in self.c.site.db.parcels():
            if parcel.state.value != "expected" or parcel.trade_number not in self.secrets:
                continue
            try:
                await self.site.deposit(_Ref(parcel.trade_number))
            except NoLockerFree:
                return
            self.loaded.append(parcel.trade_number)

    async def pickup(self, *, wrong_first: int = 0) -> None:
        if not self.loaded:
            return
        trade = self.loaded.pop(self.rng.randrange(len(self.loaded)))
        secret = self.secrets[trade]
        for _ in range(wrong_first):
            try:
                await self.c.submit_code(trade, "000000" if secret != "000000" else "111111")
                self.unexpected.append(f"{trade}: a wrong secret opened the door")
                self.forged_accepted += 1
            except CodeInvalid:
                pass
        try:
            with self.c.subscribe() as events:
                started = await self.c.submit_code(trade, secret)
                await events.next("door_open", where=lambda e: e["locker"] == started.locker)
                self.site.doors.take(started.locker)
                self.site.doors.close(started.locker)
                await events.next("parcel_collected", where=lambda e: e["locker"] == started.locker)
        except (KioskError, TimeoutError) as err:
            self.unexpected.append(f"pickup of {trade}: {type(err).__name__}: {err}")

    async def backlog(self, fault: str, **params) -> None:
        """Make sure events are waiting (a receipt notice, while the store is down) when kioskd
        dies, and put ``fault`` in force for the child's first send. The store stays down until
        this controller has stopped: its pump would otherwise send the backlog (and meet the
        fault) itself the moment the store listened again."""
        self.store.clear_faults()
        self.store.set_fault("down")
        await self.courier()
        await self.pickup()
        await self.later(60, 120)
        if self.c.site.db.pending_summary()[0] == 0:
            await self.tamper()   # no parcel to move at this hour: a door forced open is news too
        if self.c.site.db.pending_summary()[0] == 0:
            self.unexpected.append("nothing was waiting to be sent when kioskd was to be killed")
        self.store.set_fault(fault, **params)   # the store comes back in kill_mid_send, for the child

    async def tamper(self) -> None:
        """Someone forces an idle door open and shuts it: a tamper alarm, for the store."""
        idle = [lk.number for lk in self.c.site.db.lockers() if not lk.busy]
        if not idle:
            return
        number = self.rng.choice(idle)
        with self.c.subscribe() as events:
            self.site.doors.force_open(number)
            try:
                await events.next("alarm", timeout=10, where=lambda e: e.data.get("locker") == number)
            except TimeoutError:
                self.unexpected.append(f"door {number} forced open: no tamper alarm")
        self.site.doors.close(number)
        await self.later(5, 10)

    async def life(self, steps: int, low_s: float = 300, high_s: float = 1200) -> None:
        """Visitors come and go while simulated time passes."""
        for _ in range(steps):
            roll = self.rng.random()
            if roll < 0.55:
                await self.pickup(wrong_first=self.rng.choice((0, 0, 0, 1, 2)))
            elif roll < 0.75:
                await self.courier()
            await self.later(low_s, high_s)

    async def until(self, hours: float) -> None:
        end = self.clock.now() + hours * 3600
        while self.clock.now() < end:
            await self.life(1)

    # --- the day ---------------------------------------------------------------------------

    async def morning(self) -> None:
        self.new_parcels(12)
        await self.c.pull_manifest()
        await self.courier()
        await self.life(6)
        self.new_parcels(8)

    async def outage(self) -> None:
        self.store.set_fault("down")
        hours = self.rng.uniform(3, 5)
        self.injected.append(f"down for {hours:.1f} h")
        await self.until(hours)
        self.new_parcels(4)              # made at the store while it could not be reached
        self.store.clear_faults()
        self.store.set_fault("http_500", p=0.85)
        self.injected.append("HTTP 500s for 45 min")
        await self.until(0.75)
        await self.backlog("timeout_after_processing", mode="hold", seconds=60, path="/events", times=1)
        await self.kill_mid_send(lambda: any(r.fault == "timeout_after_processing" for r in self.store.requests),
                                 "after the store processed a batch")

    async def recovery(self) -> None:
        self.store.set_fault("timeout_after_processing", p=0.5)
        self.injected.append("replies lost after processing for 40 min")
        await self.until(0.67)
        self.store.clear_faults()
        await self.c.pull_manifest()
        await self.courier()
        await self.life(3)
        self.store.set_fault("down")
        self.injected.append("down for 40 min")
        await self.until(0.67)
        await self.backlog("slow", seconds=60, path="/events", times=1)
        await self.kill_mid_send(lambda: "slow" not in self.store.faults, "with a batch on the wire, unhandled")

    async def afternoon(self) -> None:
        variant = self.rng.choice(("wrong_key", "tampered"))
        self.store.set_fault("bad_signature", variant=variant)
        self.injected.append(f"bad signatures ({variant}) for an hour")
        made = [self.store.create_parcel(SITE) for _ in range(3)]
        self.secrets.update({p.trade_number: p.secret for p in made})
        forged_parcels = [p.trade_number for p in made]
        online_before = self._verified("online")
        await self.pickup(wrong_first=1)   # a tampered "mismatch → match" must not open a door
        await self.until(1.0)              # manifest pulls in this hour are all refused
        self.forged_accepted += sum(1 for t in forged_parcels if self.c.site.db.parcel(t) is not None)
        self.forged_accepted += self._verified("online") - online_before
        self.store.clear_faults()
        self.store.cancel_parcel(SITE, forged_parcels[0])
        await self.c.pull_manifest()
        self.store.set_fault("out_of_order", p=0.5, path="/events")
        self.store.set_fault("malformed_json", p=0.3, variant=self.rng.choice(("truncated", "not_json", "wrong_shape")))
        self.store.set_fault("rate_limit", retry_after=120, path="/events", times=2)
        self.injected.append("out-of-order acks, broken JSON and 429s for 2 hours")
        self.new_parcels(3)
        await self.until(2.0)
        self.store.clear_faults()

    async def evening(self) -> None:
        await self.c.pull_manifest()
        await self.courier()
        while self.loaded:
            await self.pickup()
            await self.later(120, 600)
        for _ in range(30):   # the store is well: everything still pending leaves
            if self.c.site.db.pending_summary()[0] == 0:
                break
            await self.later(LINK["backoff_max_s"], LINK["backoff_max_s"] + 1)

    def _verified(self, how: str) -> int:
        return sum(1 for e in self.c.site.db.audit_entries("unlock_commanded") if e["detail"].get("verified") == how)


class _Ref:
    def __init__(self, trade_number: str):
        self.trade_number = trade_number


async def run(locks: str = "gpio", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="store-outage-") as tmp:
        day = OutageDay(Path(folder or tmp), rng, locks, seed)
        try:
            await day.boot()
            for part in (day.morning, day.outage, day.recovery, day.afternoon, day.evening):
                await part()
        except Exception as err:  # noqa: BLE001 — a crash is a finding, reported in the result
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        result = {}
        if day.site is not None:
            reader = day.c.site.db
            result = {**judge(reader, day.store, SITE), **summarise(reader),
                      "audit_chain_ok": reader.verify_audit().ok,
                      "verified": {how: day._verified(how) for how in ("online", "local_fallback", "local")},
                      "store_link": day.c.status()["store_link"]}
            await day.c.stop()
        day.store.close()
    result["bad_signatures_accepted"] = day.forged_accepted
    result["kills"] = day.kills
    result["max_pending"] = day.max_pending
    for key in ("lost", "out_of_order", "duplicates_at_store", "bad_signatures_accepted", "unknown_at_store",
                "altered_at_store", "sent_but_missing", "still_pending"):
        if result.get(key, 0):
            day.unexpected.append(f"{key} is {result[key]}, must be 0")
    if result.get("events_created") != result.get("events_at_store"):
        day.unexpected.append("events_created and events_at_store differ")
    if day.kills != 2:
        day.unexpected.append(f"kioskd was killed {day.kills} time(s), not 2")
    headline = {k: result.pop(k, None) for k in ("events_created", "events_at_store", "duplicates_at_store", "lost",
                                                 "out_of_order", "bad_signatures_accepted")}
    return {"scenario": "store-outage", "locks": locks, "seed": seed, **headline, **result,
            "faults_injected": day.injected, "unexpected": day.unexpected}
