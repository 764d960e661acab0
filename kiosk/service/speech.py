"""Spoken guidance (issue 15 §6): a screen asks for what it shows to be read aloud.

The screen sends its own words (no secret is ever on a screen: secret fields are masked
and not part of what a screen reads out); the controller owns the loudspeaker, as it owns
every device, so the words go to its ``speech`` device. The engine runs in a thread: a
``say`` returns once the speech has started (or, simulated, been written).
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.devices.roles import Speaker
from kiosk.errors import DeviceError, InvalidTransition, SeeStaff
from kiosk.languages import LANGUAGES

log = logging.getLogger(__name__)
MAX_CHARS = 4000


async def speak(speaker: Speaker | None, text: str, language: str) -> None:
    if speaker is None:
        raise SeeStaff("this kiosk has no spoken guidance")
    if language not in LANGUAGES:
        raise InvalidTransition(f"no such language {language!r}")
    if len(text) > MAX_CHARS:
        raise InvalidTransition(f"too much to say at once ({len(text)} characters, at most {MAX_CHARS})")
    if not text.strip():
        return
    try:
        await asyncio.to_thread(speaker.say, text, language)
    except DeviceError as err:
        log.warning("speech failed in %s: %s", language, err)
        raise SeeStaff("the spoken guidance is not working; please see staff") from err
