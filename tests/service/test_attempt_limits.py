"""Attempt limits that hold under concurrency (issue 8 §1): checks started together cannot
slip past the site's slow-down or a parcel's last attempt, and courier codes have their
own limits. Each case is the red team's measurement, on a frozen clock."""

import asyncio

import pytest

from kiosk.clock import ManualClock
from kiosk.errors import CodeInvalid, KioskError, LockedOut, SlowDown
from hwsim.site import COURIER_CODE, start_site


@pytest.fixture
async def bank(tmp_path):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=8)
    try:
        yield site
    finally:
        await site.controller.stop()


def wrong(parcel) -> str:
    return "000000" if parcel.secret != "000000" else "111111"


def evaluated(site) -> int:
    """Guesses whose secret was actually checked and found wrong (from the audit log)."""
    return sum(1 for e in site.controller.site.db.audit_entries("verification_failed") if e["detail"]["known"])


async def test_many_screens_guessing_at_once_are_held_to_the_site_limit(bank, rng):
    """30 screens fire wrong guesses at 30 parcels, again every simulated second, for 45 s.
    Before the gate every burst passed the slow-down together: about 150 guesses."""
    parcels = await bank.add_parcels(8, rng)
    for p in parcels:
        await bank.deposit(p)
    c, policy = bank.controller, bank.controller.config.attempts
    for _ in range(45):
        results = await asyncio.gather(*(c.submit_code(parcels[i % len(parcels)].trade_number,
                                                       wrong(parcels[i % len(parcels)])) for i in range(30)),
                                       return_exceptions=True)
        assert all(isinstance(r, KioskError) for r in results)
        bank.clock.advance(1.0)
    allowed = policy.site_threshold + policy.max_checks_in_flight + 45 / policy.site_slowdown_s
    assert evaluated(bank) <= allowed, f"{evaluated(bank)} guesses evaluated, at most {allowed:.0f} allowed"


async def test_a_parcels_last_attempt_cannot_be_spent_twice(bank, rng):
    [p] = await bank.add_parcels(1, rng)
    await bank.deposit(p)
    c = bank.controller
    for _ in range(c.config.attempts.per_parcel_max - 1):
        with pytest.raises(CodeInvalid):
            await c.submit_code(p.trade_number, wrong(p))
    results = await asyncio.gather(*(c.submit_code(p.trade_number, wrong(p)) for _ in range(6)),
                                   return_exceptions=True)
    assert sum(isinstance(r, LockedOut) for r in results) == 1
    assert all(isinstance(r, (LockedOut, SlowDown)) for r in results)
    assert c.site.db.parcel(p.trade_number).failed_attempts == c.config.attempts.per_parcel_max


async def test_wrong_courier_codes_close_courier_sign_in_and_raise_one_alarm(tmp_path):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    c = site.controller
    policy = c.config.attempts
    try:
        with c.subscribe() as events:
            for _ in range(policy.courier_max_failures):
                with pytest.raises(CodeInvalid):
                    await c.courier_login("13579")
            with pytest.raises(SlowDown) as err:
                await c.courier_login(COURIER_CODE)          # the right code, but sign-in is closed
            assert err.value.retry_after == pytest.approx(policy.courier_lockout_s)
            alarms = [e for e in events.drain() if e.kind == "alarm"]
        assert [a["alarm"] for a in alarms] == ["courier_attempts"]
        sent = [e["payload"] for e in c.site.db.outbox() if e["kind"] == "site_attempts_alarm"]
        assert [s.get("scope") for s in sent] == ["courier_sign_in"]
    finally:
        await c.stop()
    # A restart does not reopen it.
    site = await start_site(tmp_path / "site", clock=site.clock, locks="gpio", doors=2)
    try:
        with pytest.raises(SlowDown):
            await site.controller.courier_login(COURIER_CODE)
        site.clock.advance(policy.courier_lockout_s + 1)
        assert (await site.controller.courier_login(COURIER_CODE)).courier_id == "courier-sim"
    finally:
        await site.controller.stop()


async def test_one_courier_code_signs_in_only_so_often_an_hour(bank):
    c = bank.controller
    limit = c.config.attempts.courier_logins_per_hour
    for _ in range(limit):
        session = await c.courier_login(COURIER_CODE)
        await c.courier_logout(session.token)
        bank.clock.advance(1.0)
    with pytest.raises(SlowDown) as err:
        await c.courier_login(COURIER_CODE)
    assert 0 < err.value.retry_after <= 3600
    bank.clock.advance(err.value.retry_after + 0.5)
    assert (await c.courier_login(COURIER_CODE)).courier_id == "courier-sim"
