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

Every scan goes through a real scanner driver on its emulator (hwsim.scenarios.tags_day_desk):
the serial scanner is the site's own (``[devices] scanner``: the controller opens it and
routes each scan to the counter), the camera is opened by the scenario and its scans
forwarded to ``controller.counter_present``; each visit uses one of them, in turn. The
serial scanner meets line noise, frames cut off, truncated and damaged codes and codes
that are not ours; the camera sees labels in perspective, blurred, under glare, at low
contrast, and torn tags it cannot read. Only the printed number the clerk types, and the
secret the recipient types, come by keyboard. The controller is the real one; the result
is judged from its database (hwsim.scenarios.invariants) as well as from what each step
answered (the bus events ``counter_read`` / ``counter_rejected``).

``pickups``: visits by rightful recipients; ``released``: parcels handed over (from the
database); ``*_accepted``: a forged, swapped or wrong-secret attempt that got as far as a
verified hand-over (must be 0); ``unreadable``: reads refused as damaged or not ours, or lost on the way (dropped by the
serial framer, a label the camera could not read); ``reads_by_device``: reads that reached
the counter from the serial scanner, the camera and the keyboard; ``crashes``: anything
but the project's own errors.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hwsim import tags as hwtags
from hwsim.parcels import make_parcels
from hwsim.scenarios import script
from hwsim.scenarios.invariants import summarise
from hwsim.scenarios.tags_day_desk import DAMAGED_FRAMES, Desk, start_site
from kiosk.errors import (
    CodeInvalid,
    CounterIncomplete,
    KioskError,
    LockedOut,
    NotCollectable,
    TagMalformed,
    TagSwapped,
)
from kiosk.service import counter, manifest

PER_METHOD = 7          # 0-5 are received at the counter; 6 is never received
METHODS = ("f1_tag", "f2_tag", "secret")
CLERK = "clerk-day"
DEVICES = ("serial", "camera")


class Day:
    def __init__(self, sim, issuer: hwtags.TagIssuer, rng: random.Random):
        self.sim, self.issuer, self.rng = sim, issuer, rng
        self.site = sim.controller.site
        self.n = {k: 0 for k in ("pickups", "forged_presented", "forged_accepted", "swapped_presented",
                                 "swapped_accepted", "foreign_presented", "wrong_secrets", "wrong_secret_accepted",
                                 "not_arrived_refused", "replays_refused", "crashes")}
        self.unexpected: list[str] = []
        self.desk = Desk(sim, rng, self.unexpected)

    # --- the people ------------------------------------------------------------------------------

    def later(self, low_s: float = 60, high_s: float = 900) -> None:
        self.sim.clock.advance(self.rng.uniform(low_s, high_s))
        self.sim.controller.tick()

    def wrong(self, parcel) -> str:
        while (guess := f"{self.rng.randrange(10**6):06d}") == parcel.secret:
            pass
        return guess

    async def attempt(self, counted: str | None, secret: str | None, **kw):
        """verify(); a success for an attempt that must fail is counted under ``counted``."""
        ready = await counter.verify(self.site, secret, **kw)
        if counted:
            self.n[counted] += 1
            self.unexpected.append(f"{counted}: {ready.trade_number} was verified")
        return ready

    async def expect(self, error: type[KioskError], coro) -> None:
        await script.expect(self.unexpected, error, coro)

    def expect_read(self, what: str, results: list[str | None], step: str) -> None:
        if what not in results:
            self.unexpected.append(f"{step}: expected {what}, the counter answered {results}")

    # --- reads, through the serial scanner or the camera ------------------------------------------

    async def scan_parcel(self, parcel, method: str, device: str) -> None:
        """The clerk reads the parcel's tag (if any) and label, scanning again when a read
        fails; a label that will not read at all is typed."""
        tag = parcel.tag if method != "secret" else None
        if device == "camera":
            got = await self.desk.label(parcel.trade_number, tag, self.desk.hard())
            if tag and "tag" not in got:
                got += await self.desk.code(tag)                    # the clerk holds the tag closer
            if "label" not in got:
                got += [await self.desk.serial_scan(parcel.trade_number, "code128")]
        else:
            got = [await self.desk.serial_scan(tag)] if tag else []
            got += [await self.desk.serial_scan(parcel.trade_number, "code128")]
        if tag and "tag" not in got:
            self.unexpected.append(f"{parcel.trade_number}: the tag never read: {got}")
        if "label" not in got:
            await self.desk.typed(parcel.trade_number)

    async def show_code(self, parcel, device: str) -> None:
        """The recipient shows the secret as a code on a phone."""
        code = "S/" + parcel.secret
        got = await self.desk.code(code, self.rng.choice(("clean", "glare", "perspective"))) \
            if device == "camera" else [await self.desk.serial_scan(code)]
        if "secret" not in got:   # the phone's screen did not read: the clerk's scanner tries
            self.expect_read("secret", [await self.desk.serial_scan(code)], "phone code")

    async def collect(self, parcel, method: str, device: str, *, show_code: bool = False,
                      state_number: bool = False, wrong_first: int = 0, bad_reads: bool = False) -> None:
        """A rightful recipient at the counter, start to hand-over."""
        self.n["pickups"] += 1
        counter.cancel(self.site)   # the clerk's "next customer"
        if bad_reads:
            await self._bad_reads(parcel, method, device)
        else:
            await self.scan_parcel(parcel, method, device)
        for _ in range(wrong_first):
            self.n["wrong_secrets"] += 1
            await self.expect(CodeInvalid, self.attempt("wrong_secret_accepted", self.wrong(parcel)))
        if show_code:
            await self.show_code(parcel, device)
        ready = await counter.verify(self.site, None if show_code else parcel.secret,
                                     trade_number=parcel.trade_number if state_number else None)
        counter.confirm(self.site, CLERK, ready.ticket)

    async def _bad_reads(self, parcel, method: str, device: str) -> None:
        """A label the scanner reads badly: the tag cut off, a digit wrong, torn; the label's
        code scuffed or not ours. The clerk scans again, and types the printed number."""
        rng, desk = self.rng, self.desk
        if method != "secret":
            if device == "camera":
                got = await desk.code(parcel.tag, "damaged", frames=DAMAGED_FRAMES)   # a torn tag
                got += await desk.code(parcel.tag, desk.hard())                     # scan again
            else:
                fault = rng.choice(("truncated", "damaged", "partial"))
                if fault == "truncated":
                    bad = [await desk.serial_do(lambda s: s.scan_truncated(parcel.tag, rng.randrange(1, len(parcel.tag) - 1)))]
                elif fault == "damaged":
                    bad = [await desk.serial_scan(hwtags.damaged(parcel.tag, rng))]
                else:
                    bad = [await desk.serial_do(lambda s: s.partial(parcel.tag))]
                # A read cut to 40 digits or fewer may pass for a numeric trade number (taken as
                # a label read, and replaced by the real one below); it must never pass for a tag.
                if "tag" in bad:
                    self.unexpected.append(f"a {fault} tag read was taken for a tag")
                got = [await desk.serial_scan(parcel.tag)]                          # scan again
            self.expect_read("tag", got, "the tag read again")
        junk = hwtags.garbage(rng)                                                 # the label's code is scuffed
        if device == "camera":
            scuffed = await desk.code(junk, "clean")
        elif rng.random() < 0.5:
            scuffed = [await desk.serial_do(lambda s: s.garbage())]
        else:
            scuffed = [await desk.serial_do(lambda s: s.scan_foreign(junk))]
        if any(r in ("tag", "label", "secret") for r in scuffed):
            self.unexpected.append(f"garbage was taken as a read: {scuffed}")
        await desk.typed(parcel.trade_number)                                      # the clerk types the number

    # --- the script ------------------------------------------------------------------------------

    async def present_tag(self, device: str, trade_number: str, tag: str) -> list[str | None]:
        """A tag on a parcel's label: both codes read by ``device``."""
        if device == "camera":
            try:
                return await self.desk.label(trade_number, tag, self.desk.hard())
            except TagMalformed:   # the printer will not print another parcel's F1 tag: a sticker
                got = await self.desk.code(tag, "perspective")
                return got + await self.desk.label(trade_number, None)
        return [await self.desk.serial_scan(tag), await self.desk.serial_scan(trade_number, "code128")]

    async def morning(self, parcels: dict) -> None:
        for method in METHODS:
            for p in parcels[method][:6]:
                counter.receive(self.site, "clerk-morning", p.trade_number)
        for k, method in enumerate(("f1_tag", "f2_tag")):
            target, own = parcels[method][4], parcels[method][0]
            counter.cancel(self.site)
            self.n["forged_presented"] += 1
            got = await self.present_tag(DEVICES[k % 2], target.trade_number,
                                         hwtags.forged(self.issuer, target, "111111"))
            self.expect_read("rejected:forged", got, "a forged tag")
            await self.expect(CounterIncomplete, self.attempt("forged_accepted", "111111"))
            self.later()
            counter.cancel(self.site)
            self.n["swapped_presented"] += 1
            # a genuine tag, of his own parcel, on the parcel he wants
            got = await self.present_tag(DEVICES[(k + 1) % 2], target.trade_number, own.tag)
            self.expect_read("tag", got, "a swapped tag")
            await self.expect(TagSwapped, self.attempt("swapped_accepted", own.secret))
            self.later()
            counter.cancel(self.site)
            self.n["foreign_presented"] += 1
            got = await self.present_tag(DEVICES[k % 2], target.trade_number, hwtags.foreign(self.issuer, target))
            self.expect_read("rejected:other_site", got, "another site's tag")
            self.later()

    async def day(self, parcels: dict) -> None:
        visits = []
        for m, method in enumerate(METHODS):
            ps = parcels[method]
            kinds = [(self.collect, {}),
                     (self.collect, {"show_code": True, "state_number": method == "f1_tag"}),
                     (self.collect, {"wrong_first": 2}),
                     (self.collect, {"bad_reads": True}),
                     (self.collect, {"show_code": method != "secret"}),
                     (self.guess_until_locked, {}),
                     (self.too_early, {})]
            visits += [(step, ps[i], method, DEVICES[(i + m) % 2], kw) for i, (step, kw) in enumerate(kinds)]
        self.rng.shuffle(visits)
        for step, parcel, method, device, kw in visits:
            await self.safely(step(parcel, method, device, **kw))
            self.later()
        for m, method in enumerate(METHODS):
            await self.safely(self.replay(parcels[method][0], method, DEVICES[m % 2]))
            self.later()

    async def evening(self, parcels: dict) -> None:
        for m, method in enumerate(METHODS):
            locked = parcels[method][5]
            await self.sim.controller.clerk_reset_attempts("clerk-evening", locked.trade_number)
            await self.safely(self.collect(locked, method, DEVICES[(m + 1) % 2]))
            self.later(30, 120)

    async def guess_until_locked(self, parcel, method: str, device: str) -> None:
        counter.cancel(self.site)
        await self.scan_parcel(parcel, method, device)
        for _ in range(self.sim.controller.config.attempts.per_parcel_max - 1):
            self.n["wrong_secrets"] += 1
            await self.expect(CodeInvalid, self.attempt("wrong_secret_accepted", self.wrong(parcel)))
        self.n["wrong_secrets"] += 1
        await self.expect(LockedOut, self.attempt("wrong_secret_accepted", self.wrong(parcel)))
        await self.expect(LockedOut, counter.verify(self.site, parcel.secret))   # the owner arrives too late

    async def too_early(self, parcel, method: str, device: str) -> None:
        self.n["pickups"] += 1
        counter.cancel(self.site)
        await self.scan_parcel(parcel, method, device)
        await self.expect(NotCollectable, counter.verify(self.site, parcel.secret))
        self.n["not_arrived_refused"] += 1

    async def replay(self, parcel, method: str, device: str) -> None:
        counter.cancel(self.site)
        await self.scan_parcel(parcel, method, device)
        await self.expect(NotCollectable, counter.verify(self.site, parcel.secret))
        self.n["replays_refused"] += 1

    async def safely(self, coro) -> None:
        try:
            await coro
        except KioskError as err:
            self.unexpected.append(f"refused: {type(err).__name__}: {err}")
        except Exception as err:   # noqa: BLE001 — a crash is a finding, reported in the result
            self.n["crashes"] += 1
            self.unexpected.append(f"crash: {type(err).__name__}: {err}")


async def run(locks: str = "kerong", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tags-day-") as tmp:
        sim = await start_site(Path(folder or tmp), locks=locks, doors=4)
        controller = sim.controller
        issuer = hwtags.TagIssuer(controller.config.site_id)
        controller.site.tag_keys = issuer.keys()
        day = Day(sim, issuer, rng)
        try:
            await day.desk.open()
            now, taken = sim.clock.now(), set()
            parcels = {m: issuer.parcels(PER_METHOD, rng, method=m, now=now, taken=taken) for m in ("f1_tag", "f2_tag")}
            plain = make_parcels(PER_METHOD * 3, rng, controller.config.hash_params, now=now, method="secret")
            parcels["secret"] = [p for p in plain if p.trade_number not in taken][:PER_METHOD]
            entries = [p.entry for ps in parcels.values() for p in ps]
            controller.import_manifest(manifest.parse({"version": 1, "parcels": entries}), "tags-day")
            await day.safely(day.morning(parcels))
            await day.day(parcels)
            await day.evening(parcels)
        except Exception as err:  # noqa: BLE001 — a crash is a finding, reported in the result
            day.n["crashes"] += 1
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        finally:
            await day.desk.close()
            records = summarise(controller.site.db)
            records["audit_chain_ok"] = controller.site.db.verify_audit().ok
            by_method = {m: 0 for m in METHODS}
            for event in controller.site.db.outbox():
                if event["kind"] == "parcel_collected":
                    by_method[event["payload"]["method"]] = by_method.get(event["payload"]["method"], 0) + 1
            await controller.stop()
    n = day.n
    result = {"scenario": "tags-day", "locks": locks, "seed": seed, "pickups": n.pop("pickups"),
              "released": records["collected"], "released_by_method": by_method,
              "forged_accepted": n.pop("forged_accepted"), "swapped_accepted": n.pop("swapped_accepted"),
              "wrong_secret_accepted": n.pop("wrong_secret_accepted"), "unreadable": day.desk.unreadable,
              "crashes": n.pop("crashes"), "reads_by_device": dict(day.desk.by_device), **n, **records}
    intended = {"released": 6 * len(METHODS), "lockouts": len(METHODS), "tamper_alarms": 4,
                "released_twice": 0, "secrets_at_rest": 0, "forged_accepted": 0, "swapped_accepted": 0,
                "wrong_secret_accepted": 0, "crashes": 0}
    for key, want in intended.items():
        if result[key] != want:
            day.unexpected.append(f"{key} is {result[key]}, the script intended {want}")
    return {**result, "unexpected": day.unexpected}
