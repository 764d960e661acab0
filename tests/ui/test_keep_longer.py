"""A recipient keeps a parcel longer from the kiosk (issue 15 §5): trade number, secret, then
"Keep it longer instead" — through the real controller; the deadline moves and the screen
says until when; a wrong secret is refused like any other; a second time says it cannot."""

from __future__ import annotations

import pytest

from kiosk.ui.app import RecipientApp
from kiosk.ui.screens.done import MessageScreen
from kiosk.ui.screens.entry import PickupEntryScreen
from kiosk.ui.texts import EN
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

pytestmark = pytest.mark.slow


async def keep_longer(pilot, trade: str, secret: str) -> PickupEntryScreen:
    await type_text(pilot, trade)
    entry = await wait_for_screen(pilot, PickupEntryScreen)
    await pilot.press("enter")
    await wait_for(pilot, lambda: entry.active == 1 and entry.keep_longer.display, "the secret, and the button")
    await type_text(pilot, secret)
    entry.keep_longer.press()
    return entry


async def test_the_recipient_keeps_a_parcel_longer(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    c = site.controller
    before = c.site.db.parcel(parcel.trade_number).hold_deadline
    app = RecipientApp(c)
    async with app.run_test(size=SIZE) as pilot:
        entry = await keep_longer(pilot, parcel.trade_number, "000000" if parcel.secret != "000000" else "111111")
        await wait_for(pilot, lambda: not entry.busy and entry.problem.text, "the refusal")
        assert entry.problem.text == EN.wrong_secret.format(n=4)
        await type_text(pilot, parcel.secret)
        entry.keep_longer.press()
        done = await wait_for_screen(pilot, MessageScreen)
        texts = " ".join(str(w.text) for w in done.query("Words"))
        assert EN.kept_longer in texts and "It waits for you until" in texts
    after = c.site.db.parcel(parcel.trade_number)
    assert after.hold_deadline > before and after.extensions == 1
    assert after.failed_attempts == 1                            # the wrong secret counted
    app = RecipientApp(c)
    async with app.run_test(size=SIZE) as pilot:
        entry = await keep_longer(pilot, parcel.trade_number, parcel.secret)
        await wait_for(pilot, lambda: not entry.busy and entry.problem.text, "the refusal")
        assert entry.problem.text == EN.not_extendable
