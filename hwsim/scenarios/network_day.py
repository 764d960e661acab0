"""A day at a locker bank run the way the big locker networks run theirs (issue 15):
sizes, reachable doors, several parcels per visit, re-opens and extensions.

The store emulator makes the parcels (contract v1.3: ``size``, ``low_door``, ``group``) and
the kiosk pulls them through the real signed manifest; a courier loads them into a bank
tagged XS..XL with some low doors (more M parcels than M doors: the next size up; nothing
big enough left: the counter). Recipients then come: alone, or for a visit of several
parcels under one code — most take everything, some leave a parcel inside, shut the door,
and use "I didn't get everything" (the re-open) to take it; some keep a parcel longer.

The verdict is read from the site's database, never from the script:
    wrong_size_allocations      a parcel in a door smaller than its size, or a low-door
                                parcel in a high door (must be 0)
    released_twice              a parcel collected more than once (must be 0)
    collected_without_evidence  collected without its door opened and closed (must be 0)
In the evening two people send parcels with their drop-off codes, the day's uncollected
parcels expire, and the courier's collection round empties the sent and the expired ones
under one sign-in, each door on its evidence:
    dropoffs_collected          parcels sent from here that the round took, on evidence
    returned_without_evidence   a round's parcel returned without its door opened and shut
                                (counted into collected_without_evidence)
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from pathlib import Path

from hwsim.site import COURIER_CODE, FAST_HASH, SimSite, start_site
from hwsim.scenarios.invariants import summarise
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.compartments import RANK
from kiosk.errors import KioskError, NoLockerFree

SITE = "sim-site"
LOCKS = "sim+kerong://?boards=1&doors=12&poll_ms=20&ir=fitted"   # IR: a parcel left inside is seen
SIZES = {"S": (1, 2, 3, 4), "M": (5, 6, 7), "L": (8, 9, 10), "XL": (11, 12)}
LOW = (1, 2, 5, 8)
LINK = {"backoff_initial_s": 0.05, "backoff_max_s": 0.2}


class Day:
    def __init__(self, site: SimSite, store: StoreEmulator, rng: random.Random) -> None:
        self.site, self.store, self.rng, self.c = site, store, rng, site.controller
        self.counts: Counter[str] = Counter()
        self.secrets: dict[str, str] = {}
        self.unexpected: list[str] = []

    # --- the store and the courier ---------------------------------------------------------

    def make_parcels(self) -> None:
        # 13 parcels for 12 doors: more S and M than S and M doors (the next size up), and the
        # big ones last, when the overflow has taken the big doors (the counter, said why).
        rng = self.rng
        for i, size in enumerate(["S"] * 2 + ["M"] * 4 + ["L"]):
            made = self.store.create_parcel(SITE, "locker", size=size, low_door=i in (0, 2) or rng.random() < 0.1)
            self.secrets[made.trade_number] = made.secret
        for _ in range(2):
            for made in self.store.create_visit(SITE, 2, size="S"):
                self.secrets[made.trade_number] = made.secret
        for _ in range(2):
            big = self.store.create_parcel(SITE, "locker", size="XL")
            self.secrets[big.trade_number] = big.secret
        self.to_send = [self.store.create_parcel(SITE, "secret", size=size, dropoff=True) for size in ("S", "M")]

    async def load(self) -> list[str]:
        c = self.c
        token = (await c.courier_login(COURIER_CODE)).token
        loaded = []
        for parcel in sorted(c.site.db.parcels(), key=lambda p: (RANK.get(p.size or "XS"), p.trade_number)):
            if parcel.state.value != "expected" or parcel.dropoff:
                continue                                          # a parcel to send is its sender's to drop
            try:
                locker = await self.site.put_in(token, parcel.trade_number)
            except NoLockerFree as err:
                self.counts[f"sent_to_counter_{err.reason}"] += 1
                continue
            loaded.append(parcel.trade_number)
            if parcel.low_door:
                self.counts["low_door_requests"] += 1
            door_size = self.c.config.layout.size_of(locker)
            if parcel.size and door_size and RANK[door_size] > RANK[parcel.size]:
                self.counts["next_size_up"] += 1
        await c.courier_logout(token)
        return loaded

    # --- recipients --------------------------------------------------------------------------

    async def visit(self, trade: str, *, leave_one: bool) -> None:
        c, doors = self.c, self.site.doors
        with c.subscribe() as events:
            opening = await c.submit_code(trade, self.secrets[trade])
            self.counts["visits"] += 1
            opened = [opening.locker, *(o.locker for o in opening.others)]
            for n in opened:
                await events.next("door_open", where=lambda e, n=n: e["locker"] == n)
            left = opened[-1] if leave_one else None
            for n in opened:
                if n != left:
                    doors.take(n)
                doors.close(n)
            if left is None:
                return
            not_taken = await events.next("pickup_not_taken", where=lambda e: e["locker"] == left)
            again = await c.reopen(not_taken["trade_number"])           # "I didn't get everything"
            self.counts["reopens"] += 1
            await events.next("door_open", where=lambda e: e["locker"] == again.locker)
            doors.take(again.locker)
            doors.close(again.locker)
            await events.next("parcel_collected", where=lambda e: e["locker"] == again.locker)

    async def recipients(self, loaded: list[str]) -> None:
        db, rng = self.c.site.db, self.rng
        seen_groups: set[str] = set()
        order = list(loaded)
        rng.shuffle(order)
        for trade in order:
            parcel = db.parcel(trade)
            if parcel.state.value != "arrived":
                continue                                          # out already, with its visit
            if parcel.visit_group:
                if parcel.visit_group in seen_groups:
                    continue
                seen_groups.add(parcel.visit_group)
            if rng.random() < 0.2:
                await self.c.extend_hold(trade, self.secrets[trade])
                self.counts["extensions"] += 1
                continue                                          # comes back another day
            await self.visit(trade, leave_one=rng.random() < 0.4)


    # --- the evening: senders, expiry, the courier's round ---------------------------------------

    async def senders(self) -> None:
        for made in self.to_send:
            try:
                await self.site.send(made.trade_number, made.secret)
                self.counts["dropoffs"] += 1
            except NoLockerFree as err:
                self.counts[f"sent_to_counter_{err.reason}"] += 1

    async def round(self) -> None:
        c = self.c
        self.site.clock.advance(10 * 86400)
        c.tick()                                         # what is left expires
        await c.settle()
        token = (await c.courier_login(COURIER_CODE)).token
        for item in await c.collection_round(token):
            await self.site.take_on_round(token, item.locker)
            self.counts["round_doors"] += 1
        await c.courier_logout(token)


def judge(db, layout) -> dict:
    """The figures, from the records only."""
    parcels = {p.trade_number: p for p in db.parcels()}
    wrong = 0
    for entry in db.audit_entries("unlock_commanded"):
        detail = entry["detail"]
        if detail.get("op") != "deposit":
            continue
        parcel, door = parcels.get(entry["subject"]), detail["locker"]
        if parcel is None:
            continue
        if not layout.fits(door, parcel.size) or (parcel.low_door and door not in layout.low):
            wrong += 1
    collected = Counter(e["subject"] for e in db.audit_entries("parcel_collected"))
    returned = [e for e in db.audit_entries("parcel_returned") if e["actor"] == "kioskd"]
    unevidenced = sum(1 for e in returned if not (e["detail"].get("door_opened_at") and e["detail"].get("door_closed_at")))
    sent = {e["subject"] for e in returned if e["detail"].get("sent")}
    return {"parcels_collected": sum(1 for p in parcels.values() if p.state.value == "collected"),
            "dropoffs_collected": sum(1 for t in sent if parcels.get(t) and parcels[t].state.value == "returned"),
            "expired_returned": len(returned) - len(sent),
            "wrong_size_allocations": wrong,
            "released_twice": sum(1 for n in (collected + Counter(e["subject"] for e in returned)).values() if n > 1),
            "returned_without_evidence": unevidenced,
            "collected_without_evidence": summarise(db)["released_without_door_evidence"] + unevidenced}


async def run(locks: str = "gpio", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    clock = ManualClock()
    with tempfile.TemporaryDirectory(prefix="network-day-") as tmp:
        base = Path(folder or tmp)
        with StoreEmulator(base / "store", clock=clock, hash_params=FAST_HASH, seed=seed) as store:
            site = await start_site(base / "site", clock=clock, store=store, store_settings=LINK, locks=LOCKS,
                                    doors=12, low_doors=LOW, sizes=SIZES)
            day = Day(site, store, rng)
            try:
                day.make_parcels()
                await site.controller.pull_manifest()
                loaded = await day.load()
                await day.recipients(loaded)
                await day.senders()
                await day.round()
                await site.controller.settle()
            except (KioskError, AssertionError, TimeoutError) as err:
                day.unexpected.append(f"crash: {type(err).__name__}: {err}")
            finally:
                db = site.controller.site.db
                result = judge(db, site.controller.config.layout)
                result["audit_chain_ok"] = db.verify_audit().ok
                await site.controller.stop()
    counts = day.counts
    return {"scenario": "network-day", "seed": seed, "visits": counts["visits"], **result,
            "reopens": counts["reopens"], "low_door_requests": counts["low_door_requests"],
            "next_size_up": counts["next_size_up"],
            "sent_to_counter": {k.removeprefix("sent_to_counter_"): v for k, v in counts.items()
                                if k.startswith("sent_to_counter_")},
            "extensions": counts["extensions"], "dropoffs": counts["dropoffs"], "round_doors": counts["round_doors"],
            "unexpected": day.unexpected}
