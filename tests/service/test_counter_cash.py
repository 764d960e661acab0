"""Cash at the counter (issue 13): the clerk sees the amount due once the recipient is
verified, types the cash taken, and the hand-over, the payment (with its change) and the
``cash_collected`` event are one transaction; too little or none hands nothing over."""

from __future__ import annotations

import random

import pytest

from hwsim.parcels import make_parcels
from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import InvalidTransition, PaymentDue
from kiosk.service import cash_report, counter, manifest


@pytest.fixture
async def desk(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    c = sim.controller
    parcels = make_parcels(2, random.Random(3), c.config.hash_params, now=sim.clock.now(), method="secret",
                           amount_due=1980)
    c.import_manifest(manifest.parse({"version": 1, "parcels": [p.entry for p in parcels]}), "test")
    for p in parcels:
        counter.receive(c.site, "clerk-1", p.trade_number)
    try:
        yield c, parcels
    finally:
        await c.stop()


async def verified(c, parcel):
    await c.counter_present(parcel.trade_number.encode())
    return await counter.verify(c.site, parcel.secret)


async def test_the_clerk_takes_the_cash_and_the_change_is_in_the_books(desk):
    c, [parcel, _] = desk
    ticket = await verified(c, parcel)
    assert ticket.amount_due == 1980
    assert await c.counter_confirm("clerk-1", ticket.ticket, cash_received=2000) == parcel.trade_number
    row = c.site.db.parcel(parcel.trade_number)
    assert row.state is ParcelState.COLLECTED and row.amount_paid == 1980
    [paid] = [e["payload"] for e in c.site.db.outbox() if e["kind"] == "cash_collected"]
    assert (paid["amount"], paid["received"], paid["change_paid"], paid["method"]) == (1980, 2000, 20, "counter")
    [notice] = [e["payload"] for e in c.site.db.outbox() if e["kind"] == "parcel_collected"]
    assert notice["evidence"]["payment"] == {"amount_due": 1980, "taken_by": "cash:counter"}
    [entry] = c.site.db.audit_entries("payment_completed")
    assert entry["actor"] == "clerk:clerk-1" and entry["detail"]["change_paid"] == 20
    # The counter's cash is not the payment slot's: the slot's cash report is not disturbed.
    assert cash_report.build(c.site.db).reconciled


@pytest.mark.parametrize("cash", [None, 1000])
async def test_no_cash_or_too_little_hands_nothing_over(desk, cash):
    c, [parcel, _] = desk
    ticket = await verified(c, parcel)
    with pytest.raises(PaymentDue) as refused:
        await c.counter_confirm("clerk-1", ticket.ticket, cash_received=cash)
    assert refused.value.amount_due == 1980
    assert c.site.db.parcel(parcel.trade_number).state is ParcelState.ARRIVED
    assert not [e for e in c.site.db.outbox() if e["kind"] in ("cash_collected", "parcel_collected")]
    # The verification still stands: the clerk takes the rest and confirms.
    assert await c.counter_confirm("clerk-1", ticket.ticket, cash_received=1980) == parcel.trade_number


async def test_cash_for_a_parcel_with_nothing_due_is_refused(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    c = sim.controller
    try:
        [parcel] = make_parcels(1, random.Random(4), c.config.hash_params, now=sim.clock.now(), method="secret")
        c.import_manifest(manifest.parse({"version": 1, "parcels": [parcel.entry]}), "test")
        counter.receive(c.site, "clerk-1", parcel.trade_number)
        ticket = await verified(c, parcel)
        assert ticket.amount_due == 0
        with pytest.raises(InvalidTransition):
            await c.counter_confirm("clerk-1", ticket.ticket, cash_received=500)
        assert c.site.db.parcel(parcel.trade_number).state is ParcelState.ARRIVED
    finally:
        await c.stop()
