"""F7 switches every screen to the high-contrast theme and back (issue 12 §5): black and
white with saturated signals; pictures in docs/screens/high-contrast-*."""

from __future__ import annotations

import pytest

from kiosk.errors import CodeInvalid
from kiosk.ui.app import RecipientApp
from kiosk.ui.counter.app import CounterApp
from kiosk.ui.screens import PickupEntryScreen
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen
from tests.ui.fakes import FakeCounterService, FakeService


@pytest.mark.parametrize("make", [lambda: RecipientApp(FakeService(), inactivity_s=600),
                                  lambda: CounterApp(FakeCounterService(), "clerk-1")], ids=["recipient", "counter"])
async def test_f7_toggles_high_contrast(make):
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "kiosk"
        await pilot.press("f7")
        assert app.theme == "kiosk-high-contrast"
        assert app.screen.styles.background.hex.upper() == "#000000"
        await pilot.press("f7")
        assert app.theme == "kiosk"


async def test_the_recipient_screen_in_high_contrast(tmp_path):
    service = FakeService()
    service.answers["submit_code"] = CodeInvalid("x", attempts_left=3)
    app = RecipientApp(service, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await type_text(pilot, "1234-5678")
        entry = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter", *"4242", "enter")
        await wait_for(pilot, lambda: entry.problem.text and not entry.busy, "the refusal")
        for box in entry.inputs:
            box.cursor_blink = False
        await pilot.pause()
        (tmp_path / "high-contrast-entry.svg").write_text(app.export_screenshot())
