"""Taking in the courier's pile at the counter (F5): each label scanned or typed is taken
in through the real controller under the clerk's id, and each refusal (not in the
manifest, already here) is listed with its reason; nothing else changes. Plus its picture."""

from __future__ import annotations

import random

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.ui.counter.app import CounterApp
from kiosk.ui.counter.take_in import TakeInScreen
from kiosk.ui.counter.texts import EN, JA
from tests.ui.conftest import SIZE, type_text, wait_for

CLERK = "clerk-5"
pytestmark = pytest.mark.slow


async def test_a_pile_of_labels_is_taken_in_one_by_one(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    c = sim.controller
    try:
        a, b = await sim.add_parcels(2, random.Random(3), method="secret")
        app = CounterApp(c, CLERK)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f5")
            await wait_for(pilot, lambda: isinstance(app.screen, TakeInScreen), "the take-in screen")
            screen = app.screen
            for n, line in enumerate((a.trade_number, "99999999", a.trade_number, b.trade_number), 1):
                await type_text(pilot, line)
                await pilot.press("enter")
                await wait_for(pilot, lambda n=n: len(screen.rows) == n, f"the answer to {line}")
            assert screen.taken == 2
            shown = [(trade, outcome(EN)) for trade, _at, outcome in screen.rows]
            assert shown[0] == (b.trade_number, EN.take_in_done)
            assert shown[1][0] == a.trade_number and "already arrived" in shown[1][1]
            assert shown[2][0] == "99999999" and "not in the manifest" in shown[2][1]
            assert shown[3] == (a.trade_number, EN.take_in_done)
            assert screen.count.text == EN.take_in_count.format(n=2)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, TakeInScreen), "back at the desk")
        for p in (a, b):
            assert c.site.db.parcel(p.trade_number).state == ParcelState.ARRIVED
        actors = {e["actor"] for e in c.site.db.audit_entries("parcel_arrived")}
        assert actors == {f"clerk:{CLERK}"}
    finally:
        await c.stop()


def test_take_in_words_in_both_languages():
    for t in (EN, JA):
        assert "{n}" in t.take_in_count and t.take_in_title and t.take_in_prompt and t.col_outcome
