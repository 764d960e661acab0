"""A scripted day of cash at a locker's payment slot (issue 13).

Parcels with money due are deposited by the courier and paid for at the slot: with exact
money, with a note that needs change, after a wrong secret; some recipients cancel or walk
away (timeout) and come back; the devices misbehave along the way: a hopper jams or runs
dry while paying change, a note jams in escrow, the coin acceptor loses power, noise on the
line, a coin on a string, a note pulled back after credit; and the controller is restarted
in the middle of a payment. The controller, its ccTalk driver and the emulated bus are the
real ones (``sim+cctalk://`` with a 100-yen and a 10-yen hopper).

The result is judged two ways that do not depend on each other: the books (payments,
outbox, parcels) and the emulators' own counts of money taken in and paid out::

    ledger_total            Σ credited − Σ paid back, from the payments table
    acceptor_counted_total  coins the acceptor took + notes the validator stacked (emulators)
    change_paid             coins the hoppers paid out (emulators)
    money_unaccounted       acceptor_counted_total − change_paid − ledger_total   (must be 0)
    released_unpaid         parcels collected without their amount paid (must be 0)
    paid_twice              parcels paid for more than once (must be 0)

At the counter, the same day: parcels with money due handed over by a clerk who types the
cash taken — exactly, with change, first too little, first none (the hand-over is refused
until the money is there)::

    counter_paid            counter hand-overs paid (cash_collected events with method counter)
    counter_cash_total      what they took, which must equal what those parcels have paid

A controller restart here is an orderly stop and start (a SIGKILL mid-payment is not
scripted yet): the payment it interrupts must come back refunded, never lost.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from hwsim.cash.devices import HopperSim
from hwsim.scenarios.invariants import summarise
from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.domain.payments import PaymentState
from kiosk.errors import CodeInvalid, KioskError, PaymentDue
from kiosk.service import payment
from kiosk.service.controller import Controller
from kiosk.storage import payments as books

CASH_URL = "sim+cctalk://?poll_ms=10&hopper=3,4&hopper_coin=JP100A,JP010A&hopper_coins=150"
AMOUNTS = (1980, 1500, 300, 2400, 760, 1210)
BEHAVIOURS = ("exact", "change", "wrong_secret", "cancel", "timeout", "hopper_jam", "hopper_empty",
              "note_jam", "power_cut", "noise", "string", "pullback")
NOTES = (10_000, 5000, 2000, 1000)
COINS = (500, 100, 50, 10)
WAIT = 15.0


def exact_money(amount: int) -> list[tuple[str, int]]:
    """Notes and coins that make ``amount``, largest first."""
    out = []
    for value in NOTES + COINS:
        while amount >= value:
            out.append(("note" if value in NOTES else "coin", value))
            amount -= value
    return out


class Day:
    def __init__(self, site, rng: random.Random):
        self.site, self.rng = site, rng
        self.unexpected: list[str] = []
        self.retired = {"taken": 0, "paid_out": 0}  # emulators replaced by a restart
        self.restarts = 0
        self.counter_parcels: set[str] = set()

    @property
    def c(self) -> Controller:
        return self.site.controller

    @property
    def bus(self):
        return self.c.site.cash.sim

    def physical(self) -> dict[str, int]:
        bus = self.bus
        taken = sum(bus.acceptor.value_of(bus.acceptor.positions[a]) or 0 for _, a, _ in bus.acceptor.log if a)
        taken += sum(bus.validator.stacked)
        paid_out = sum(h.paid_out * h.value for h in bus.devices.values() if isinstance(h, HopperSim))
        return {"taken": self.retired["taken"] + taken, "paid_out": self.retired["paid_out"] + paid_out}

    async def visit(self, p, behaviour: str) -> None:
        c = self.c
        with c.subscribe() as events:
            if behaviour == "wrong_secret":
                try:
                    await c.pay_at_locker(p.trade_number, "0" * 6 if p.secret != "0" * 6 else "1" * 6)
                    self.unexpected.append(f"{p.trade_number}: a wrong secret opened a payment")
                except CodeInvalid:
                    pass
            session = await c.pay_at_locker(p.trade_number, p.secret)
            if behaviour in ("cancel", "timeout", "restart"):
                await self.walk_away(session, behaviour, events)
                return await self.visit(p, "exact")  # they come back and pay
            try:
                await self.pay(session, behaviour, events)
                await events.next("payment", timeout=WAIT,
                                  where=lambda e: e["payment_id"] == session.payment_id and e["state"] == "paid")
            finally:
                self.repair()  # after the change was paid: the faults have done their work
            started = await events.next("pickup_started", timeout=WAIT, where=lambda e: e["trade_number"] == p.trade_number)
            await events.next("door_open", timeout=WAIT, where=lambda e: e["locker"] == started["locker"])
            self.site.doors.take(started["locker"])
            self.site.doors.close(started["locker"])
            await events.next("parcel_collected", timeout=WAIT, where=lambda e: e["trade_number"] == p.trade_number)

    async def pay(self, session, behaviour: str, events) -> None:
        bus, due = self.bus, session.amount_due
        if behaviour in ("change", "hopper_jam", "hopper_empty"):
            money = [("note", next(n for n in sorted(NOTES) if n > due) if due < 10_000 else 10_000)]
            money += exact_money(max(0, due - money[0][1]))
            hoppers = [h for h in bus.devices.values() if isinstance(h, HopperSim)]
            if behaviour == "hopper_jam":
                hoppers[0].jam_after(1)
            if behaviour == "hopper_empty":
                hoppers[1].coins = 0
        else:
            money = exact_money(due)
        credited = 0
        for i, (kind, value) in enumerate(money):
            if behaviour == "note_jam" and kind == "note" and i == 0:
                bus.validator.jam_in_escrow = True
                bus.validator.insert(value)
                await events.next("alarm", timeout=WAIT, where=lambda e: e["alarm"] == "cash_escrow")
                bus.validator.jam_in_escrow = False
                money += [("coin", 500)] * (value // 500)  # the customer pays that part in coins instead
                continue
            if behaviour == "power_cut" and i == 1:
                had_events = bus.acceptor.counter != 0
                bus.acceptor.power_cut()
                if had_events:  # a counter back at 0 is a reset the driver reports
                    await events.next("alarm", timeout=WAIT, where=lambda e: e["alarm"] == "cash_reset")
            if behaviour == "noise":
                bus.inject_garbage(bytes(self.rng.randrange(256) for _ in range(12)))
            if kind == "note":
                bus.validator.insert(value)
            elif behaviour == "string" and i == len(money) - 1:
                bus.acceptor.coin_on_string(value)
            else:
                await self.insert_coin(value)
            credited += value
            if credited < due:
                await events.next("payment", timeout=WAIT, where=lambda e, want=credited: e["credited"] >= want)
            if behaviour == "pullback" and kind == "note":
                bus.validator.pull_back()

    async def counter(self, behaviours: list[str]) -> None:
        """Parcels with money due handed over at the counter, the clerk typing the cash."""
        c = self.c
        made = await self.site.add_parcels(len(behaviours), self.rng, method="secret",
                                           amount_due=self.rng.choice(AMOUNTS))
        for behaviour, p in zip(behaviours, made, strict=True):
            self.counter_parcels.add(p.trade_number)
            await c.counter_receive("clerk-cash", p.trade_number)
            await c.counter_present(p.trade_number.encode())
            ticket = await c.counter_verify(p.secret)
            due = ticket.amount_due
            first = {"exact": due, "change": (due // 1000 + 1) * 1000, "short": due - 10, "none": None}[behaviour]
            try:
                await c.counter_confirm("clerk-cash", ticket.ticket, cash_received=first)
            except PaymentDue:
                if behaviour in ("exact", "change"):
                    self.unexpected.append(f"counter {behaviour} {p.trade_number}: refused with the money there")
                if c.site.db.parcel(p.trade_number).state == ParcelState.COLLECTED:
                    self.unexpected.append(f"counter {behaviour} {p.trade_number}: collected though refused")
                await c.counter_confirm("clerk-cash", ticket.ticket, cash_received=due)
            else:
                if behaviour in ("short", "none"):
                    self.unexpected.append(f"counter {behaviour} {p.trade_number}: handed over without the money")

    async def insert_coin(self, value: int) -> None:
        """A coin that bounces (an acceptor just back from a power cut, still inhibited) is
        tried again once the controller has it taking money."""
        acceptor = self.bus.acceptor
        for _ in range(int(WAIT / 0.01)):
            if acceptor.insert(value) == "accepted":
                return
            await asyncio.sleep(0.01)  # the customer picks the coin up from the return cup
        self.unexpected.append(f"coin {value} never accepted")

    def repair(self) -> None:
        """The technician's round after a visit: jams cleared, the hoppers topped up."""
        for hopper in self.bus.devices.values():
            if isinstance(hopper, HopperSim):
                hopper.advance()
                if hopper.remaining == 0:
                    hopper.jam_after(None)
                    hopper.coins = max(hopper.coins, 150)

    async def walk_away(self, session, behaviour: str, events) -> None:
        bus = self.bus
        coins = [v for _, v in exact_money(session.amount_due) if v < 1000][:2] or [10]
        for value in coins:
            bus.acceptor.insert(value)
        await events.next("payment", timeout=WAIT, where=lambda e: e["credited"] >= sum(coins))
        if behaviour == "cancel":
            await self.c.cancel_payment(session.payment_id)
        elif behaviour == "timeout":
            self.site.clock.advance(payment.PAYMENT_TIMEOUT_S + 1)
            self.c.tick()
            await events.next("payment", timeout=WAIT, where=lambda e: e["state"] in ("refunded", "refund_owed"))
        else:
            await self.restart()

    async def restart(self) -> None:
        counts = self.physical()
        self.retired = counts
        config, clock = self.c.config, self.site.clock
        await self.c.stop()
        self.restarts += 1
        again = Controller(config, clock=clock)
        with again.subscribe() as events:
            await again.start()
            self.site.controller = again
            await events.next("payment", timeout=WAIT, where=lambda e: e["state"] in ("refunded", "refund_owed"))


async def run(locks: str = "gpio", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="cash-day-") as tmp:
        site = await start_site(Path(folder or tmp), clock=ManualClock(), locks=locks, doors=6, cash=CASH_URL)
        day = Day(site, rng)
        plan = list(BEHAVIOURS) + ["restart"] + [rng.choice(BEHAVIOURS) for _ in range(5)]
        rng.shuffle(plan)
        try:
            await day.counter(["exact", "change", "short", "none"])
            for behaviour in plan:
                [parcel] = await site.add_parcels(1, rng, amount_due=rng.choice(AMOUNTS))
                await site.deposit(parcel)
                try:
                    await day.visit(parcel, behaviour)
                except (TimeoutError, KioskError) as err:
                    day.unexpected.append(f"{behaviour} {parcel.trade_number}: {type(err).__name__}: {err}")
        except Exception as err:  # noqa: BLE001 - a crash is a finding, reported in the result
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        finally:
            result = judge(day, plan)
            await site.controller.stop()
    return result


def judge(day: Day, plan: list[str]) -> dict:
    db = day.c.site.db
    rows = books.payments(db)
    physical = day.physical()
    ledger = sum(p.credited - p.paid_back for p in rows)
    paid = [p for p in rows if p.state is PaymentState.PAID]
    paid_per_parcel: dict[str, int] = {}
    for p in paid:
        paid_per_parcel[p.trade_number] = paid_per_parcel.get(p.trade_number, 0) + 1
    parcels = db.parcels()
    records = summarise(db)
    at_counter = [e for e in db.outbox() if e["kind"] == "cash_collected" and e["payload"]["method"] == "counter"]
    return {
        "visits": len(plan),
        "behaviours": sorted(set(plan)),
        "payments": len(rows),
        "paid": len(paid),
        "refunded": sum(1 for p in rows if p.state in (PaymentState.REFUNDED, PaymentState.REFUND_OWED)),
        "paid_total": sum(p.amount_due for p in paid),
        "ledger_total": ledger,
        "acceptor_counted_total": physical["taken"],
        "change_paid": physical["paid_out"],
        "refund_owed_total": sum(p.owed for p in rows),
        "collected": sum(1 for p in parcels if p.state == ParcelState.COLLECTED),
        "released_unpaid": sum(1 for p in parcels if p.state == ParcelState.COLLECTED and p.amount_paid < p.amount_due),
        "paid_twice": sum(1 for n in paid_per_parcel.values() if n > 1)
        + sum(1 for p in parcels if p.amount_paid > p.amount_due),
        "money_unaccounted": physical["taken"] - physical["paid_out"] - ledger,
        "cash_collected_events": sum(1 for e in db.outbox() if e["kind"] == "cash_collected"),
        "counter_paid": len(at_counter),
        "counter_cash_total": sum(e["payload"]["amount"] for e in at_counter),
        "counter_books_total": sum(p.amount_paid for p in parcels if p.trade_number in day.counter_parcels),
        "restarts": day.restarts,
        "released_without_door_evidence": records["released_without_door_evidence"],
        "released_twice": records["released_twice"],
        "audit_chain_ok": db.verify_audit().ok,
        "unexpected": day.unexpected,
    }


def failed(result: dict) -> bool:
    return bool(result["released_unpaid"] or result["paid_twice"] or result["money_unaccounted"]
                or result["counter_cash_total"] != result["counter_books_total"]
                or result["unexpected"] or not result["audit_chain_ok"] or result["released_without_door_evidence"])
