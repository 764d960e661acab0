"""Courier drop-off on the recipient screen, against the real controller."""

from __future__ import annotations

import pytest

from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import CourierDoneScreen, CourierEntryScreen, DoorOpenScreen, IdleScreen
from hwsim.site import COURIER_CODE
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen


async def start_courier(pilot) -> CourierEntryScreen:
    await pilot.click(".idle-courier")
    return await wait_for_screen(pilot, CourierEntryScreen)


async def answer(pilot, screen) -> str:
    await wait_for(pilot, lambda: not screen.busy, "the service to answer")
    await pilot.pause()
    return screen.problem.text


async def load(pilot, site, trade_number: str) -> int:
    """On the courier screen's trade number field: load one parcel; returns its locker."""
    await type_text(pilot, trade_number)
    await pilot.press("enter")
    door = await wait_for_screen(pilot, DoorOpenScreen)
    locker = door.opening.locker
    await wait_for(pilot, lambda: site.doors[locker].is_open, "the door to open")
    site.doors.put(locker)
    site.doors.close(locker)
    await wait_for_screen(pilot, CourierDoneScreen)
    return locker


@pytest.mark.slow
async def test_courier_loads_two_parcels_then_finishes(gpio_site, rng):
    first, second = await gpio_site.add_parcels(2, rng)
    store = gpio_site.controller.site.db
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_courier(pilot)
        assert screen.active == 0 and screen.inputs[0].password
        await type_text(pilot, COURIER_CODE)
        await pilot.press("enter")
        assert await answer(pilot, screen) == ""
        assert screen.active == 1 and screen.inputs[0].value == ""  # the code is not kept on screen
        assert app.courier_token is not None

        locker1 = await load(pilot, gpio_site, first.trade_number)
        done = app.screen
        assert done.query_one(".end-text").text == f"{first.trade_number} is in door {locker1}."
        await pilot.click(".courier-next")
        screen = await wait_for_screen(pilot, CourierEntryScreen)
        assert screen.active == 1 and not screen.inputs[0].display  # still logged in

        locker2 = await load(pilot, gpio_site, second.trade_number)
        assert locker2 != locker1
        assert store.parcel(first.trade_number).state == ParcelState.ARRIVED
        assert store.parcel(second.trade_number).state == ParcelState.ARRIVED

        token = app.courier_token
        await pilot.click(".end-button:last-of-type")
        await wait_for_screen(pilot, IdleScreen)
        assert app.courier_token is None
        couriers = gpio_site.controller.site.couriers
        await wait_for(pilot, lambda: len(couriers) == 0, "the logout")
        with pytest.raises(CodeInvalid):
            couriers.courier_of(token, gpio_site.clock.now())


async def test_wrong_courier_code(gpio_site):
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_courier(pilot)
        await type_text(pilot, "11111")
        await pilot.press("enter")
        assert await answer(pilot, screen) == "That courier code is not valid."
        assert screen.active == 0 and screen.inputs[0].value == ""


@pytest.mark.slow
async def test_deposit_problems_are_explained(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_courier(pilot)
        await type_text(pilot, COURIER_CODE)
        await pilot.press("enter")
        await answer(pilot, screen)

        await type_text(pilot, "9999-0000")
        await pilot.press("enter")
        assert await answer(pilot, screen) == (
            "9999-0000 is not expected at this pickup point. Please check the label.")
        assert screen.active == 1 and screen.inputs[1].value == ""

        # Every locker taken: the courier is told to use the counter.
        for door in range(1, 7):
            await gpio_site.controller.clerk_set_in_service("clerk-1", door, False, "test")
        await type_text(pilot, parcel.trade_number)
        await pilot.press("enter")
        assert await answer(pilot, screen) == "No locker is free. Please take the parcel to the counter."


@pytest.mark.slow
async def test_jammed_door_on_deposit_lets_the_courier_try_again(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    for door in range(1, 7):
        gpio_site.doors.jam(door)
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_courier(pilot)
        await type_text(pilot, COURIER_CODE)
        await pilot.press("enter")
        await answer(pilot, screen)
        await type_text(pilot, parcel.trade_number)
        await pilot.press("enter")
        door = await wait_for_screen(pilot, DoorOpenScreen)
        gpio_site.clock.advance(gpio_site.controller.config.timing.open_timeout_s + 1)
        gpio_site.controller.tick()
        screen = await wait_for_screen(pilot, CourierEntryScreen)
        assert screen.active == 1 and screen.problem.text == (
            f"Door {door.opening.locker} did not open. Enter the number again to use another locker.")
