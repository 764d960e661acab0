"""A scripted day at a locker bank, with every lock fault injected.

Morning: a courier loads parcels (one door jams while loading; the courier is given
another). Day: recipients collect — some mistype their secret, one guesses until the
parcel locks, one finds the door jammed, one leaves it open, one locker is forced open,
typos of trade numbers, a second try while the door is still open, a replay after
collection; on the Kerong bus the board also stops answering during a pickup, garbles
its checksums for a while and has garbage on the line. Evening: a clerk resets the
locked parcel and it is collected.

The controller is the real one and the lock driver is the real one (Kerong on a pty or
GPIO on mock pins); only the doors and the people are simulated. The result is computed
from the controller's database (hwsim.scenarios.invariants), not from the script.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from kiosk.clock import ManualClock
from kiosk.errors import (CodeInvalid, KioskError, LockedOut, NotCollectable, SeeStaff,
                          UnknownParcel)
from hwsim.scenarios import script
from hwsim.scenarios.invariants import summarise
from hwsim.site import COURIER_CODE, SimSite, start_site

DOORS = 8
PARCELS = 10
# What the script sets out to make happen; the records must agree.
INTENDED = {"arrived": DOORS - 1, "collected": 5, "lockouts": 1, "door_faults": 2, "tamper_alarms": 1,
            "left_open_alarms": 1, "released_without_door_evidence": 0, "released_twice": 0, "secrets_at_rest": 0}


class Day:
    def __init__(self, site: SimSite, rng: random.Random, kerong: bool):
        self.site, self.rng, self.kerong = site, rng, kerong
        self.c = site.controller
        self.unexpected: list[str] = []
        self.injected: list[str] = []

    def later(self, low_s: float = 60, high_s: float = 1800) -> None:
        """Time passes between visitors (only ever while no door is waiting to open)."""
        self.site.clock.advance(self.rng.uniform(low_s, high_s))
        self.c.tick()

    def wrong(self, parcel) -> str:
        while True:
            guess = f"{self.rng.randrange(10**6):06d}"
            if guess != parcel.secret:
                return guess

    async def expect(self, error: type[KioskError], coro) -> None:
        await script.expect(self.unexpected, error, coro)

    async def time_out_opening(self, events) -> None:
        """Let the open timeout pass and wait for the controller to declare the fault."""
        self.site.clock.advance(self.c.config.timing.open_timeout_s + 1)
        self.c.tick()
        await events.next("locker_fault")

    async def pickup(self, parcel, *, close: bool = True, wrong_first: int = 0):
        for _ in range(wrong_first):
            await self.expect(CodeInvalid, self.c.submit_code(parcel.trade_number, self.wrong(parcel)))
        with self.c.subscribe() as events:
            started = await self.c.submit_code(parcel.trade_number, parcel.secret)
            await events.next("door_open", where=lambda e: e["locker"] == started.locker)
            # The same code again while the door is open must not pulse a second time.
            await self.expect(NotCollectable, self.c.submit_code(parcel.trade_number, parcel.secret))
            if close:
                self.site.doors.take(started.locker)
                self.site.doors.close(started.locker)
                await events.next("parcel_collected", where=lambda e: e["locker"] == started.locker)
        return started.locker

    async def morning(self, parcels) -> list:
        first_free = 1
        self.site.doors.jam(first_free)
        self.injected.append("jam during deposit")
        with self.c.subscribe() as events:
            token = (await self.c.courier_login(COURIER_CODE)).token
            await self.c.deposit(token, parcels[0].trade_number)
            await self.time_out_opening(events)
        # Clear the jam only once the emulated lock has felt the pulse (real physics is slower
        # than a scenario's script; clearing it earlier would let the door spring open late).
        await self.wait_until(lambda: self.site.sim.history.count(f"door {first_free}", "jammed_stays_shut") >= 1)
        self.site.doors.jam(first_free, on=False)
        loaded = []
        for parcel in parcels[:DOORS - 1]:   # one locker is now in fault
            await self.site.deposit(parcel)
            loaded.append(parcel)
            self.later(10, 60)
        return loaded

    async def day(self, loaded) -> None:
        normal, mistyped, locked, jammed, left_open, forced, silent = loaded[:7]
        await self.pickup(normal)
        await self.expect(NotCollectable, self.c.submit_code(normal.trade_number, normal.secret))  # replay
        self.later()

        for typo in ("1234-0000", "9999-9999", normal.trade_number[::-1]):
            await self.expect(UnknownParcel, self.c.submit_code(typo, "123456"))
        self.later()

        await self.pickup(mistyped, wrong_first=self.rng.randint(1, 3))
        self.later()

        for _ in range(self.c.config.attempts.per_parcel_max - 1):
            await self.expect(CodeInvalid, self.c.submit_code(locked.trade_number, self.wrong(locked)))
        await self.expect(LockedOut, self.c.submit_code(locked.trade_number, self.wrong(locked)))
        await self.expect(LockedOut, self.c.submit_code(locked.trade_number, locked.secret))
        self.later()

        locker = self.c.site.db.parcel(jammed.trade_number).locker
        self.site.doors.jam(locker)
        self.injected.append("jam during pickup")
        with self.c.subscribe() as events:
            await self.c.submit_code(jammed.trade_number, jammed.secret)
            await self.time_out_opening(events)
        await self.expect(SeeStaff, self.c.submit_code(jammed.trade_number, jammed.secret))
        self.later()

        self.site.doors.leave_open(self.c.site.db.parcel(left_open.trade_number).locker)
        self.injected.append("door left open")
        locker = await self.pickup(left_open, close=False)
        self.site.doors.take(locker)
        self.site.doors.close(locker)  # ignored: the person walked away
        with self.c.subscribe() as events:
            self.site.clock.advance(self.c.config.timing.left_open_alarm_s + 1)
            self.c.tick()
            await events.next("alarm", where=lambda e: e["alarm"] == "left_open")
            self.site.doors.leave_open(locker, on=False)
            self.site.doors.close(locker)  # somebody passing by shuts it
            await events.next("parcel_collected", where=lambda e: e["locker"] == locker)
        self.later()

        locker = self.c.site.db.parcel(forced.trade_number).locker
        with self.c.subscribe() as events:
            self.site.doors.force_open(locker)
            self.injected.append("door forced open")
            await events.next("alarm", where=lambda e: e["alarm"] == "tamper")
        await self.expect(SeeStaff, self.c.submit_code(forced.trade_number, forced.secret))
        self.later()

        if self.kerong:
            await self.kerong_faults(silent)
        else:
            await self.pickup(silent)

    async def kerong_faults(self, parcel) -> None:
        sim = self.site.sim
        sim.corrupt_checksum(True)
        self.injected.append("corrupted checksums")
        await self.wait_until(lambda: sim.history.count("kerong", "tx") >= 3)
        sim.corrupt_checksum(False)
        sim.inject_garbage(bytes(self.rng.randrange(256) for _ in range(64)))
        self.injected.append("garbage on the line")
        await self.wait_doors_known()
        # The board goes quiet just as a recipient's code is accepted: the unlock frame
        # gets out but is never acknowledged. The opening stays under way until the
        # door's evidence arrives once the board answers again.
        sim.silent_after_next_unlock()
        self.injected.append("board stops answering")
        with self.c.subscribe() as events:
            started = await self.c.submit_code(parcel.trade_number, parcel.secret)
            sim.silent(False)
            await events.next("door_open", where=lambda e: e["locker"] == started.locker)
            self.site.doors.take(started.locker)
            self.site.doors.close(started.locker)
            await events.next("parcel_collected", where=lambda e: e["locker"] == started.locker)

    async def wait_until(self, condition, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                self.unexpected.append("timed out waiting for the emulator")
                return
            await asyncio.sleep(0.01)

    async def wait_doors_known(self) -> None:
        await self.wait_until(lambda: all(s.value != "unknown" for s in self.c.site.locks.door_states().values()))
        await self.c.settle()

    async def evening(self, loaded) -> None:
        locked = loaded[2]
        await self.c.clerk_reset_attempts("clerk-evening", locked.trade_number)
        await self.pickup(locked)


async def run(locks: str = "kerong", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="locker-day-") as tmp:
        site = await start_site(Path(folder or tmp), clock=ManualClock(), locks=locks, doors=DOORS)
        day = Day(site, rng, kerong=(locks == "kerong"))
        try:
            parcels = await site.add_parcels(PARCELS, rng)
            loaded = await day.morning(parcels)
            await day.day(loaded)
            await day.evening(loaded)
            await site.controller.settle()
        except Exception as err:  # noqa: BLE001 — a crash is a finding, reported in the result
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        finally:
            result = summarise(site.controller.site.db)
            result["audit_chain_ok"] = site.controller.site.db.verify_audit().ok
            await site.controller.stop()
    for key, want in INTENDED.items():
        if result[key] != want:
            day.unexpected.append(f"{key} is {result[key]}, the script intended {want}")
    return {"scenario": "locker-day", "locks": locks, "seed": seed, **result,
            "faults_injected": day.injected, "unexpected": day.unexpected}
