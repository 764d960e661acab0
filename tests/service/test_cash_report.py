"""The cash report (issue 13): payments per trade number, the books against the devices'
credit events, and the cash boxes split at each removal — from a real controller's
database after payments through the real ccTalk driver on the emulated bus."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.service import cash_report
from tests.support import wait_until_async

CASH = "sim+cctalk://?poll_ms=10&hopper_coins=40"


async def pay(c, parcel, insert) -> None:
    with c.subscribe() as events:
        await c.pay_at_locker(parcel.trade_number, parcel.secret)
        insert()
        await events.next("payment", timeout=10, where=lambda e: e["state"] == "paid")


async def test_a_day_of_payments_is_reported_and_reconciled(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4, cash=CASH)
    c = site.controller
    try:
        first, second = await site.add_parcels(2, rng, amount_due=1300)
        for parcel in (first, second):
            await site.deposit(parcel)
        sim = c.site.cash.sim
        await pay(c, first, lambda: sim.validator.insert(2000))        # 700 change
        sim.validator.set_stacker("removed")                           # the clerk empties the box
        await wait_until_async(lambda: c.site.db.audit_entries("cash_fault"), "the removal reported")
        sim.validator.set_stacker("ok")
        await pay(c, second, lambda: (sim.validator.insert(1000), sim.acceptor.insert(500)))  # 200 change

        report = cash_report.build(c.site.db)
        assert report.reconciled, report.problems
        assert [(line.trade_number, line.credited, line.counted, line.paid_back) for line in report.payments] == [
            (first.trade_number, 2000, 2000, 700), (second.trade_number, 1500, 1500, 200)]
        assert (report.taken, report.kept, report.paid_back, report.owed) == (3500, 2600, 900, 0)
        # The first box held the 2,000 note; the one in the machine now the 1,000 note.
        [emptied, now] = report.cash_boxes
        assert emptied.amount == 2000 and emptied.emptied_at is not None
        assert now.amount == 1000 and now.emptied_at is None
        assert "reconciled" in cash_report.as_text(report)
    finally:
        await c.stop()

    # The books rewritten behind the devices' back (a coin that never came): the report says so.
    conn = sqlite3.connect(site.controller.config.database)
    with conn:
        conn.execute("UPDATE payments SET credited = credited + 100 WHERE trade_number = ?", (first.trade_number,))
    conn.close()
    run = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "kiosk.cli", "cash-report", "--config",
                                  str(tmp_path / "site" / "kiosk.toml"), "--json"],
                                  capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    printed = json.loads(run.stdout)
    assert not printed["reconciled"]
    assert any("the devices reported 2000" in p and first.trade_number in p for p in printed["problems"])
    assert any("do not balance" in p for p in printed["problems"])


def test_a_bad_day_is_a_clear_error(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("")
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "cash-report", "--config", str(config), "--day", "3 Dec"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--day" in run.stderr
