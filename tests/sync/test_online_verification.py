"""Online verification at the store (【0049】【0173】), its rate limits at both ends, and the
fallback when the store cannot give an answer that can be trusted."""

import pytest

from kiosk.errors import CodeInvalid, LockedOut, SeeStaff, SlowDown
from tests.sync.conftest import linked_site

SITE = "sim-site"


@pytest.fixture
def verification():
    return {"locker": "online"}


@pytest.fixture
async def online(tmp_path, clock, store, verification):
    site = await linked_site(tmp_path, clock, store, verification=verification)
    try:
        await site.controller.sync.settle()
        yield site
    finally:
        await site.controller.stop()


async def ready_parcel(site):
    """A parcel made at the store, pulled, and loaded into a locker by the courier."""
    made = site.store.create_parcel(SITE)
    await site.controller.pull_manifest()
    await site.deposit(made)
    return made


async def collect(site, parcel) -> str:
    """Pick the parcel up; returns how the secret was checked (from the audit log)."""
    c = site.controller
    with c.subscribe() as events:
        started = await c.submit_code(parcel.trade_number, parcel.secret)
        await events.next("door_open", where=lambda e: e["locker"] == started.locker)
        site.doors.take(started.locker)
        site.doors.close(started.locker)
        await events.next("parcel_collected", where=lambda e: e["locker"] == started.locker)
    return c.site.db.audit_entries("unlock_commanded")[-1]["detail"]["verified"]


def verify_requests(store) -> int:
    return sum(1 for r in store.requests if r.path.endswith("/verify"))


def wrong(parcel) -> str:
    return "000000" if parcel.secret != "000000" else "111111"


async def test_online_match_opens_and_mismatch_counts_here_too(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    with pytest.raises(CodeInvalid) as err:
        await c.submit_code(parcel.trade_number, wrong(parcel))
    assert err.value.attempts_left == c.config.attempts.per_parcel_max - 1
    assert c.site.db.parcel(parcel.trade_number).failed_attempts == 1
    assert await collect(online, parcel) == "online"
    assert verify_requests(store) == 2
    assert c.status()["store_link"]["channels"]["verify"]["last_success_at"] is not None


async def test_a_secret_no_store_could_have_issued_is_wrong_without_asking(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    for secret in ("", "9" * 65):
        with pytest.raises(CodeInvalid):
            await c.submit_code(parcel.trade_number, secret)
    assert verify_requests(store) == 0 and c.status()["store_link"]["channels"]["verify"]["failures"] == 0


async def test_store_down_falls_back_to_the_held_reference(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    store.set_fault("down")
    with pytest.raises(CodeInvalid):
        await c.submit_code(parcel.trade_number, wrong(parcel))
    assert await collect(online, parcel) == "local_fallback"
    assert c.status()["store_link"]["channels"]["verify"]["failures"] == 2


async def test_no_reference_held_means_see_staff(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    c.site.db.conn.execute("UPDATE parcels SET secret_hash = NULL WHERE trade_number = ?", (parcel.trade_number,))
    store.set_fault("http_500", path="/verify")
    with pytest.raises(SeeStaff, match="see staff"):
        await c.submit_code(parcel.trade_number, parcel.secret)
    assert c.site.db.parcel(parcel.trade_number).failed_attempts == 0   # not the recipient's fault


@pytest.mark.parametrize("verification", [{"locker": "online", "fallback": "see_staff"}])
async def test_fallback_see_staff_never_checks_locally(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    store.set_fault("timeout_after_processing", path="/verify")
    with pytest.raises(SeeStaff):
        await c.submit_code(parcel.trade_number, parcel.secret)


async def test_a_forged_answer_never_opens_a_door(online):
    """The answer is changed after signing ("mismatch" → "match"): rejected, reported, and the
    held reference decides — the wrong secret stays wrong."""
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    store.set_fault("bad_signature", variant="tampered", path="/verify")
    with pytest.raises(CodeInvalid):
        await c.submit_code(parcel.trade_number, wrong(parcel))
    assert c.site.db.audit_entries("store_reply_rejected")[-1]["detail"]["signature"] is True
    assert [e for e in c.site.db.outbox() if e["kind"] == "device_health"]
    store.set_fault("bad_signature", variant="wrong_key", path="/verify")
    assert await collect(online, parcel) == "local_fallback"


async def test_the_stores_lock_is_honoured_even_with_the_right_secret(online):
    c, clock = online.controller, online.clock
    parcel = await ready_parcel(online)
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            await c.submit_code(parcel.trade_number, wrong(parcel))
        clock.advance(5)   # a person at a keypad, not a machine: within our own rate limit
    with pytest.raises(LockedOut):   # the store's fifth wrong answer locks it there
        await c.submit_code(parcel.trade_number, wrong(parcel))
    clock.advance(5)
    with pytest.raises(LockedOut):
        await c.submit_code(parcel.trade_number, parcel.secret)


async def test_the_stores_lock_locks_the_parcel_here_too(online):
    """Issue 8 §2: "locked" from the store was not kept here, so with the store unreachable
    the local fallback went on checking the secret the store had stopped."""
    c, store, clock = online.controller, online.store, online.clock
    parcel = await ready_parcel(online)
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            await c.submit_code(parcel.trade_number, wrong(parcel))
        clock.advance(5)
    with pytest.raises(LockedOut):
        await c.submit_code(parcel.trade_number, wrong(parcel))
    local = c.site.db.parcel(parcel.trade_number)
    assert local.locked_out
    assert [e["subject"] for e in c.site.db.audit_entries("parcel_locked_out")] == [parcel.trade_number]
    assert [e for e in c.site.db.outbox() if e["kind"] == "parcel_locked_out"][-1]["payload"]["by"] == "store"
    store.set_fault("down")
    clock.advance(5)
    with pytest.raises(LockedOut):
        await c.submit_code(parcel.trade_number, parcel.secret)   # no local fallback past the store's lock


async def test_a_parcel_the_store_no_longer_knows_means_see_staff(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    store.cancel_parcel(SITE, parcel.trade_number)
    with pytest.raises(SeeStaff, match="does not recognise"):
        await c.submit_code(parcel.trade_number, parcel.secret)


async def test_the_stores_429_is_a_slow_down_not_a_local_check(online):
    c, store = online.controller, online.store
    parcel = await ready_parcel(online)
    store.set_fault("rate_limit", retry_after=30, path="/verify")
    with pytest.raises(SlowDown) as err:
        await c.submit_code(parcel.trade_number, parcel.secret)
    assert err.value.retry_after == 30
    assert c.site.db.parcel(parcel.trade_number).failed_attempts == 0


@pytest.mark.parametrize("verification", [{"locker": "online", "online_burst": 2, "online_rate_per_minute": 1}])
async def test_our_own_rate_limit_stops_a_guessing_machine_before_the_store(online):
    c, store, clock = online.controller, online.store, online.clock
    parcel = await ready_parcel(online)
    for _ in range(2):
        with pytest.raises(CodeInvalid):
            await c.submit_code(parcel.trade_number, wrong(parcel))
    asked = verify_requests(store)
    with pytest.raises(SlowDown) as err:
        await c.submit_code(parcel.trade_number, wrong(parcel))
    assert verify_requests(store) == asked and 0 < err.value.retry_after <= 60
    clock.advance(60)
    assert await collect(online, parcel) == "online"


@pytest.mark.parametrize("verification", [{"locker": "local"}])
async def test_a_method_checked_locally_never_asks_the_store(online):
    parcel = await ready_parcel(online)
    assert await collect(online, parcel) == "local"
    assert verify_requests(online.store) == 0
