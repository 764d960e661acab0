"""Spoken guidance through espeak-ng (Debian's ``espeak-ng``), the screens read aloud.

    espeak://?rate=150&pitch=50&volume=100&ja_voice=ja&en_voice=en-us

``say`` starts ``espeak-ng`` in the background, which plays through the machine's sound
device (cutting whatever it was still saying: a recipient who asks again wants the new
screen, not the rest of the old one); ``render`` returns the speech as WAV bytes
(``--stdout``). Japanese goes through ``drivers.speech.readings`` first (espeak-ng reads
kana, not kanji). A language with no voice configured, or whose voice espeak-ng lacks, is
DeviceUnavailable — never another language's voice reading it wrongly.

The text is passed on the command line as one argument (no shell), never logged: screens
never show a secret, and this driver is only ever given what a screen shows.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading

from drivers.base import DeviceBase
from drivers.speech.readings import japanese_reading
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceOperationError, DeviceUnavailable, DeviceURLError

log = logging.getLogger(__name__)
ENGINE = "espeak-ng"
MAX_CHARS = 4000
VOICES = {"en": "en-us", "ja": "ja", "ko": "ko"}


class SpeakerEspeak(DeviceBase):
    def __init__(self, *, url: str = "espeak://", rate: int = 150, pitch: int = 50, volume: int = 100,
                 voices: dict[str, str] | None = None, engine: str = ENGINE) -> None:
        super().__init__(url)
        self.rate, self.pitch, self.volume = rate, pitch, volume
        self.voices = dict(voices or VOICES)
        self.engine = engine
        self._binary: str | None = None
        self._playing: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.stats = {"said": 0, "rendered": 0, "cut": 0, "failures": 0}

    # --- URL -------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        if url.host or url.path.strip("/"):
            raise DeviceURLError(f"{url.raw!r}: espeak takes no host or path, only options (espeak://?rate=150)")
        voices = dict(VOICES)
        for language in list(VOICES):
            voices[language] = url.str(f"{language}_voice", VOICES[language])
        return dict(rate=url.int("rate", 150, lo=80, hi=450), pitch=url.int("pitch", 50, lo=0, hi=99),
                    volume=url.int("volume", 100, lo=0, hi=200), voices=voices)

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        cls.options_from_url(url)

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "SpeakerEspeak":
        return cls(url=url.raw, **cls.options_from_url(url))

    # --- lifecycle ---------------------------------------------------------------------------

    def _open_device(self) -> None:
        self._binary = shutil.which(self.engine)
        if self._binary is None:
            raise DeviceUnavailable(f"speech: {self.engine} is not installed (Debian: apt-get install espeak-ng)")

    def _close_device(self) -> None:
        self._cut()

    # --- the Speaker role ----------------------------------------------------------------------

    def say(self, text: str, language: str) -> None:
        self._check_open()
        command = self._command(text, language)
        with self._lock:
            self._cut()
            try:
                self._playing = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)
            except OSError as err:
                self.stats["failures"] += 1
                raise DeviceOperationError(f"speech: cannot start {self.engine}: {err}") from err
            self.stats["said"] += 1

    def render(self, text: str, language: str) -> bytes:
        self._check_open()
        done = subprocess.run(self._command(text, language, "--stdout"), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60, check=False)
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            self.stats["failures"] += 1
            raise DeviceOperationError(f"speech: {self.engine} failed ({done.returncode}): "
                                       f"{done.stderr.decode(errors='replace')[-200:]}")
        self.stats["rendered"] += 1
        return done.stdout

    # --- helpers -------------------------------------------------------------------------------

    def _command(self, text: str, language: str, *options: str) -> list[str]:
        voice = self.voices.get(language)
        if not voice:
            raise DeviceUnavailable(f"speech: no voice for the language {language!r}")
        spoken = japanese_reading(text) if language == "ja" else text
        spoken = " ".join(spoken.split())[:MAX_CHARS]
        assert self._binary is not None
        return [self._binary, "-v", voice, "-s", str(self.rate), "-p", str(self.pitch), "-a", str(self.volume),
                *options, "--", spoken]

    def _cut(self) -> None:
        playing, self._playing = self._playing, None
        if playing is not None and playing.poll() is None:
            playing.terminate()
            self.stats["cut"] += 1
            try:
                playing.wait(2)
            except subprocess.TimeoutExpired:
                playing.kill()

    def _repr_details(self) -> str:
        return f"{self.engine} rate={self.rate} voices={','.join(sorted(self.voices))}"
