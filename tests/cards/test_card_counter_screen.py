"""F3 on the counter screen through the real controller, pcscd and the virtual card: the
label read, the desk says it is a card parcel and asks for the card's PIN, the card checks
it, the clerk confirms, the card signs — and the parcel is handed over."""

from __future__ import annotations

import pytest

from kiosk.domain.parcels import ParcelState
from kiosk.ui.counter import CounterApp
from kiosk.ui.counter.texts import EN
from tests.cards.test_card_counter import desk  # noqa: F401 — the fixture
from tests.ui.conftest import SIZE, type_text, wait_for
from tests.ui.test_counter_app import words

pytestmark = pytest.mark.slow


async def test_the_counter_screen_hands_over_a_card_parcel(desk):  # noqa: F811 — the fixture
    site, store, made, reader, key = desk
    c = site.controller
    app = CounterApp(c, "clerk-1")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await c.counter_present(made.trade_number.encode())
        await wait_for(pilot, lambda: EN.step_card in words(screen), "the card step")
        assert screen.secret_label.text == EN.card_pin and screen.view.state.card
        await type_text(pilot, made.secret[:-1] + ("1" if made.secret[-1] != "1" else "2"))   # one digit off
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy and screen.verdict.has_class("-refused"), "the wrong PIN")
        assert "more times" in words(screen) and reader.sim.card.signature_counter == 0
        await type_text(pilot, made.secret)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy and screen.confirm.display, "the hand-over")
        await pilot.click(".counter-confirm")
        await wait_for(pilot, lambda: not screen.busy and screen.view.done, "handed over")
    assert c.site.db.parcel(made.trade_number).state == ParcelState.COLLECTED
    assert reader.sim.card.signature_counter == 1


async def test_the_clerk_takes_back_a_used_card(desk):  # noqa: F811 — the fixture
    """After the hand-over the card (its receipt on it) goes back to the store: one button."""
    site, store, made, reader, key = desk
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    ticket = await c.counter_verify_card(made.secret)
    await c.counter_confirm("clerk-1", ticket.ticket)
    app = CounterApp(c, "clerk-1")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.click(".counter-collect-card")
        await wait_for(pilot, lambda: not screen.busy and "taken back" in words(screen), "the card taken back")
        assert made.trade_number in words(screen)
    [event] = [e for e in c.site.db.outbox() if e["kind"] == "card_collected"]
    assert event["trade_number"] == made.trade_number or event["payload"].get("trade_number") == made.trade_number
