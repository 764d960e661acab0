"""Spoken guidance (issue 15 §6): the speech key reads the recipient's screen aloud in the
language it shows, and every screen after it until the kiosk is back at the start —
rendered by the real espeak-ng to WAV files (``sim+espeak://``) through the real controller,
in English, Japanese (kanji read through MeCab: the engine's own reading of them is
useless) and Korean. Nothing typed is ever read: not the secret, not the keypad."""

from __future__ import annotations

import wave

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.errors import SeeStaff
from kiosk.ui.app import RecipientApp
from kiosk.ui.app_base import READ_ALOUD_KEY
from kiosk.ui.screens import DoneScreen, DoorOpenScreen, IdleScreen, PickupEntryScreen
from kiosk.ui.texts import EN, LANGUAGES
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

pytestmark = pytest.mark.slow


def seconds(path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


@pytest.fixture
async def site(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4, speech="sim+espeak://",
                           extra='[ui]\nlanguages = ["en", "ja", "ko"]\n')
    try:
        yield sim
    finally:
        await sim.controller.stop()


async def test_every_screen_of_a_pickup_is_heard(site, rng):
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    speaker = site.controller.speaker
    app = RecipientApp(site.controller, done_s=30)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(READ_ALOUD_KEY)
        await wait_for(pilot, lambda: len(speaker.said) == 1, "the start read out")
        assert speaker.said[0].language == "en" and EN.welcome in speaker.said[0].text
        await type_text(pilot, parcel.trade_number)
        entry = await wait_for_screen(pilot, PickupEntryScreen)
        await wait_for(pilot, lambda: any(EN.pickup_title in s.text for s in speaker.said), "the entry read out")
        await pilot.press("enter")
        await type_text(pilot, "000000" if parcel.secret != "000000" else "111111")
        await pilot.press("enter")
        await wait_for(pilot, lambda: speaker.said[-1].text == EN.wrong_secret.format(n=4), "the refusal, said")
        await type_text(pilot, parcel.secret)
        await pilot.press("enter")
        await wait_for_screen(pilot, DoorOpenScreen)
        await wait_for(pilot, lambda: any(f"Door {locker}" in s.text for s in speaker.said), "the door read out")
        await wait_for(pilot, lambda: EN.door_is_open.format(n=locker) in speaker.said[-1].text, "the door open, said")
        site.doors.take(locker)
        site.doors.close(locker)
        await wait_for_screen(pilot, DoneScreen)
        await wait_for(pilot, lambda: any(EN.thank_you in s.text for s in speaker.said), "thanks read")
        await pilot.press("f2")                                  # Japanese: the same screen, heard again
        await wait_for(pilot, lambda: speaker.said[-1].language == "ja", "the screen in Japanese")
        await pilot.press("f2")
        await wait_for(pilot, lambda: speaker.said[-1].language == "ko", "the screen in Korean")
        app.action_go_idle()
        await wait_for_screen(pilot, IdleScreen)
        heard = len(speaker.said)
        await pilot.pause(0.3)
        assert len(speaker.said) == heard                        # back at the start: speaking ends
    said = speaker.said
    assert {s.language for s in said} == {"en", "ja", "ko"}
    for s in said:
        assert seconds(s.wav) > 0.5, (s.language, s.text)
        assert parcel.secret not in s.text
        for key in ("1\n2\n3", "Clear\nOK"):
            assert key not in s.text
    ja = next(s for s in said if s.language == "ja")
    assert LANGUAGES["ja"].thank_you in ja.text
    assert entry is not None


async def test_no_speech_device_is_said_plainly(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    try:
        assert sim.controller.ui_settings().speaks is False
        with pytest.raises(SeeStaff):
            await sim.controller.speak("Welcome", "en")
    finally:
        await sim.controller.stop()
