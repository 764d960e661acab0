"""``sim+espeak://``: the real espeak-ng driver with a file for a loudspeaker.

The same engine, voices and Japanese readings as ``espeak://`` (drivers.speech.espeak);
only what is said goes to a WAV file in a private folder instead of the sound device, one
file per ``say``, and is remembered (``said``: language, text, file) so a test, a
scenario or a technician can check that every screen was heard.

    sim+espeak://?rate=150          options as espeak://
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

from drivers.speech.espeak import SpeakerEspeak
from kiosk.devices.url import DeviceURL


@dataclass(frozen=True)
class Said:
    language: str
    text: str
    wav: Path


class SpeakerEspeakSim(SpeakerEspeak):
    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.folder = Path(tempfile.mkdtemp(prefix="hwsim-speech-"))
        self.said: list[Said] = []
        self._n = itertools.count(1)

    def say(self, text: str, language: str) -> None:
        wav = self.folder / f"{next(self._n):04d}-{language}.wav"
        wav.write_bytes(self.render(text, language))
        self.said.append(Said(language, text, wav))
        self.stats["said"] += 1


def espeak_sim(url: DeviceURL, **context) -> SpeakerEspeakSim:
    return SpeakerEspeakSim(url=url.raw, **SpeakerEspeak.options_from_url(url))


espeak_sim.check_url = SpeakerEspeak.check_url   # type: ignore[attr-defined]
