"""The clerk's "Parcels and lockers" screen on the counter terminal, through the real
controller: the lists the service sorts parcels into, a locked-out parcel reset, an
expired one marked returned, a locker taken out of service (a reason required) and back,
today's figures — each action audited under the clerk's id. Plus its pictures."""

from __future__ import annotations

import random

import pytest
from textual.widgets import Button, Input

from hwsim.parcels import make_parcels
from hwsim.site import start_site
from kiosk.clock import ManualClock, iso
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, LockedOut
from kiosk.service import clerk_overview, holding, manifest
from kiosk.ui.counter.app import CounterApp
from kiosk.ui.counter.screen import CounterScreen
from kiosk.ui.counter.site_screen import SiteScreen
from kiosk.ui.counter.site_names import LIST_NAMES, name
from kiosk.ui.counter.texts import EN
from tests.ui.conftest import wait_for

CLERK = "clerk-9"
pytestmark = pytest.mark.slow


@pytest.fixture
async def site(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(1_780_000_000), locks="gpio", doors=4)
    c = sim.controller
    try:
        now = sim.clock.now()
        locked, expiring, soon, waiting = make_parcels(4, random.Random(4), c.config.hash_params, now=now,
                                                        method="secret")
        short = make_parcels(1, random.Random(5), c.config.hash_params, now=now, hold_s=3600, method="secret")
        parcels = [locked, expiring, soon, waiting, *short]
        entries = [p.entry for p in parcels]
        entries[2]["hold_deadline"] = manifest_deadline(now + 6 * 3600)     # nearing expiry
        entries[1]["hold_deadline"] = manifest_deadline(now + 1800)         # expires during the test
        c.import_manifest(manifest.parse({"version": 1, "parcels": entries}), "test")
        for p in parcels:
            await c.counter_receive("clerk-1", p.trade_number)
        [new] = make_parcels(1, random.Random(6), c.config.hash_params, now=now, method="secret")
        c.import_manifest(manifest.parse({"version": 1, "parcels": [new.entry]}), "test")   # not yet taken in
        for _ in range(c.config.attempts.per_parcel_max):
            with pytest.raises((CodeInvalid, LockedOut)):
                await c.counter_present(locked.trade_number.encode())
                await c.counter_verify("000000" if locked.secret != "000000" else "111111")
        sim.clock.advance(2 * 3600)
        holding.sweep(c.site)      # what the controller's timer does: warnings, then expiry
        yield sim, {"locked": locked, "expired": expiring, "soon": soon, "waiting": waiting, "new": new}
    finally:
        await c.stop()


def manifest_deadline(at: float) -> str:
    return iso(at)


async def test_the_lists_come_sorted_from_the_service(site):
    sim, p = site
    c = sim.controller
    view = await c.clerk_overview()
    by_trade = {r.trade_number: r for r in view.parcels}
    assert by_trade[p["locked"].trade_number].list == "locked_out"
    assert by_trade[p["locked"].trade_number].actions == ("reset_attempts",)
    assert by_trade[p["expired"].trade_number].list == "expired"
    assert by_trade[p["expired"].trade_number].actions == ("mark_returned",)
    assert by_trade[p["soon"].trade_number].list in ("nearing_expiry", "forgotten")
    assert by_trade[p["waiting"].trade_number].list == "waiting"
    assert [r.list for r in view.parcels] == sorted((r.list for r in view.parcels),
                                                    key=clerk_overview.LIST_ORDER.index)
    assert by_trade[p["new"].trade_number].actions == ("receive",)
    assert by_trade[p["waiting"].trade_number].actions == ("hand_over", "extend")
    assert view.today.arrived == 5 and view.today.expired >= 1
    assert len(view.lockers) == 4


async def test_the_clerk_acts_from_the_screen(site):
    sim, p = site
    c = sim.controller
    app = CounterApp(c, CLERK)
    async with app.run_test(size=(130, 44)) as pilot:
        screen = await open_site(pilot)
        await wait_for(pilot, lambda: screen.overview is not None and screen.parcels.row_count == 6, "the lists")

        async def act(table, key: str, button: str, done: str) -> None:
            table.move_cursor(row=table.get_row_index(key))
            screen.result = None
            screen.query_one(button, Button).press()   # (a click within 0.2 s of the last is a bounce)
            try:
                await wait_for(pilot, lambda: done in str(screen.outcome.text), done)
            except AssertionError:
                raise AssertionError(f"{done!r}: the screen says {screen.outcome.text!r}") from None

        await act(screen.parcels, p["locked"].trade_number, ".site-reset",
                  EN.done_reset.format(trade=p["locked"].trade_number))
        assert not c.site.db.parcel(p["locked"].trade_number).locked_out
        await act(screen.parcels, p["waiting"].trade_number, ".site-returned", EN.action_not_for_this)
        await act(screen.parcels, p["waiting"].trade_number, ".site-extend",
                  EN.done_extend.format(trade=p["waiting"].trade_number))
        assert c.site.db.parcel(p["waiting"].trade_number).extensions == 1
        await act(screen.parcels, p["waiting"].trade_number, ".site-extend", EN.action_not_for_this)   # once only
        await act(screen.parcels, p["waiting"].trade_number, ".site-hand-over", EN.reason_needed)
        assert c.site.db.parcel(p["waiting"].trade_number).state == ParcelState.ARRIVED
        screen.reason.value = "ID card checked, phone broken"
        await act(screen.parcels, p["waiting"].trade_number, ".site-hand-over",
                  EN.done_hand_over.format(trade=p["waiting"].trade_number))
        assert c.site.db.parcel(p["waiting"].trade_number).state == ParcelState.COLLECTED
        await act(screen.parcels, p["new"].trade_number, ".site-take-in", EN.done_take_in.format(trade=p["new"].trade_number))
        assert c.site.db.parcel(p["new"].trade_number).state == ParcelState.ARRIVED
        await act(screen.parcels, p["expired"].trade_number, ".site-returned",
                  EN.done_returned.format(trade=p["expired"].trade_number))
        assert c.site.db.parcel(p["expired"].trade_number).state == ParcelState.RETURNED
        free = next(lk.number for lk in screen.overview.lockers if lk.state == "free")
        await act(screen.lockers, str(free), ".site-take-out", EN.reason_needed)     # no reason: refused
        assert c.site.db.locker(free).state == LockerState.FREE
        screen.reason.value = "hinge loose"
        await act(screen.lockers, str(free), ".site-take-out", EN.done_out.format(n=free))
        assert c.site.db.locker(free).state == LockerState.OUT_OF_SERVICE
        await act(screen.lockers, str(free), ".site-back-in", EN.done_in.format(n=free))
        assert c.site.db.locker(free).state == LockerState.FREE
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SiteScreen), "back to the desk")
    actors = {e["actor"] for e in c.site.db.audit_entries() if e["action"] in
              ("attempts_reset", "parcel_returned", "locker_out_of_service", "locker_in_service",
                                     "parcel_collected", "hold_extended")}
    assert actors == {f"clerk:{CLERK}"}
    [out] = [e for e in c.site.db.audit_entries() if e["action"] == "locker_out_of_service"]
    assert out["detail"]["reason"] == "hinge loose"


async def open_site(pilot) -> SiteScreen:
    """F4 at the desk: the parcels and lockers screen."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CounterScreen), "the desk")
    await pilot.press("f4")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SiteScreen), "the parcels and lockers screen")
    return pilot.app.screen


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_the_screen_looks_right(site, language, tmp_path):
    """The same screen in each language (copied to docs/screens/counter-parcels-and-lockers-*.svg
    and looked at)."""
    sim, p = site
    c = sim.controller
    app = CounterApp(c, CLERK)
    async with app.run_test(size=(130, 44)) as pilot:
        app.language = language
        screen = await open_site(pilot)
        await wait_for(pilot, lambda: screen.parcels.row_count == 6, "the lists")
        for box in screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()
        (tmp_path / f"counter-parcels-and-lockers-{language}.svg").write_text(app.export_screenshot())
        first = screen.parcels.get_row_at(0)
        assert first[:2] == [name(LIST_NAMES, language, "locked_out"), p["locked"].trade_number]
        assert screen.summary.text.splitlines()[1].startswith(app.texts_for(language).today_line[:3])


def test_every_name_in_every_language():
    from kiosk.devices.roles import DoorState
    from kiosk.domain.lockers import LockerState
    from kiosk.domain.parcels import METHODS as DOMAIN_METHODS
    from kiosk.ui.counter import site_names as N
    from kiosk.ui.counter.texts import LANGUAGES
    wanted = {"LIST_NAMES": set(clerk_overview.LIST_ORDER), "PARCEL_STATES": {s.value for s in ParcelState},
              "LOCKER_STATES": {s.value for s in LockerState}, "DOOR_STATES": {s.value for s in DoorState},
              "METHODS": set(DOMAIN_METHODS)}
    for table, values in wanted.items():
        for language in LANGUAGES:
            assert set(getattr(N, table)[language]) == values, (table, language)


async def test_an_alarm_is_shown_until_a_clerk_acknowledges_it(site):
    sim, _ = site
    c = sim.controller
    with c.subscribe() as events:
        sim.doors.force_open(2)                          # a door forced open: tamper
        await events.next("alarm")
    [alarm] = (await c.clerk_overview()).alarms
    assert alarm.kind == "tamper" and alarm.locker == 2
    app = CounterApp(c, CLERK)
    async with app.run_test(size=(130, 44)) as pilot:
        screen = await open_site(pilot)
        await wait_for(pilot, lambda: screen.overview is not None and screen.overview.alarms, "the alarm")
        assert screen.alarms.get_row_at(0)[0] == "Tamper"
        screen.query_one(".site-ack", Button).press()
        await wait_for(pilot, lambda: EN.done_ack in str(screen.outcome.text), "acknowledged")
        await wait_for(pilot, lambda: screen.alarms.get_row_at(0)[0] == EN.no_alarms, "the list emptied")
    assert (await c.clerk_overview()).alarms == ()
    [ack] = c.site.db.audit_entries("alarm_acknowledged")
    assert ack["actor"] == f"clerk:{CLERK}" and ack["detail"]["event_id"] == alarm.event_id
    await c.clerk_acknowledge_alarm(CLERK, alarm.event_id)      # twice: harmless
    from kiosk.errors import UnknownAlarm
    with pytest.raises(UnknownAlarm):
        await c.clerk_acknowledge_alarm(CLERK, "0" * 32)
