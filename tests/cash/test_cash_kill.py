"""A kill -9 of the controller in the middle of a cash payment: every coin counted once.

The controller runs in a child process with the real drivers on the ptys of emulators
that live here, in the test: Kerong lock boards and the ccTalk cash bus. The child is
SIGKILLed after a credit is on its books; a coin goes in while it is dead (the acceptor was
left taking money); a new controller on the same database resumes after the stored event
counter, counts that coin once, and pays everything back.
"""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hwsim.cash.bus import standard_bus
from hwsim.kerong_board import KerongBoardSim
from hwsim.parcels import make_parcels, manifest_document
from hwsim.site import COURIER_CODE, FAST_HASH, write_config
from kiosk.clock import SystemClock
from kiosk.config import load
from kiosk.domain.parcels import ParcelState
from kiosk.domain.payments import PaymentState, balanced
from kiosk.service.controller import Controller
from kiosk.storage import payments as books
from tests.cash.conftest import wait_until

CHILD = Path(__file__).with_name("cash_child.py")
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def no_leaks():
    yield  # a whole controller: the suite-wide thread check (tests/conftest.py) applies instead


def run_child_and_kill_mid_payment(tmp_path, config, parcel, locks, cash, moment: str) -> None:
    """Run the child, playing courier and customer, and SIGKILL it at ``moment``: "collecting"
    (a 500 coin credited) or "changing" (a 2,000 note in, the hopper paying change)."""
    man = tmp_path / "manifest.json"
    man.write_text(json.dumps(manifest_document([parcel])))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, str(CHILD), str(config), str(man), parcel.trade_number,
                              parcel.secret, COURIER_CODE],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(60, child.kill)  # a child that never reaches the moment must not hang the suite
    watchdog.start()
    try:
        while True:
            line = child.stdout.readline()
            assert line, "child ended early: " + child.stderr.read()
            word, *values = line.split()
            if word == "DEPOSIT_OPEN":
                locks.doors.put(int(values[0]))
                locks.doors.close(int(values[0]))
            elif word == "COLLECTING" and moment == "collecting":
                assert cash.acceptor.insert(500) == "accepted"
            elif word == "COLLECTING":
                assert cash.validator.insert(2000) == "escrow"
            elif word == "PAYMENT" and (moment, values[0]) in (("collecting", "collecting"), ("changing", "changing")) \
                    and int(values[1]) > 0:
                if moment == "changing":
                    wait_until(lambda: cash.hopper.remaining > 0, "the hopper paying change")
                os.kill(child.pid, signal.SIGKILL)  # no clean-up of any kind
                child.wait(10)
                break
            elif word == "PAYMENT" and values[0] == "paid":
                raise AssertionError(f"the moment {moment!r} never came")
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait(10)
        child.stdout.close()
        child.stderr.close()


async def test_killed_mid_payment_then_a_coin_while_down(tmp_path, rng):
    parcel = make_parcels(1, rng, FAST_HASH, now=SystemClock().now(), amount_due=1500)[0]
    with KerongBoardSim(boards=1, doors=4) as locks, standard_bus(hopper_coins=40) as cash:
        config = write_config(tmp_path, locks=f"kerong+serial://{locks.port}?boards=1&doors=4&poll_ms=20",
                              cash=f"cctalk+serial://{cash.port}?poll_ms=10")
        run_child_and_kill_mid_payment(tmp_path, config, parcel, locks, cash, "collecting")
        # Dead controller, acceptor still enabled: a coin goes in and is taken.
        assert cash.acceptor.insert(100) == "accepted"
        c = Controller(load(config))
        with c.subscribe() as events:
            await c.start()
            try:
                await events.next("payment", timeout=15, where=lambda e: e["state"] in ("refunded", "refund_owed"))
                wait_until(lambda: cash.hopper.remaining == 0, "hopper done")
                [row] = books.payments(c.site.db, parcel.trade_number)
                assert row.credited == 600  # the coin before the kill and the one while down, each once
                assert row.state in (PaymentState.REFUNDED, PaymentState.REFUND_OWED) and balanced(row)
                assert row.paid_back == cash.hopper.paid_out * 100
                assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
                assert not cash.acceptor.master  # money refused again
                assert c.site.db.verify_audit().ok
            finally:
                await c.stop()
        # A second start counts nothing again.
        again = Controller(load(config))
        await again.start()
        try:
            [row2] = books.payments(again.site.db, parcel.trade_number)
            assert row2 == row
        finally:
            await again.stop()


async def test_killed_while_the_hopper_pays_change(tmp_path, rng):
    parcel = make_parcels(1, rng, FAST_HASH, now=SystemClock().now(), amount_due=1300)[0]
    with KerongBoardSim(boards=1, doors=4) as locks, standard_bus(hopper_coins=40) as cash:
        cash.hopper.coins_per_s = 10.0  # 7 coins: long enough to die in the middle
        config = write_config(tmp_path, locks=f"kerong+serial://{locks.port}?boards=1&doors=4&poll_ms=20",
                              cash=f"cctalk+serial://{cash.port}?poll_ms=10")
        run_child_and_kill_mid_payment(tmp_path, config, parcel, locks, cash, "changing")
        c = Controller(load(config))
        with c.subscribe() as events:
            await c.start()
            try:
                closed = await events.next("payment", timeout=20, where=lambda e: e["state"] == "paid")
                # The hopper finished the dispense the dead controller started; the books say so.
                cash.hopper.advance()
                assert cash.hopper.paid_out == 7 and closed["paid_back"] == 700 and closed["owed"] == 0
                [row] = books.payments(c.site.db, parcel.trade_number)
                assert row.state is PaymentState.PAID and balanced(row)
                assert c.site.db.parcel(parcel.trade_number).amount_paid == 1300
                [notice] = [e["payload"] for e in c.site.db.outbox() if e["kind"] == "cash_collected"]
                assert (notice["change_paid"], notice["change_owed"]) == (700, 0)
            finally:
                await c.stop()
