"""Cash at a locker (issue 13): verified → pay → change → only then the door opens.

The whole controller runs with the real ccTalk driver on the emulated bus (sim+cctalk://)
and emulated GPIO doors; the test plays the customer at the acceptors.
"""

from __future__ import annotations

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState, check_state_for_handover
from kiosk.domain.payments import PaymentState, balanced
from kiosk.errors import CodeInvalid, InvalidTransition, PaymentDue, SeeStaff
from kiosk.service import payment
from kiosk.storage import payments as books

CASH = "sim+cctalk://?poll_ms=10&hopper_coins=40"


async def make_site(tmp_path, rng, amount_due: int, cash: str = CASH):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4, cash=cash)
    [parcel] = await site.add_parcels(1, rng, amount_due=amount_due)
    await site.deposit(parcel)
    return site, parcel


@pytest.fixture
async def due(tmp_path, rng):
    site, parcel = await make_site(tmp_path, rng, 1500)
    site.parcel = parcel
    try:
        yield site
    finally:
        await site.controller.stop()


def outbox(c, kind: str) -> list[dict]:
    return [e["payload"] for e in c.site.db.outbox() if e["kind"] == kind]


async def test_exact_money_then_the_door_opens(due):
    c, p = due.controller, due.parcel
    sim = c.site.cash.sim
    with c.subscribe() as events:
        session = await c.pay_at_locker(p.trade_number, p.secret)
        assert (session.amount_due, session.state) == (1500, "collecting")
        assert sim.acceptor.master and sim.validator.master  # money taken only now
        assert sim.validator.insert(1000) == "escrow"
        await events.next("payment", timeout=5, where=lambda e: e["credited"] == 1000)
        sim.acceptor.insert(500)
        started = await events.next("pickup_started", timeout=5)
    assert started["trade_number"] == p.trade_number
    assert not sim.acceptor.master and not sim.validator.master  # refused again
    [row] = books.payments(c.site.db, p.trade_number)
    assert (row.state, row.credited, row.paid_back, row.owed) == (PaymentState.PAID, 1500, 0, 0)
    assert row.denominations == {"JP0100A": 1, "JP500A": 1} and balanced(row)
    [collected] = outbox(c, "cash_collected")
    assert collected["amount"] == 1500 and collected["change_paid"] == 0 and collected["method"] == "locker"
    assert collected["devices"]["validator@40"] == sim.validator.serial
    assert c.site.db.parcel(p.trade_number).amount_paid == 1500
    # The receipt is in the same transaction as the payment: one audit entry, then the door.
    actions = [e["action"] for e in c.site.db.audit_entries()]
    assert actions.index("payment_completed") < actions.index("unlock_commanded", actions.index("payment_started"))


async def test_change_is_paid_before_the_door_opens(tmp_path, rng):
    site, p = await make_site(tmp_path, rng, 1300)
    c = site.controller
    try:
        sim = c.site.cash.sim
        with c.subscribe() as events:
            await c.pay_at_locker(p.trade_number, p.secret)
            sim.validator.insert(2000)
            paid = await events.next("payment", timeout=10, where=lambda e: e["state"] == "paid")
            await events.next("pickup_started", timeout=5)
        assert paid["paid_back"] == 700 and sim.hopper.paid_out == 7
        [collected] = outbox(c, "cash_collected")
        assert (collected["received"], collected["change_paid"], collected["change_owed"]) == (2000, 700, 0)
    finally:
        await c.stop()


async def test_cancel_pays_everything_back_and_keeps_the_door_shut(due):
    c, p = due.controller, due.parcel
    sim = c.site.cash.sim
    with c.subscribe() as events:
        session = await c.pay_at_locker(p.trade_number, p.secret)
        sim.acceptor.insert(100)
        await events.next("payment", timeout=5, where=lambda e: e["credited"] == 100)
        ended = await c.cancel_payment(session.payment_id)
    assert ended.state == "refunded" and sim.hopper.paid_out == 1
    assert not sim.acceptor.master
    [refund] = outbox(c, "cash_refunded")
    assert (refund["received"], refund["paid_back"], refund["owed"]) == (100, 100, 0)
    assert outbox(c, "cash_collected") == []
    parcel = c.site.db.parcel(p.trade_number)
    assert parcel.amount_paid == 0 and parcel.state == ParcelState.ARRIVED
    with pytest.raises(PaymentDue):
        await c.submit_code(p.trade_number, p.secret)


async def test_what_the_hopper_cannot_pay_back_is_owed(tmp_path, rng):
    site, p = await make_site(tmp_path, rng, 1500, cash="sim+cctalk://?poll_ms=10&hopper_coins=3")
    c = site.controller
    try:
        sim = c.site.cash.sim
        with c.subscribe() as events:
            session = await c.pay_at_locker(p.trade_number, p.secret)
            sim.validator.insert(1000)
            await events.next("payment", timeout=5, where=lambda e: e["credited"] == 1000)
        ended = await c.cancel_payment(session.payment_id)
        assert ended.state == "refund_owed"
        [row] = books.payments(c.site.db, p.trade_number)
        assert (row.paid_back, row.owed) == (300, 700) and balanced(row)
        assert outbox(c, "cash_refunded")[0]["owed"] == 700
    finally:
        await c.stop()


async def test_a_payment_left_alone_times_out_and_is_refunded(due, caplog):
    c, p = due.controller, due.parcel
    sim = c.site.cash.sim
    with c.subscribe() as events:
        await c.pay_at_locker(p.trade_number, p.secret)
        sim.acceptor.insert(500)
        await events.next("payment", timeout=5, where=lambda e: e["credited"] == 500)
        due.clock.advance(payment.PAYMENT_TIMEOUT_S + 1)
        c.tick()
        c.tick()  # a second tick before the refund ran must not start another
        refunded = await events.next("payment", timeout=10, where=lambda e: e["state"] == "refunded")
    assert refunded["paid_back"] == 500 and sim.hopper.paid_out == 5
    assert len(outbox(c, "cash_refunded")) == 1
    assert [e["action"] for e in c.site.db.audit_entries()].count("payment_cancelled") == 1
    await c.settle()
    assert not [r for r in caplog.records if r.name == "kiosk.service.payment_slot"]  # no second refund tried


async def test_a_wrong_secret_opens_no_payment(due):
    c, p = due.controller, due.parcel
    with pytest.raises(CodeInvalid):
        await c.pay_at_locker(p.trade_number, "000000" if p.secret != "000000" else "111111")
    assert books.payments(c.site.db) == []
    assert not c.site.cash.sim.acceptor.master


async def test_each_credit_is_counted_once_and_its_counter_stored(due):
    c, p = due.controller, due.parcel
    sim = c.site.cash.sim
    with c.subscribe() as events:
        await c.pay_at_locker(p.trade_number, p.secret)
        for _ in range(3):
            sim.acceptor.insert(100)
        await events.next("payment", timeout=5, where=lambda e: e["credited"] == 300)
        sim.acceptor.coin_on_string(100)  # credited once, then the fraud alarm
        await events.next("alarm", timeout=5, where=lambda e: e["alarm"] == "cash_fraud")
    [row] = books.payments(c.site.db, p.trade_number)
    assert row.credited == 400
    assert books.counters(c.site.db)["acceptor"] == sim.acceptor.counter


async def test_money_taken_for_a_door_that_then_fails_stays_with_the_parcel(due):
    c, p = due.controller, due.parcel
    sim = c.site.cash.sim
    locker = c.site.db.parcel(p.trade_number).locker
    due.doors.jam(locker)
    with c.subscribe() as events:
        await c.pay_at_locker(p.trade_number, p.secret)
        sim.validator.insert(1000)
        sim.acceptor.insert(500)
        await events.next("pickup_started", timeout=5)
        due.clock.advance(c.config.timing.open_timeout_s + 1)
        c.tick()
        await events.next("locker_fault", timeout=5)
    parcel = c.site.db.parcel(p.trade_number)
    assert parcel.amount_paid == 1500
    check_state_for_handover(parcel)  # no hand-over path asks for the money again
    with pytest.raises(SeeStaff):       # the locker needs a clerk; no second payment opens
        await c.pay_at_locker(p.trade_number, p.secret)
    assert len(books.payments(c.site.db)) == 1
    await c.clerk_hand_over("clerk-1", p.trade_number, "door jammed after payment")  # no payment_taken needed
    assert c.site.db.parcel(p.trade_number).state == ParcelState.COLLECTED
    notice = outbox(c, "parcel_collected")[-1]
    assert notice["evidence"]["payment"] == {"amount_due": 1500, "taken_by": "cash:locker"}


async def test_a_restart_mid_payment_refunds_it(tmp_path, rng):
    site, p = await make_site(tmp_path, rng, 1500)
    c = site.controller
    with c.subscribe() as events:
        await c.pay_at_locker(p.trade_number, p.secret)
        c.site.cash.sim.acceptor.insert(500)
        await events.next("payment", timeout=5, where=lambda e: e["credited"] == 500)
    await c.stop()  # the controller goes away with the payment open
    from kiosk.service.controller import Controller
    again = Controller(c.config, clock=site.clock)
    with again.subscribe() as events:
        await again.start()
        try:
            refunded = await events.next("payment", timeout=10, where=lambda e: e["state"] == "refunded")
            assert refunded["paid_back"] == 500
            [row] = books.payments(again.site.db, p.trade_number)
            assert row.state is PaymentState.REFUNDED and balanced(row)
        finally:
            await again.stop()


async def test_nothing_due_opens_no_payment(tmp_path, rng):
    site, p = await make_site(tmp_path, rng, 0)
    try:
        with pytest.raises(InvalidTransition):
            await site.controller.pay_at_locker(p.trade_number, p.secret)
        assert books.payments(site.controller.site.db) == []
    finally:
        await site.controller.stop()


async def test_cash_devices_that_cannot_open_leave_the_lockers_working(tmp_path, rng):
    site, p = await make_site(tmp_path, rng, 1500, cash="cctalk+serial:///dev/no-such-cctalk-port")
    c = site.controller
    try:
        status = await c.site_status()
        [cash] = [d for d in status.devices if d.role == "cash"]
        assert not cash.ok and "no-such-cctalk-port" in cash.detail
        with pytest.raises(SeeStaff, match="takes no cash"):
            await c.pay_at_locker(p.trade_number, p.secret)
        assert any(e["payload"].get("component") == "cash" for e in c.site.db.outbox() if e["kind"] == "device_health")
    finally:
        await c.stop()


async def test_site_status_shows_the_cash_devices(due):
    status = await due.controller.site_status()
    [cash] = [d for d in status.devices if d.role == "cash"]
    assert cash.ok and "acceptor@2" in cash.detail
