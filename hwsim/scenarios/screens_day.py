"""``hwsim scenario screens-day``: the courier's, the recipients', the clerk's screens and an
intruder's, each its own process on kioskd's service socket, through a day in which
screens are SIGKILLed mid-operation and restarted, and the controller is restarted under
them. Judged from the controller's database, not from what the screens said:

    operations, screen_restarts, controller_restarts, applied_twice, lost,
    unauthorised_calls_accepted

- each screen is ``hwsim.scenarios.screen_child``: one ServiceClient connection, as a real
  screen process has; a command is sometimes followed at once by a SIGKILL of its screen
  (the request may or may not have reached kioskd), and the person tries again on the
  restarted screen, as people do;
- the people at the doors act on what the doors do (an opened door gets its parcel put in
  or taken out, then is shut), whatever any screen showed;
- ``applied_twice``: a parcel that arrived or was collected more than once (receipt
  notices and arrival events in the outbox); ``lost``: an operation a screen reported done
  that the books do not show, or one never done despite the retries;
  ``unauthorised_calls_accepted``: staff calls an unsigned-in screen got answered. The
  three must be 0.

The lock bank is emulated in this process (``--locks gpio|kerong``), so a controller restart
here is a stop and a start on the same database and socket, not a SIGKILL (crash-day does
those). Staff sessions live in kioskd: after its restart the clerk signs in again
(``staff_signed_in_again``); courier sessions likewise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hwsim.parcels import make_parcels
from hwsim.site import COURIER_CODE, FAST_HASH, SimSite, start_site
from kiosk.clock import SystemClock
from kiosk.config import load
from kiosk.domain.parcels import ParcelState
from kiosk.security.secrets import hash_secret
from kiosk.service import manifest
from kiosk.service.controller import Controller

CLERK_CODE = "97531"
MUST_BE_ZERO = ("applied_twice", "lost", "unauthorised_calls_accepted")
STAFF_CALLS = (("counter_confirm", {"clerk_id": "me", "ticket": "x"}),
               ("clerk_open_locker", {"clerk_id": "me", "number": 1}),
               ("clerk_hand_over", {"clerk_id": "me", "trade_number": "1234-5678", "reason": "because"}),
               ("counter_receive", {"clerk_id": "me", "trade_number": "1234-5678"}))


def failed(result: dict) -> bool:
    return bool(any(result[key] for key in MUST_BE_ZERO) or result["unexpected"])


class Screen:
    """One screen process; ``ask`` sends a command and reads its answer."""

    def __init__(self, day: ScreensDay, name: str) -> None:
        self.day, self.name = day, name
        self.proc: subprocess.Popen | None = None
        self.ids = 0
        self.sign_in: str | None = None

    async def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        self.proc = subprocess.Popen([sys.executable, "-m", "hwsim.scenarios.screen_child",  # noqa: ASYNC220 — returns at once
                                      str(self.day.socket)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert json.loads(await self._line()) == {"ready": True}
        if self.sign_in:
            await self.ask("sign_in", {"code": self.sign_in}, killable=False)

    async def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), 30)
        if not line:
            raise RuntimeError(f"{self.name} screen ended")
        return line

    async def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait, 10)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    async def ask(self, call: str, args: dict, *, killable: bool = True) -> dict:
        """Send ``call``; sometimes the screen dies right after (and the person tries again
        on a new one). Returns the answer: ``{"ok": ...}`` or ``{"error": ...}``."""
        while True:
            self.ids += 1
            assert self.proc is not None and self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"id": self.ids, "call": call, "args": args}) + "\n")
            self.proc.stdin.flush()
            if killable and self.day.rng.random() < self.day.kill_p:
                await asyncio.sleep(self.day.rng.choice((0, 0.001, 0.005, 0.02)))
                await self.kill()
                self.day.screen_restarts += 1
                await self.start()
                continue
            answer = json.loads(await self._line())
            self.day.operations += 1
            if answer.get("error") == "NotAllowed" and self.sign_in and call != "sign_in":
                # Staff sessions live in kioskd: after its restart the clerk signs in again.
                self.day.sign_ins_again += 1
                await self.ask("sign_in", {"code": self.sign_in}, killable=False)
                continue
            return answer

    async def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            await self.kill()


class ScreensDay:
    def __init__(self, folder: Path, seed: int, kill_p: float, locks: str = "gpio") -> None:
        self.folder, self.rng, self.kill_p, self.seed = folder, random.Random(seed), kill_p, seed
        self.locks = locks
        self.socket = folder / "run" / "service.sock"
        self.site: SimSite | None = None
        self.operations = self.screen_restarts = self.controller_restarts = 0
        self.unauthorised_accepted = 0
        self.sign_ins_again = 0
        self.reported_done: dict[str, str] = {}     # trade number -> the state a screen said it reached
        self.unexpected: list[str] = []
        self.people: asyncio.Task | None = None

    @property
    def c(self) -> Controller:
        assert self.site is not None
        return self.site.controller

    async def start(self) -> None:
        staff = (f'\n[service]\nsocket = "{self.socket}"\nstaff_idle_s = 3600\n\n[[staff]]\nid = "clerk-1"\n'
                 f'role = "clerk"\ncode_hash = "{hash_secret(CLERK_CODE, FAST_HASH)}"\n')
        self.site = await start_site(self.folder / "site", clock=SystemClock(), locks=self.locks, doors=6, extra=staff,
                                     rng=random.Random(self.seed))
        self.people = asyncio.create_task(self._people())

    async def restart_controller(self) -> None:
        """Stop kioskd and start it again on the same database and socket, under the screens."""
        assert self.people is not None
        self.people.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.people
        await self.c.stop()
        controller = Controller(load(self.folder / "site" / "kiosk.toml"), clock=SystemClock(),
                                rng=random.Random(self.seed + 1))
        await controller.start()
        self.site = SimSite(controller, SystemClock())
        self.controller_restarts += 1
        self.people = asyncio.create_task(self._people())

    async def _people(self) -> None:
        """The people at the doors: an opened door gets its parcel in or out, then is shut."""
        with self.c.subscribe() as events:
            while True:
                event = await events.next("door_open", timeout=3600)
                n, op = event["locker"], event.data.get("op")
                await asyncio.sleep(self.rng.uniform(0, 0.05))
                assert self.site is not None
                if op == "deposit":
                    self.site.doors.put(n)
                elif op == "pickup":
                    self.site.doors.take(n)
                self.site.doors.close(n)

    async def settle(self, trade: str, state: ParcelState) -> None:
        for _ in range(400):
            parcel = self.c.site.db.parcel(trade)
            if parcel is not None and parcel.state == state and (parcel.locker is None or
                                                                  not self.c.site.db.require_locker(parcel.locker).busy):
                return
            await asyncio.sleep(0.01)

    async def run(self, parcels: int) -> dict:
        await self.start()
        lockers = make_parcels(parcels, self.rng, FAST_HASH, now=SystemClock().now())
        counter = make_parcels(parcels // 2, self.rng, FAST_HASH, now=SystemClock().now(), method="secret")
        self.c.import_manifest(manifest.parse({"version": 1, "parcels": [p.entry for p in lockers + counter]}), "day")
        courier, recipient, clerk, intruder = (Screen(self, n) for n in ("courier", "recipient", "clerk", "intruder"))
        clerk.sign_in = CLERK_CODE
        screens = (courier, recipient, clerk, intruder)
        try:
            for screen in screens:
                await screen.start()
            token = ""
            restart_at = self.rng.randrange(1, parcels)
            for i, parcel in enumerate(lockers):
                if i == restart_at:
                    await self.restart_controller()
                    token = ""      # courier sessions live in kioskd's memory: the courier signs in again
                if not token:
                    token = (await courier.ask("courier_login", {"code": COURIER_CODE}, killable=False))["ok"]["token"]
                await self._until_done(courier, "deposit", {"token": token, "trade_number": parcel.trade_number},
                                       parcel.trade_number, ParcelState.ARRIVED)
                await self._until_done(recipient, "submit_code", {"trade_number": parcel.trade_number,
                                                                  "secret": parcel.secret},
                                       parcel.trade_number, ParcelState.COLLECTED)
                call, args = self.rng.choice(STAFF_CALLS)
                answer = await intruder.ask(call, args, killable=False)
                if "ok" in answer:
                    self.unauthorised_accepted += 1
                elif answer["error"] != "NotAllowed":
                    self.unexpected.append(f"intruder {call}: {answer['error']}, not NotAllowed")
            for parcel in counter:
                await self._counter(clerk, parcel)
        finally:
            for screen in screens:
                await screen.close()
            if self.people is not None:
                self.people.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.people
        result = self.verdict([p.trade_number for p in lockers + counter])
        await self.c.stop()
        return result

    async def _until_done(self, screen: Screen, call: str, args: dict, trade: str, state: ParcelState) -> None:
        """A person tries ``call`` until the books show ``state`` (at most three times)."""
        for _ in range(3):
            answer = await screen.ask(call, args)
            await self.settle(trade, state)
            if "ok" in answer:
                self.reported_done[trade] = state.value
            if self.c.site.db.require_parcel(trade).state == state:
                return
        self.unexpected.append(f"{call} {trade}: not {state.value} after three tries; last answer {answer}")

    async def _counter(self, clerk: Screen, parcel) -> None:
        trade = parcel.trade_number
        for _ in range(3):
            answer = await clerk.ask("counter_receive", {"clerk_id": "clerk-1", "trade_number": trade})
            if "error" in answer and answer["error"] not in ("NotCollectable",):
                self.unexpected.append(f"counter_receive {trade}: {answer['error']}: {answer['message']}")
            if self.c.site.db.require_parcel(trade).state != ParcelState.EXPECTED:
                break
        for _ in range(3):
            await clerk.ask("counter_cancel", {})
            await clerk.ask("counter_enter", {"text": trade, "field": "label"})
            answer = await clerk.ask("counter_enter", {"text": parcel.secret, "field": "secret"})
            ticket = (answer.get("ok") or {}).get("ticket")
            if ticket is not None:
                done = await clerk.ask("counter_confirm", {"clerk_id": "clerk-1", "ticket": ticket["ticket"]})
                if "ok" in done:
                    self.reported_done[trade] = ParcelState.COLLECTED.value
            if self.c.site.db.require_parcel(trade).state == ParcelState.COLLECTED:
                return
        self.unexpected.append(f"counter hand-over of {trade}: not collected after three tries; last answer {answer}")

    def verdict(self, trades: list[str]) -> dict:
        db = self.c.site.db
        counts = Counter((e["kind"], e["trade_number"]) for e in db.outbox()
                         if e["kind"] in ("parcel_arrived", "parcel_collected"))
        twice = sum(n - 1 for n in counts.values() if n > 1)
        states = {t: db.require_parcel(t).state.value for t in trades}
        lost = sum(1 for t, s in self.reported_done.items() if s == "collected" and states[t] != "collected")
        lost += sum(1 for s in states.values() if s != "collected")   # never done despite the retries
        return {"scenario": "screens-day", "seed": self.seed, "operations": self.operations,
                "screen_restarts": self.screen_restarts, "controller_restarts": self.controller_restarts,
                "staff_signed_in_again": self.sign_ins_again,
                "parcels": len(trades), "collected": sum(1 for s in states.values() if s == "collected"),
                "applied_twice": twice, "lost": lost, "states": dict(Counter(states.values())), "unauthorised_calls_accepted": self.unauthorised_accepted,
                "unexpected": self.unexpected}


async def run(locks: str = "gpio", seed: int = 0, parcels: int = 8, kill_p: float = 0.2,
              folder: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return await ScreensDay(Path(folder or tmp), seed, kill_p, locks).run(parcels)
