"""Every language everywhere, the toggle, and the words chosen for each refusal."""

from __future__ import annotations

import dataclasses
import string

import pytest

from kiosk.errors import (CodeInvalid, DoorFault, LockedOut, NoLockerFree, NotCollectable, SeeStaff, SlowDown,
                          UnknownParcel)
from kiosk.languages import LANGUAGES
from kiosk.ui.app import RecipientApp
from kiosk.ui.counter import CounterApp
from kiosk.ui.explain import courier_login_problem, deposit_problem, pickup_problem
from kiosk.ui.screens import IdleScreen, PickupEntryScreen
from kiosk.ui.texts import EN, JA
from kiosk.ui.texts import LANGUAGES as TEXTS_IN
from kiosk.ui.widgets import Words
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen
from tests.ui.fakes import FakeCounterService, FakeService


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(EN)])
def test_every_phrase_exists_in_both_languages_with_the_same_placeholders(field):
    en, ja = getattr(EN, field), getattr(JA, field)
    assert en.strip() and ja.strip()
    assert placeholders(en) == placeholders(ja)


@pytest.mark.parametrize("err, words", [
    (CodeInvalid("x", attempts_left=3), "You can try 3 more times"),
    (CodeInvalid("x", attempts_left=1), "You can try 1 more time."),
    (LockedOut("x"), "locked. Please see staff"),
    (SlowDown(9.2), "wait 10 seconds"),
    (UnknownParcel("x"), "No parcel with the number 1234-5678"),
    (NotCollectable("this parcel has not arrived yet"), "has not arrived yet"),
    (NotCollectable("this parcel has already been collected"), "already been collected"),
    (NotCollectable("the holding period for this parcel has ended; please see staff"), "kept for as long as allowed"),
    (NotCollectable("this parcel is kept at the counter; please see staff"), "kept at the counter"),
    (NotCollectable("something new"), "cannot be collected now"),
    (SeeStaff("x"), "Please see staff"),
    (DoorFault("x"), "Your parcel is safe"),
])
def test_pickup_refusals_in_words(err, words):
    assert words in pickup_problem(err, "1234-5678")(EN)
    assert pickup_problem(err, "1234-5678")(JA)


def test_a_reason_from_the_service_wins_over_its_message():
    err = NotCollectable("whatever")
    err.reason = "collected"
    assert pickup_problem(err, "X")(EN) == EN.already_collected


def test_courier_refusals_in_words():
    assert courier_login_problem(CodeInvalid("x"))(EN) == EN.courier_code_wrong
    assert deposit_problem(NoLockerFree("x"), "A-1")(EN) == EN.no_locker_free
    assert deposit_problem(NoLockerFree("x", reason="no_fitting_door"), "A-1")(EN) == EN.no_fitting_door
    assert deposit_problem(NoLockerFree("x", reason="no_low_door"), "A-1")(JA) == JA.no_low_door
    assert deposit_problem(CodeInvalid("x"), "A-1")(EN) == EN.courier_session_over
    assert deposit_problem(NotCollectable("x"), "A-1")(JA).startswith("A-1")


def shown(screen) -> list[str]:
    return [w.text for w in screen.query(Words) if w.text]


@pytest.mark.slow
async def test_language_toggle_changes_every_word_and_keeps_what_was_typed():
    service = FakeService()
    service.answers["submit_code"] = CodeInvalid("x", attempts_left=2)
    app = RecipientApp(service)
    async with app.run_test(size=SIZE) as pilot:
        assert app.language == "en" and "Collect a parcel" in str(app.screen.collect.label)
        await pilot.click(".language-toggle")
        assert app.language == "ja" and str(app.screen.collect.label) == "荷物を受け取る"
        assert str(app.screen.query_one(".language-toggle").label) == "English"

        await type_text(pilot, "1234-5678")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        assert app.language == "ja"  # the choice made on the idle screen carries on
        await pilot.press("enter")
        await type_text(pilot, "999")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.problem.text, "the refusal")
        assert screen.problem.text == "暗証番号が違います。あと2回入力できます。"

        await pilot.press("f2")  # the keyboard's language key
        assert app.language == "en"
        assert screen.problem.text == "That secret code is not right. You can try 2 more times."
        assert screen.inputs[0].value == "1234-5678"
        assert "Now enter your secret code" in shown(screen)


async def test_one_language_means_no_toggle():
    app = RecipientApp(FakeService(languages=("ja",)))
    async with app.run_test(size=SIZE) as pilot:
        assert app.language == "ja"
        assert not app.screen.query(".language-toggle")
        await pilot.press("f2")
        assert app.language == "ja"


async def test_slow_down_says_how_long_to_wait():
    service = FakeService()
    service.answers["submit_code"] = SlowDown(12.4)
    app = RecipientApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "1234-5678")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter", *"42", "enter")
        await wait_for(pilot, lambda: screen.problem.text, "the refusal")
        assert screen.problem.text == "Too many wrong tries at this machine. Please wait 13 seconds, then try again."
        assert screen.active == 1 and screen.inputs[0].value == "1234-5678"


@pytest.mark.slow
async def test_the_secret_never_leaves_the_form():
    service = FakeService()
    service.answers["submit_code"] = CodeInvalid("x", attempts_left=4)
    app = RecipientApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "1234-5678")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter", *"424242", "enter")
        await wait_for(pilot, lambda: screen.problem.text, "the refusal")
        assert screen.inputs[1].value == ""
        assert "424242" not in repr(service.calls)


async def test_short_trade_number_is_caught_before_asking_the_service():
    service = FakeService()
    app = RecipientApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "12")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.problem.text, "the refusal")
        assert "at least 4" in screen.problem.text and screen.active == 0
        assert service.calls == []


async def test_escape_and_cancel_go_back_to_the_start():
    app = RecipientApp(FakeService())
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "1")
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, IdleScreen)
        await type_text(pilot, "1")
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.click(".cancel")
        await wait_for_screen(pilot, IdleScreen)


def test_a_widget_instance_is_refused_as_side_panel():
    from textual.widgets import Static
    with pytest.raises(TypeError, match="new widget"):
        RecipientApp(FakeService(), side_panel=Static("x"))


async def test_ctrl_q_can_be_turned_off_for_a_public_screen():
    app = RecipientApp(FakeService(), allow_quit=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running


async def test_while_the_service_works_the_form_waits_for_its_answer():
    import asyncio
    from kiosk.ui.screens import DoorOpenScreen

    service = FakeService()
    service.gate = asyncio.Event()
    app = RecipientApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "1234-5678")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter", *"4242", "enter", "enter")  # an impatient second Enter
        assert screen.busy and screen.status.text == "Checking…"
        await pilot.press("escape")
        await pilot.click(".cancel")
        app.action_go_idle()  # as the inactivity timer would
        assert app.screen is screen  # nobody walks away from a command already sent
        service.gate.set()
        await wait_for_screen(pilot, DoorOpenScreen)
        assert service.calls == [("check_trade_number", "1234-5678"), ("submit_code", "1234-5678")]


@pytest.mark.parametrize("make", [
    lambda languages: RecipientApp(FakeService(languages=languages)),
    lambda languages: CounterApp(FakeCounterService(languages=languages), "clerk-7"),
], ids=["recipient", "counter"])
async def test_the_toggle_goes_through_every_language_in_turn(make):
    """Three languages or more: F2 (or the toggle) goes to the next one, never back and forth
    between two; the toggle names the next one in its own words."""
    app = make(("ko", "en", "ja"))
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        for _ in range(4):
            seen.append(app.language)
            assert str(app.screen.query_one(".language-toggle").label) == LANGUAGES[app.next_language]
            await pilot.press("f2")
        assert seen == ["ko", "en", "ja", "ko"]
        assert app.texts_for("ko").language_name == "한국어"


def test_every_phrase_in_every_language_ends_like_a_sentence_where_english_does():
    """The refusals are joined to "see staff" (``join``): a missing full stop would run two
    sentences together in any language."""
    stops = (".", "。", "…", "！", "？", "!", "?", ")", "）")
    for code, table in TEXTS_IN.items():
        for field in dataclasses.fields(EN):
            english, text = getattr(EN, field.name), getattr(table, field.name)
            if english.endswith("."):
                assert text.endswith(stops), (code, field.name, text)
