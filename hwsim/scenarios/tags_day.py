"""A scripted day at a pickup-point counter: hand-overs by F1 tag, F2 tag and plain secret,
with the attacks and accidents a counter meets.

Morning: a courier brings the parcels; the clerk receives all but one of each method
(those stay "not arrived"). Before the first recipient, an insider tries a forged tag (his
own secret, a tag the store never signed), a swapped tag (a genuine tag of another parcel
whose secret he knows, stuck on the parcel he wants) and a tag meant for another site.
Day: the rightful recipients come in random order — some straight through, some showing
their secret as a code on a phone, some mistyping first, some with a label the scanner
reads badly (cut off, a digit wrong, a code that is not ours; the clerk scans again or
types the number) — while a guesser locks one parcel of each method with wrong secrets, a
recipient comes before the parcel has, and a collected parcel's tag is presented again.
Evening: the clerk resets the locked parcels and their recipients collect.

Reads are fed to the counter service as payloads (``kiosk.service.counter.present``, the
function the scanner path calls). The controller is the real one; the result is judged
from its database (hwsim.scenarios.invariants) as well as from what each step answered.

``pickups``: visits by rightful recipients; ``released``: parcels handed over (from the
database); ``*_accepted``: a forged, swapped or wrong-secret attempt that got as far as a
verified hand-over (must be 0); ``unreadable``: reads refused as damaged or not ours;
``crashes``: anything but the project's own errors.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from kiosk.clock import ManualClock
from kiosk.errors import (CodeInvalid, CounterIncomplete, KioskError, LockedOut, NotCollectable, TagForged,
                          TagMalformed, TagNotForThisSite, TagSwapped)
from kiosk.service import counter, manifest
from hwsim import tags as hwtags
from hwsim.parcels import make_parcels
from hwsim.scenarios.invariants import summarise
from hwsim.site import start_site

PER_METHOD = 7          # 0-5 are received at the counter; 6 is never received
METHODS = ("f1_tag", "f2_tag", "secret")
CLERK = "clerk-day"


class Day:
    def __init__(self, sim, issuer: hwtags.TagIssuer, rng: random.Random):
        self.sim, self.issuer, self.rng = sim, issuer, rng
        self.site = sim.controller.site
        self.n = {k: 0 for k in ("pickups", "forged_presented", "forged_accepted", "swapped_presented",
                                 "swapped_accepted", "foreign_presented", "wrong_secrets", "wrong_secret_accepted",
                                 "unreadable", "not_arrived_refused", "replays_refused", "crashes")}
        self.unexpected: list[str] = []

    # --- the people ------------------------------------------------------------------------------

    def later(self, low_s: float = 60, high_s: float = 900) -> None:
        self.sim.clock.advance(self.rng.uniform(low_s, high_s))
        self.sim.controller.tick()

    def wrong(self, parcel) -> str:
        while (guess := f"{self.rng.randrange(10**6):06d}") == parcel.secret:
            pass
        return guess

    async def read(self, payload: str | bytes, *, source: str = "scan") -> str | None:
        """One read at the desk: what it was taken for ("tag", "label", "secret"), or None
        when it was refused as unreadable."""
        data = payload.encode() if isinstance(payload, str) else payload
        try:
            return (await counter.present(self.site, data, source=source)).read
        except TagMalformed:
            self.n["unreadable"] += 1
            return None

    async def attempt(self, counted: str | None, secret: str | None, **kw):
        """verify(); a success for an attempt that must fail is counted under ``counted``."""
        ready = await counter.verify(self.site, secret, **kw)
        if counted:
            self.n[counted] += 1
            self.unexpected.append(f"{counted}: {ready.trade_number} was verified")
        return ready

    async def expect(self, error: type[KioskError], coro) -> None:
        try:
            await coro
        except error:
            return
        except KioskError as err:
            self.unexpected.append(f"expected {error.__name__}, got {type(err).__name__}: {err}")
            return
        self.unexpected.append(f"expected {error.__name__}, got success")

    async def scan_parcel(self, parcel, method: str) -> None:
        if method != "secret":
            await self.read(parcel.tag)
        await self.read(parcel.trade_number)

    async def collect(self, parcel, method: str, *, show_code: bool = False, state_number: bool = False,
                      wrong_first: int = 0, bad_reads: bool = False) -> None:
        """A rightful recipient at the counter, start to hand-over."""
        self.n["pickups"] += 1
        counter.cancel(self.site)   # the clerk's "next customer"
        if bad_reads:
            await self._bad_reads(parcel, method)
        else:
            await self.scan_parcel(parcel, method)
        for _ in range(wrong_first):
            self.n["wrong_secrets"] += 1
            await self.expect(CodeInvalid, self.attempt("wrong_secret_accepted", self.wrong(parcel)))
        if show_code:
            await self.read("S/" + parcel.secret)
        ready = await counter.verify(self.site, None if show_code else parcel.secret,
                                     trade_number=parcel.trade_number if state_number else None)
        counter.confirm(self.site, CLERK, ready.ticket)

    async def _bad_reads(self, parcel, method: str) -> None:
        rng = self.rng
        if method != "secret":
            bad = hwtags.truncated(parcel.tag, rng) if rng.random() < 0.5 else hwtags.damaged(parcel.tag, rng)
            # A read cut to 40 digits or fewer may pass for a numeric trade number (taken as
            # a label read, and replaced by the real one below); it must never pass for a tag.
            if await self.read(bad) == "tag":
                self.unexpected.append("a damaged tag read was taken for a tag")
            await self.read(parcel.tag)                      # scan again: a good read
        if await self.read(hwtags.garbage(rng)) is not None:   # the label's code is scuffed
            self.unexpected.append("garbage was taken as a read")
        await self.read(parcel.trade_number, source="typed")   # the clerk types the printed number

    # --- the script ------------------------------------------------------------------------------

    async def morning(self, parcels: dict) -> None:
        for method in METHODS:
            for p in parcels[method][:6]:
                counter.receive(self.site, "clerk-morning", p.trade_number)
        for method in ("f1_tag", "f2_tag"):
            target, own = parcels[method][4], parcels[method][0]
            counter.cancel(self.site)
            self.n["forged_presented"] += 1
            await self.expect(TagForged, self.read(hwtags.forged(self.issuer, target, "111111")))
            await self.read(target.trade_number)
            await self.expect(CounterIncomplete, self.attempt("forged_accepted", "111111"))
            self.later()
            counter.cancel(self.site)
            self.n["swapped_presented"] += 1
            await self.read(own.tag)                         # a genuine tag, of his own parcel
            await self.read(target.trade_number)             # on the parcel he wants
            await self.expect(TagSwapped, self.attempt("swapped_accepted", own.secret))
            self.later()
            counter.cancel(self.site)
            self.n["foreign_presented"] += 1
            await self.expect(TagNotForThisSite, self.read(hwtags.foreign(self.issuer, target)))
            self.later()

    async def day(self, parcels: dict) -> None:
        visits = []
        for method in METHODS:
            ps = parcels[method]
            visits += [
                (self.collect, ps[0], method, {}),
                (self.collect, ps[1], method, {"show_code": True, "state_number": method == "f1_tag"}),
                (self.collect, ps[2], method, {"wrong_first": 2}),
                (self.collect, ps[3], method, {"bad_reads": True}),
                (self.collect, ps[4], method, {"show_code": method != "secret"}),
                (self.guess_until_locked, ps[5], method, {}),
                (self.too_early, ps[6], method, {}),
            ]
        self.rng.shuffle(visits)
        for step, parcel, method, kw in visits:
            await self.safely(step(parcel, method, **kw))
            self.later()
        for method in METHODS:
            await self.safely(self.replay(parcels[method][0], method))
            self.later()

    async def evening(self, parcels: dict) -> None:
        for method in METHODS:
            locked = parcels[method][5]
            self.sim.controller.clerk_reset_attempts("clerk-evening", locked.trade_number)
            await self.safely(self.collect(locked, method))
            self.later(30, 120)

    async def guess_until_locked(self, parcel, method: str) -> None:
        counter.cancel(self.site)
        await self.scan_parcel(parcel, method)
        for _ in range(self.sim.controller.config.attempts.per_parcel_max - 1):
            self.n["wrong_secrets"] += 1
            await self.expect(CodeInvalid, self.attempt("wrong_secret_accepted", self.wrong(parcel)))
        self.n["wrong_secrets"] += 1
        await self.expect(LockedOut, self.attempt("wrong_secret_accepted", self.wrong(parcel)))
        await self.expect(LockedOut, counter.verify(self.site, parcel.secret))   # the owner arrives too late

    async def too_early(self, parcel, method: str) -> None:
        self.n["pickups"] += 1
        counter.cancel(self.site)
        await self.scan_parcel(parcel, method)
        await self.expect(NotCollectable, counter.verify(self.site, parcel.secret))
        self.n["not_arrived_refused"] += 1

    async def replay(self, parcel, method: str) -> None:
        counter.cancel(self.site)
        await self.scan_parcel(parcel, method)
        await self.expect(NotCollectable, counter.verify(self.site, parcel.secret))
        self.n["replays_refused"] += 1

    async def safely(self, coro) -> None:
        try:
            await coro
        except KioskError as err:
            self.unexpected.append(f"refused: {type(err).__name__}: {err}")
        except Exception as err:   # a crash is a finding, reported in the result
            self.n["crashes"] += 1
            self.unexpected.append(f"crash: {type(err).__name__}: {err}")


async def run(locks: str = "kerong", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tags-day-") as tmp:
        sim = await start_site(Path(folder or tmp), clock=ManualClock(), locks=locks, doors=4)
        controller = sim.controller
        issuer = hwtags.TagIssuer(controller.config.site_id)
        controller.site.tag_keys = issuer.keys()
        day = Day(sim, issuer, rng)
        try:
            now, taken = sim.clock.now(), set()
            parcels = {m: issuer.parcels(PER_METHOD, rng, method=m, now=now, taken=taken) for m in ("f1_tag", "f2_tag")}
            plain = make_parcels(PER_METHOD * 3, rng, controller.config.hash_params, now=now, method="secret")
            parcels["secret"] = [p for p in plain if p.trade_number not in taken][:PER_METHOD]
            entries = [p.entry for ps in parcels.values() for p in ps]
            controller.import_manifest(manifest.parse({"version": 1, "parcels": entries}), "tags-day")
            await day.safely(day.morning(parcels))
            await day.day(parcels)
            await day.evening(parcels)
        except Exception as err:
            day.n["crashes"] += 1
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        finally:
            records = summarise(controller.store)
            records["audit_chain_ok"] = controller.store.verify_audit().ok
            by_method = {m: 0 for m in METHODS}
            for event in controller.store.outbox():
                if event["kind"] == "parcel_collected":
                    by_method[event["payload"]["method"]] = by_method.get(event["payload"]["method"], 0) + 1
            await controller.stop()
    result = {"scenario": "tags-day", "locks": locks, "seed": seed, "pickups": day.n.pop("pickups"),
              "released": records["collected"], "released_by_method": by_method, **day.n, **records}
    intended = {"released": 6 * len(METHODS), "lockouts": len(METHODS), "tamper_alarms": 4,
                "released_twice": 0, "secrets_at_rest": 0, "forged_accepted": 0, "swapped_accepted": 0,
                "wrong_secret_accepted": 0, "crashes": 0}
    for key, want in intended.items():
        if result[key] != want:
            day.unexpected.append(f"{key} is {result[key]}, the script intended {want}")
    return {**result, "unexpected": day.unexpected}
