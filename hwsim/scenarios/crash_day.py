"""``hwsim scenario crash-day``: deposits and pickups by people of every speed while kioskd
is SIGKILLed at random instants; then the books against the doors.

The lock bus is an emulated Kerong KR-CU16 on a pty that lives in this process: the doors,
their latches and the parcels inside outlive every controller, as real ones do. The
controller runs in a child process (``kiosk_child``, on the system clock) and serves its
service socket; the people here use that socket as the screens do (courier sign-in and
drop-off, recipient codes) and the doors as people do: a door springs open on its pulse,
a parcel goes in or comes out, a hand shuts it — at once, after a moment, or after a
while; some doors are opened and shut between two of the controller's polls. A killer
SIGKILLs the child at random instants (no clean-up of any kind); people go on with what
they were doing while it is down (a door left open is closed, a parcel taken or left);
the child is restarted on the same database. At the end a last controller settles what
it can and the verdict is read from its database and the emulated doors, not from the
script:

    kills, parcels, collected, released_twice, collected_without_evidence,
    collected_on_occupancy, lost_events, duplicate_events, audit_chain_ok,
    lockers_needing_a_person, books_disagree_with_doors

Safety figures (released_twice, collected_without_evidence, lost_events,
duplicate_events, books_disagree_with_doors) must always be 0; with occupancy sensors
(the default: ``ir=fitted``) lockers_needing_a_person must be 0 too. ``--no-occupancy``
shows the difference: without sensors an interrupted opening needs a person.

Only the Kerong driver: GPIO pins belong to the process that drives them, so a bank on
GPIO cannot outlive a killed controller in this emulation.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from kiosk.clock import SystemClock
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.errors import KioskError
from kiosk.service.socket_client import ServiceClient
from kiosk.storage import audit as audit_log, db as db_mod
from kiosk.storage.database import Reader
from hwsim.kerong_board import KerongBoardSim
from hwsim.parcels import make_parcels, manifest_document
from hwsim.site import COURIER_CODE, FAST_HASH, write_config

DOORS = 8
MUST_BE_ZERO = ("released_twice", "collected_without_evidence", "lost_events", "duplicate_events",
                "books_disagree_with_doors")


def failed(result: dict) -> bool:
    bad = any(result[key] for key in MUST_BE_ZERO) or not result["audit_chain_ok"] or result["unexpected"]
    return bool(bad or (result["occupancy_sensors"] and result["lockers_needing_a_person"]))


class CrashDay:
    def __init__(self, folder: Path, seed: int, kills: int, occupancy: bool) -> None:
        self.folder, self.rng, self.kills_wanted, self.occupancy = folder, random.Random(seed), kills, occupancy
        self.seed = seed
        self.bus = KerongBoardSim(boards=1, doors=DOORS)
        self.child: subprocess.Popen | None = None
        self.client: ServiceClient | None = None
        self.kills = 0
        self.unexpected: list[str] = []
        self.parcels = make_parcels(3 * DOORS, self.rng, FAST_HASH, now=SystemClock().now())
        self.secrets = {p.trade_number: p.secret for p in self.parcels}
        self.intent: dict[int, str] = {}     # door -> what the person at it came to do (put / take)
        self.disagreeing: list[str] = []

    # --- the machinery ---------------------------------------------------------------------

    def write_site(self) -> Path:
        manifest = self.folder / "manifest.json"
        manifest.write_text(json.dumps(manifest_document(self.parcels)), encoding="utf-8")
        ir = "&ir=fitted" if self.occupancy else ""
        extra = (f'\n[manifest]\nfile = "{manifest}"\n\n[service]\nsocket = "{self.folder / "run" / "service.sock"}"\n')
        return write_config(self.folder / "site", locks=f"kerong+serial://{self.bus.port}?boards=1&doors={DOORS}"
                            f"&poll_ms=40{ir}", open_timeout_s=3, left_open_alarm_s=30, extra=extra)

    def _spawn(self) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        return subprocess.Popen([sys.executable, "-m", "hwsim.scenarios.kiosk_child",
                                 str(self.folder / "site" / "kiosk.toml"), "now", str(self.seed + self.kills)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)

    async def start_child(self) -> None:
        self.child = await asyncio.to_thread(self._spawn)
        assert self.child.stdout is not None
        line = await asyncio.to_thread(self.child.stdout.readline)
        if line.strip() != "READY":
            raise RuntimeError(f"the controller did not start (said {line!r})")
        self.client = await ServiceClient.connect(self.folder / "run" / "service.sock")

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.child is not None:
            os.kill(self.child.pid, signal.SIGKILL)
            self.child.wait(10)
            if self.child.stdout is not None:
                self.child.stdout.close()
            self.child = None
        self.kills += 1

    async def stop_child(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.child is not None:
            self.child.send_signal(signal.SIGTERM)
            self.child.wait(20)
            if self.child.stdout is not None:
                self.child.stdout.close()
            self.child = None

    # --- people ----------------------------------------------------------------------------

    async def hand(self, door: int, action: str | None) -> None:
        """A person at an open door: maybe moves a parcel, shuts it at their own speed."""
        speed = self.rng.choice(("quick", "normal", "slow"))
        await asyncio.sleep({"quick": 0.0, "normal": 0.3, "slow": 1.2}[speed] * self.rng.random())
        if action == "put":
            self.bus.doors.put(door)
        elif action == "take":
            self.bus.doors.take(door)
        if self.bus.doors[door].is_open:
            self.bus.doors.close(door)

    async def wait_open(self, door: int, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.bus.doors[door].is_open:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def visit(self) -> None:
        """One person: a courier with a parcel, or a recipient with a code."""
        assert self.client is not None
        client = self.client
        try:
            if self.rng.random() < 0.5:
                trade = self.rng.choice(self.parcels).trade_number
                session = await client.courier_login(COURIER_CODE)
                opening = await client.deposit(session.token, trade)
                action = "put"
            else:
                trade = self.rng.choice(self.parcels).trade_number
                opening = await client.submit_code(trade, self.secrets[trade])
                action = "take"
        except KioskError:
            return      # not expected / not there / no locker: the person walks away
        self.intent[opening.locker] = action
        if await self.wait_open(opening.locker):
            await self.hand(opening.locker, self.intent.pop(opening.locker, None))

    async def shut_everything(self) -> None:
        """Whatever people left open, somebody shuts (taking nothing, adding nothing)."""
        for door in range(1, DOORS + 1):
            if self.bus.doors[door].is_open:
                self.bus.doors.close(door)

    # --- the day -----------------------------------------------------------------------------

    async def run(self) -> dict:
        self.bus.start()
        try:
            self.write_site()
            await self.start_child()
            for _ in range(self.kills_wanted):
                visits = [asyncio.create_task(self.visit()) for _ in range(self.rng.randint(1, 4))]
                await asyncio.sleep(self.rng.uniform(0.05, 1.5))   # the killer strikes at a random instant
                await self.kill()
                for task in visits:
                    task.cancel()
                await asyncio.gather(*visits, return_exceptions=True)
                # People go on while the controller is down: hands at doors finish their move.
                for door in range(1, DOORS + 1):
                    if self.bus.doors[door].is_open:     # finish the move, or change one's mind
                        await self.hand(door, self.intent.pop(door, None) if self.rng.random() < 0.8 else None)
                self.intent.clear()
                await self.start_child()
            for _ in range(6):                     # a calm hour: no kills
                await asyncio.gather(*(self.visit() for _ in range(3)))
            await self.shut_everything()
            await asyncio.sleep(1.0)               # the last readings reach the books
            await self.stop_child()
            await self.start_child()               # one more start: what a restart settles now
            await asyncio.sleep(0.5)
            await self.stop_child()
            return self.verdict()
        except Exception as err:   # noqa: BLE001 — a crash of the script is a finding, reported
            self.unexpected.append(f"{type(err).__name__}: {err}")
            await self.stop_child()
            return self.verdict()
        finally:
            self.bus.stop()

    def verdict(self) -> dict:
        conn = db_mod.connect(self.folder / "site" / "kiosk.db", readonly=True)
        try:
            reader = Reader(conn)
            return self._judge(reader, audit_log.verify(conn).ok)
        finally:
            conn.close()

    def _judge(self, reader: Reader, chain_ok: bool) -> dict:
        entries = reader.audit_entries()
        outbox = reader.outbox()
        parcels = reader.parcels()
        collected_audits = [e for e in entries if e["action"] == "parcel_collected"]
        per_parcel = Counter(e["subject"] for e in collected_audits)
        door_evidence: dict[str, list[str]] = {}
        for e in entries:
            op = e["detail"].get("op_id")
            if e["action"] in ("door_open", "door_closed") and op:
                door_evidence.setdefault(op, []).append(e["action"])
        without = on_occupancy = 0
        for e in collected_audits:
            detail = e["detail"]
            if detail.get("occupancy"):
                on_occupancy += 1
            elif "door_open" not in door_evidence.get(detail.get("op_id") or "", []):
                without += 1
        sent = Counter((e["kind"], e["trade_number"]) for e in outbox
                       if e["kind"] in ("parcel_collected", "parcel_arrived"))
        states = {p.trade_number: p.state for p in parcels}
        lost = sum(1 for trade, state in states.items()
                   if state == ParcelState.COLLECTED and not sent[("parcel_collected", trade)])
        lost += sum(1 for trade, state in states.items()
                    if state in (ParcelState.ARRIVED, ParcelState.COLLECTED) and not sent[("parcel_arrived", trade)]
                    and _arrived_in_a_locker(entries, trade))
        lockers = reader.lockers()
        disagreeing = [f"locker {lk.number}: books {lk.state.value} {lk.parcel}, door "
                       f"{'holds a parcel' if self.bus.doors[lk.number].occupied else 'empty'}"
                       for lk in lockers if lk.state in (LockerState.FREE, LockerState.OCCUPIED)
                       and (lk.parcel is not None) != self.bus.doors[lk.number].occupied]
        disagree = len(disagreeing)
        self.unexpected += disagreeing
        return {
            "kills": self.kills,
            "parcels": len(parcels),
            "deposited": sum(1 for e in entries if e["action"] == "parcel_arrived"),
            "collected": sum(1 for s in states.values() if s == ParcelState.COLLECTED),
            "released_twice": sum(1 for n in per_parcel.values() if n > 1),
            "collected_without_evidence": without,
            "collected_on_occupancy": on_occupancy,
            "openings_undone_on_occupancy": sum(1 for e in entries if e["action"] == "opening_undone"),
            "lost_events": lost,
            "duplicate_events": sum(n - 1 for n in sent.values() if n > 1),
            "audit_chain_ok": chain_ok,
            "lockers_needing_a_person": sum(1 for lk in lockers if lk.state == LockerState.FAULT),
            "books_disagree_with_doors": disagree,
            "occupancy_sensors": self.occupancy,
            "unexpected": self.unexpected,
        }


def _arrived_in_a_locker(entries: list[dict], trade: str) -> bool:
    return any(e["action"] == "parcel_arrived" and e["subject"] == trade for e in entries)


async def run(locks: str = "kerong", seed: int = 0, kills: int = 10, occupancy: bool = True,
              folder: Path | None = None) -> dict:
    if locks != "kerong":
        raise SystemExit("crash-day: only --locks kerong (GPIO pins cannot outlive the process driving them here)")
    with tempfile.TemporaryDirectory(prefix="crash-day-") as tmp:
        return await CrashDay(Path(folder or tmp), seed, kills, occupancy).run()
