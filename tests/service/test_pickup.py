"""F6 end to end through the real controller and each real lock driver on its emulator."""

import pytest

from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, LockedOut, NotCollectable, SeeStaff, SlowDown, UnknownParcel
from tests.support import wait_until_async


async def collect(site, parcel, close=True):
    c = site.controller
    with c.subscribe() as events:
        started = await c.submit_code(parcel.trade_number, parcel.secret)
        await events.next("door_open", where=lambda e: e["locker"] == started.locker)
        if close:
            site.doors.take(started.locker)
            site.doors.close(started.locker)
            await events.next("parcel_collected", where=lambda e: e["locker"] == started.locker)
    return started


async def test_deposit_then_pickup(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    store = site.controller.site.db
    assert store.parcel(parcel.trade_number).state == ParcelState.EXPECTED
    locker = await site.deposit(parcel)
    assert store.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    assert store.locker(locker).state == LockerState.OCCUPIED
    started = await collect(site, parcel)
    assert started.locker == locker
    p = store.parcel(parcel.trade_number)
    assert p.state == ParcelState.COLLECTED and p.secret_hash is None  # purged
    assert store.locker(locker).state == LockerState.FREE
    kinds = [e["kind"] for e in store.outbox()]
    assert kinds == ["parcel_arrived", "parcel_collected"]
    notice = store.outbox()[-1]["payload"]
    assert notice["locker"] == locker and notice["evidence"]["door_opened_at"] is not None
    assert site.controller.site.db.verify_audit().ok


async def test_opened_door_is_not_yet_collected(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    started = await collect(site, parcel, close=False)
    store = site.controller.site.db
    assert store.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    assert store.locker(started.locker).state == LockerState.UNLOADING
    # The same secret again while the door is open does not pulse a second time.
    with pytest.raises(NotCollectable, match="already open"):
        await site.controller.submit_code(parcel.trade_number, parcel.secret)


async def test_wrong_secret_counts_down_then_locks(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    c = site.controller
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeInvalid) as err:
            await c.submit_code(parcel.trade_number, "000000" if parcel.secret != "000000" else "111111")
        assert err.value.attempts_left == left
    with pytest.raises(LockedOut):
        await c.submit_code(parcel.trade_number, "999999" if parcel.secret != "999999" else "111111")
    # Now even the right secret does not open it, and no pulse was sent.
    pulses = sum(d.pulses for d in site.doors.doors.values())
    with pytest.raises(LockedOut):
        await c.submit_code(parcel.trade_number, parcel.secret)
    assert sum(d.pulses for d in site.doors.doors.values()) == pulses
    kinds = [e["kind"] for e in c.site.db.outbox()]
    assert kinds.count("verification_failed") == 5 and kinds.count("parcel_locked_out") == 1
    # A clerk resets it; the recipient can collect.
    await c.clerk_reset_attempts("clerk-1", parcel.trade_number)
    await collect(site, parcel)
    # The secret never reaches the audit log or the outbox.
    dump = repr(c.site.db.audit_entries()) + repr(c.site.db.outbox())
    assert parcel.secret not in dump


async def test_unknown_and_not_arrived(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    with pytest.raises(UnknownParcel):
        await site.controller.submit_code("9999-0000", "123456")
    with pytest.raises(NotCollectable, match="not arrived"):
        await site.controller.submit_code(parcel.trade_number, parcel.secret)


async def test_jammed_door_on_pickup(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    site.doors.jam(locker)
    c = site.controller
    with c.subscribe() as events:
        await c.submit_code(parcel.trade_number, parcel.secret)
        site.clock.advance(c.config.timing.open_timeout_s + 1)
        c.tick()
        fault = await events.next("locker_fault")
    assert fault["locker"] == locker and "jammed" in fault["reason"]
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    assert c.site.db.locker(locker).state == LockerState.FAULT
    with pytest.raises(SeeStaff):
        await c.submit_code(parcel.trade_number, parcel.secret)
    assert [e["kind"] for e in c.site.db.outbox()].count("door_fault") == 1
    # Staff frees the jam, puts the locker back in service; the recipient collects.
    site.doors.jam(locker, on=False)
    await c.clerk_set_in_service("clerk-1", locker, True)
    await collect(site, parcel)


async def test_door_left_open_alarm(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    c = site.controller
    started = await collect(site, parcel, close=False)
    with c.subscribe() as events:
        site.clock.advance(c.config.timing.left_open_alarm_s + 1)
        c.tick()
        alarm = await events.next("alarm")
        assert alarm["alarm"] == "left_open" and alarm["locker"] == started.locker
        c.tick()
        assert not [e for e in events.drain() if e.kind == "alarm"]  # raised once
        site.doors.close(started.locker)
        await events.next("parcel_collected")
    assert [e["kind"] for e in c.site.db.outbox()].count("door_left_open") == 1


async def test_forced_door_is_tamper(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    c = site.controller
    with c.subscribe() as events:
        site.doors.force_open(locker)
        alarm = await events.next("alarm")
    assert alarm["alarm"] == "tamper" and alarm["locker"] == locker
    assert c.site.db.locker(locker).state == LockerState.FAULT
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED  # not collected
    with pytest.raises(SeeStaff):
        await c.submit_code(parcel.trade_number, parcel.secret)


async def test_site_burst_slows_every_attempt_and_alarms(site, rng):
    c = site.controller
    policy = c.config.attempts
    with c.subscribe() as events:
        for i in range(policy.site_threshold):
            with pytest.raises(UnknownParcel):
                await c.submit_code(f"0000-{i:04d}", "123456")
        alarm = await events.next("alarm", where=lambda e: e["alarm"] == "site_attempts")
    assert alarm
    with pytest.raises(SlowDown) as err:
        await c.submit_code("0000-9999", "123456")
    assert 0 < err.value.retry_after <= policy.site_slowdown_s
    site.clock.advance(policy.site_slowdown_s)
    with pytest.raises(UnknownParcel):
        await c.submit_code("0000-9999", "123456")
    assert [e["kind"] for e in c.site.db.outbox()].count("site_attempts_alarm") == 1


async def test_deposit_skips_a_jammed_locker_on_retry(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    c = site.controller
    site.doors.jam(1)
    from hwsim.site import COURIER_CODE
    token = (await c.courier_login(COURIER_CODE)).token
    started = await c.deposit(token, parcel.trade_number)
    assert started.locker == 1
    site.clock.advance(c.config.timing.open_timeout_s + 1)
    c.tick()
    assert c.site.db.locker(1).state == LockerState.FAULT and c.site.db.locker(1).parcel is None
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.EXPECTED
    locker = await site.deposit(parcel)
    assert locker == 2


async def test_wrong_courier_code(site):
    with pytest.raises(CodeInvalid):
        await site.controller.courier_login("00000")


async def test_clerk_hand_over_is_audited(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    c = site.controller
    await c.clerk_hand_over("clerk-7", parcel.trade_number, "recipient at counter, door jammed")
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
    assert c.site.db.locker(locker).state == LockerState.FREE
    notice = c.site.db.outbox()[-1]
    assert notice["kind"] == "parcel_collected" and notice["payload"]["method"] == "clerk"
    entry = c.site.db.audit_entries("parcel_collected")[-1]
    assert entry["actor"] == "clerk:clerk-7"


async def test_board_offline_pickup_fails_at_once_and_nothing_moves(site, rng):
    if site.controller.config.devices["locks"].startswith("sim+gpio"):
        pytest.skip("a GPIO bank has no board to fall silent")
    from kiosk.errors import DoorFault
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    c = site.controller
    site.sim.silent(True)
    await wait_until_async(lambda: c.site.locks.door_states()[locker].value == "unknown")
    pulses = site.doors[locker].pulses
    with pytest.raises(DoorFault, match="not answering"):
        await c.submit_code(parcel.trade_number, parcel.secret)
    assert site.doors[locker].pulses == pulses  # never a pulse at a board we cannot hear
    assert c.site.db.locker(locker).state == LockerState.FAULT
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    site.sim.silent(False)


async def test_the_trade_number_alone_says_what_a_code_would_be_refused_for(site, rng):
    """Issue 9 §2: a lockout (or any refusal before the secret) is said before anyone types
    a secret; an unknown number costs the site a failed attempt, as a typed code would."""
    c = site.controller
    [parcel] = await site.add_parcels(1, rng)
    with pytest.raises(NotCollectable, match="not arrived"):
        await c.check_trade_number(parcel.trade_number)
    await site.deposit(parcel)
    assert await c.check_trade_number(parcel.trade_number.lower()) == "locker"   # its method: a secret
    for _ in range(c.config.attempts.per_parcel_max):
        with pytest.raises((CodeInvalid, LockedOut)):
            await c.submit_code(parcel.trade_number, "000000" if parcel.secret != "000000" else "111111")
    with pytest.raises(LockedOut):
        await c.check_trade_number(parcel.trade_number)
    before = len(c.site.db.site_failures_since(0))
    with pytest.raises(UnknownParcel):
        await c.check_trade_number("9999-0000")
    assert len(c.site.db.site_failures_since(0)) == before + 1
