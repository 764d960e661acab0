"""Forgotten-pickup warnings and expiry through the real controller."""

from kiosk.service.dto import ReturnItem
from kiosk.domain.parcels import ParcelState


async def test_warnings_then_expiry_then_return(site, rng):
    [parcel] = await site.add_parcels(1, rng, hold_s=10 * 86400)  # the store's deadline is far out
    c = site.controller
    store = c.site.db
    locker = await site.deposit(parcel)
    deadline = store.parcel(parcel.trade_number).hold_deadline
    assert deadline is not None
    hold = c.config.holding
    site.clock.advance(deadline - site.clock.now() - hold.reminders_before_s[0] + 1)
    c.tick()
    c.tick()  # a second sweep must not warn again
    kinds = [e["kind"] for e in store.outbox()]
    assert kinds.count("forgotten_pickup") == 1
    site.clock.advance(hold.reminders_before_s[0] - hold.reminders_before_s[1])  # the second lead time
    c.tick()
    warnings = [e for e in store.outbox() if e["kind"] == "forgotten_pickup"]
    assert [w["payload"]["reminder"] for w in warnings] == [1, 2]
    site.clock.advance(deadline)  # far past the deadline
    c.tick()
    assert store.parcel(parcel.trade_number).state == ParcelState.EXPIRED
    assert await c.returns() == (ReturnItem(parcel.trade_number, locker, deadline),)
    assert [e["kind"] for e in store.outbox()].count("parcel_expired") == 1
    await c.clerk_mark_returned("clerk-1", parcel.trade_number)
    assert await c.returns() == () and store.parcel(parcel.trade_number).state == ParcelState.RETURNED


async def test_after_an_outage_one_warning_not_a_burst(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    c = site.controller
    deadline = c.site.db.parcel(parcel.trade_number).hold_deadline
    site.clock.advance(deadline - site.clock.now() - 60)  # the controller slept through both lead times
    c.tick()
    warnings = [e for e in c.site.db.outbox() if e["kind"] == "forgotten_pickup"]
    assert len(warnings) == 1 and warnings[0]["payload"]["reminder"] == 2
