"""Money due means no release (issue 8 §6): until payment at pickup exists, a parcel whose
manifest entry carries an ``amount_due`` is refused at every hand-over path before any
secret is checked, and a clerk hands it over only confirming the payment was taken."""

import pytest

from kiosk.clock import ManualClock
from kiosk.devices.roles import Scan
from kiosk.domain.parcels import ParcelState
from kiosk.errors import PaymentDue
from kiosk.service import counter
from kiosk.ui.counter.explain import counter_problem
from kiosk.ui.counter.texts import EN as COUNTER_EN
from kiosk.ui.explain import pickup_problem
from kiosk.ui.texts import EN, JA
from hwsim.site import start_site

AMOUNT = 1980


@pytest.fixture
async def due(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4)
    try:
        [parcel] = await site.add_parcels(1, rng, amount_due=AMOUNT)
        site.locker = await site.deposit(parcel)
        site.parcel = parcel
        yield site
    finally:
        await site.controller.stop()


async def test_a_locker_pickup_is_refused_before_the_secret_is_checked(due):
    c, p = due.controller, due.parcel
    with pytest.raises(PaymentDue) as err:
        await c.submit_code(p.trade_number, p.secret)
    assert err.value.amount_due == AMOUNT and err.value.reason == "payment_due"
    row = c.site.db.parcel(p.trade_number)
    assert row.state == ParcelState.ARRIVED and row.failed_attempts == 0
    assert c.site.db.audit_entries("unlock_commanded")[-1]["detail"]["op"] == "deposit"   # no pickup pulse
    words = pickup_problem(err.value, p.trade_number)
    assert "¥1,980" in words(EN) and "¥1,980" in words(JA)


async def test_a_phone_code_is_refused_with_the_amount(due):
    c, p = due.controller, due.parcel
    with c.subscribe() as events:
        c.scans.feed(Scan(f"P/{p.trade_number}/{p.secret}".encode(), "qr", "test://", 0.0))
        rejected = await events.next("scan_rejected", timeout=5)
    assert rejected["detail"] == "payment_due" and rejected["amount_due"] == AMOUNT
    assert c.site.db.parcel(p.trade_number).state == ParcelState.ARRIVED


async def test_the_counter_hands_it_over_only_with_the_cash(tmp_path, rng):
    """The counter verifies the recipient, then the clerk must take the money
    (tests/service/test_counter_cash.py): a confirmation without it hands nothing over."""
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    try:
        [p] = await site.add_parcels(1, rng, method="secret", amount_due=AMOUNT)
        c = site.controller
        await c.counter_receive("clerk-1", p.trade_number)
        await counter.present(c.site, p.trade_number.encode(), source="scan")
        ticket = await c.counter_verify(p.secret)
        assert ticket.amount_due == AMOUNT
        with pytest.raises(PaymentDue) as err:
            await c.counter_confirm("clerk-1", ticket.ticket)
        assert "¥1,980" in counter_problem(err.value).say(COUNTER_EN)
        assert c.site.db.parcel(p.trade_number).state == ParcelState.ARRIVED
        assert c.site.db.parcel(p.trade_number).failed_attempts == 0
    finally:
        await site.controller.stop()


async def test_a_clerk_hands_it_over_only_confirming_the_payment(due):
    c, p = due.controller, due.parcel
    with pytest.raises(PaymentDue):
        await c.clerk_hand_over("clerk-3", p.trade_number, "recipient at the counter")
    assert c.site.db.parcel(p.trade_number).state == ParcelState.ARRIVED
    await c.clerk_hand_over("clerk-3", p.trade_number, "recipient paid at the counter", payment_taken=True)
    assert c.site.db.parcel(p.trade_number).state == ParcelState.COLLECTED
    notice = [e for e in c.site.db.outbox() if e["kind"] == "parcel_collected"][-1]["payload"]
    assert notice["evidence"]["payment"] == {"amount_due": AMOUNT, "taken_by": "clerk:clerk-3"}
    entry = c.site.db.audit_entries("parcel_collected")[-1]
    assert entry["actor"] == "clerk:clerk-3" and entry["detail"]["payment"]["amount_due"] == AMOUNT
