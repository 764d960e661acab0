"""The simulator's door panel, alone and beside the recipient screen in the demo layout."""

from __future__ import annotations

import pytest
from textual.app import App

from hwsim.doors import DoorBank
from hwsim.panel import DoorPanel, DoorRow, describe
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import DoneScreen, DoorOpenScreen, PickupEntryScreen
from tests.ui.conftest import type_text, wait_for, wait_for_screen


class _Site:
    def __init__(self, doors: int = 4) -> None:
        self.doors = DoorBank(doors)


class PanelApp(App):
    def __init__(self, site) -> None:
        super().__init__()
        self.site = site

    def compose(self):
        yield DoorPanel(self.site, notes="notes here")


def test_describe():
    bank = DoorBank(12)
    bank[3].pulse(100)
    bank.put(3)
    bank.jam(3)
    assert describe(bank[3]) == " 3 OPEN ▣ JAMMED"
    assert describe(bank[12]) == "12 shut"


async def test_buttons_act_on_the_doors():
    site = _Site()
    app = PanelApp(site)
    async with app.run_test(size=(60, 20)) as pilot:
        row = app.query(DoorRow)[1]
        assert row.door.number == 2 and str(row.open_close.label) == "Force"
        await pilot.click(row.open_close)
        assert site.doors[2].is_open
        assert str(row.open_close.label) == "Close" and row.has_class("-open")
        await pilot.click(row.open_close)
        assert not site.doors[2].is_open
        await pilot.click(row.jam)
        assert "jammed" in site.doors[2].faults and str(row.jam.label) == "Unjam"
        await pilot.click(row.parcel)
        assert site.doors[2].occupied and str(row.parcel.label) == "Take"


async def test_panel_follows_the_emulator_and_c_closes_the_last_opened_door():
    site = _Site()
    app = PanelApp(site)
    async with app.run_test(size=(60, 20)) as pilot:
        rows = list(app.query(DoorRow))
        site.doors[2].pulse(100)
        site.doors[4].pulse(100)
        await wait_for(pilot, lambda: rows[3].has_class("-open"), "the panel to refresh")
        rows[0].open_close.focus()
        await pilot.press("c")
        assert not site.doors[4].is_open and site.doors[2].is_open
        await pilot.press("c")
        assert not site.doors[2].is_open
        await pilot.press("c")  # nothing open: says so, does nothing


@pytest.mark.slow
async def test_demo_layout_close_the_door_from_the_panel(gpio_site, rng):
    """What a demo user does: collect a parcel, then close its door with the panel's key."""
    [parcel] = await gpio_site.add_parcels(1, rng)
    locker = await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller, side_panel=lambda: DoorPanel(gpio_site, notes="demo"))
    async with app.run_test(size=(150, 36)) as pilot:
        await type_text(pilot, parcel.trade_number)
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter", *parcel.secret, "enter")
        screen = await wait_for_screen(pilot, DoorOpenScreen)
        await wait_for(pilot, lambda: gpio_site.doors[locker].is_open, "the door to open")
        assert app.focused is not None and screen.query_one(DoorPanel) in app.focused.ancestors
        await pilot.press("c")
        await wait_for_screen(pilot, DoneScreen)
        assert len(app.screen.query(DoorPanel)) == 1  # every screen has its own panel
