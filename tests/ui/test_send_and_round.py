"""Sending a parcel and the courier's collection round on the recipient screen (issue 15
§4), through the real controller and the store emulator's signed manifest: the sender's
code opens a door of the right size, the parcel is in; the courier signs in once and the
round empties that door on its evidence. Plus their pictures."""

from __future__ import annotations

import pytest

from hwsim.site import COURIER_CODE, FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import CourierEntryScreen, DoorOpenScreen, IdleScreen, MessageScreen
from kiosk.ui.screens.round import RoundScreen
from kiosk.ui.screens.send import SendEntryScreen
from kiosk.ui.texts import EN
from tests.sync.conftest import LINK
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

SITE = "sim-site"
pytestmark = pytest.mark.slow


async def test_a_parcel_sent_then_collected_on_the_round(tmp_path):
    clock = ManualClock()
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=6) as store:
        sim = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio",
                               doors=4, sizes={"S": (1, 2), "L": (3, 4)})
        c = sim.controller
        try:
            sent = store.create_parcel(SITE, "secret", size="L", dropoff=True)
            await c.pull_manifest()
            app = RecipientApp(c)
            async with app.run_test(size=SIZE) as pilot:
                idle = app.screen
                assert isinstance(idle, IdleScreen)
                idle.send.press()
                form = await wait_for_screen(pilot, SendEntryScreen)
                await type_text(pilot, sent.trade_number)
                await pilot.press("enter")
                await type_text(pilot, "000000" if sent.secret != "000000" else "111111")
                await pilot.press("enter")
                await wait_for(pilot, lambda: form.problem.text == EN.wrong_secret.format(n=4), "the refusal")
                await type_text(pilot, sent.secret)
                await pilot.press("enter")
                door = await wait_for_screen(pilot, DoorOpenScreen)
                n = door.opening.locker
                assert c.config.layout.size_of(n) == "L"
                await wait_for(pilot, lambda: door.opened, "the door open")
                sim.doors.put(n)
                sim.doors.close(n)
                done = await wait_for_screen(pilot, MessageScreen)
                texts = " ".join(str(w.text) for w in done.query("Words"))
                assert EN.sent_on_its_way.format(n=n) in texts
                (tmp_path / "send-done-en.svg").write_text(app.export_screenshot())
                assert c.site.db.parcel(sent.trade_number).state == ParcelState.ARRIVED

                app.action_go_idle()
                idle = await wait_for_screen(pilot, IdleScreen)
                idle.courier.press()
                entry = await wait_for_screen(pilot, CourierEntryScreen)
                await type_text(pilot, COURIER_CODE)
                await pilot.press("enter")
                await wait_for(pilot, lambda: entry.round_button.display, "the round offered")
                entry.round_button.press()
                round_screen = await wait_for_screen(pilot, RoundScreen)
                await wait_for(pilot, lambda: round_screen.loaded and round_screen.next_button.display, "the list")
                assert f"{EN.door} {n}: {EN.round_why_send}" in str(round_screen.listing.text)
                (tmp_path / "round-en.svg").write_text(app.export_screenshot())
                round_screen.next_button.press()
                await wait_for(pilot, lambda: round_screen.open_door == n, "the door opening")
                await wait_for(pilot, lambda: c.site.db.require_locker(n).door == "open", "the door seen open")
                sim.doors.take(n)
                sim.doors.close(n)
                await wait_for(pilot, lambda: round_screen.done.get(n) is True, "the parcel taken")
                assert round_screen.headline.text == EN.round_done.format(k=1)
                (tmp_path / "round-done-en.svg").write_text(app.export_screenshot())
            assert c.site.db.parcel(sent.trade_number).state == ParcelState.RETURNED
        finally:
            await c.stop()
