"""An emulated 125 kHz RFID reader (RDM6300 frames) behind a pty.

``hold(uid, frames=3)`` is a tag held in the field: the frame repeated as the module
repeats it. Faults: ``bad_checksum(uid)``, ``cut(uid)`` (a frame cut off: the tag pulled
mid-read), ``garbage(n)`` (line noise), ``wrong_type()`` (a frame whose digits are not
hex, as a reader of another tag family may send), ``disconnect()``/``reconnect()``.

``rdm6300_sim`` builds the ``sim+rdm6300://`` device: this emulator plus the real driver
on its path::

    sim+rdm6300://?dedupe_ms=1500&gap_ms=100&chunk=0
"""

from __future__ import annotations

import random

from drivers.scanners.base import base_options
from drivers.tokens.rdm6300 import ETX, STX, TokenReaderRdm6300, frame_for
from hwsim.history import History
from hwsim.owned import OwnsEmulator
from hwsim.plugged_pty import PluggedPty
from kiosk.devices.url import DeviceURL


class Rdm6300Sim(PluggedPty):
    source = "rdm6300"
    link_name = "usb-HWSIM_RFID_125kHz-if00-port0"

    def __init__(self, *, chunk: int = 0, history: History | None = None, seed: int = 0) -> None:
        super().__init__(chunk=chunk, history=history)
        self.rng = random.Random(seed)

    def hold(self, uid: str, frames: int = 3) -> bytes:
        """A tag in the field: its frame ``frames`` times. Returns one frame."""
        frame = frame_for(uid)
        self._write(frame * frames, "tag", uid=uid, frames=frames)
        return frame

    def bad_checksum(self, uid: str) -> bytes:
        frame = bytearray(frame_for(uid))
        frame[12] = ord("0") if frame[12] != ord("0") else ord("1")
        self._write(bytes(frame), "bad_checksum", uid=uid)
        return bytes(frame)

    def cut(self, uid: str, keep: int = 7) -> bytes:
        frame = frame_for(uid)[:keep]
        self._write(frame, "cut", uid=uid, keep=keep)
        return frame

    def garbage(self, n: int = 24) -> bytes:
        noise = bytes(self.rng.choice([0x00, 0xFF, 0x80, 0x7E, 0x41]) for _ in range(n))
        self._write(noise, "garbage", size=n)
        return noise

    def wrong_type(self) -> bytes:
        frame = bytes([STX]) + b"ZZ00C3D4E5X1" + bytes([ETX])
        self._write(frame, "wrong_type")
        return frame


def rdm6300_sim(url: DeviceURL, **context) -> TokenReaderRdm6300:
    """The ``sim+rdm6300://`` device: a started emulator with the real driver on its path
    (emulator on ``.sim``, stopped with the driver). Raises DeviceURLError."""
    options = TokenReaderRdm6300.options_from_url(url)
    chunk = url.int("chunk", 0, lo=0, hi=64)
    url.reject_unknown()
    sim = Rdm6300Sim(chunk=chunk).start()
    try:
        assert sim.path is not None
        return EmulatedRdm6300(sim, url=url.raw, **options, **base_options(context))
    except BaseException:
        sim.stop()
        raise


def _check(url: DeviceURL) -> None:
    TokenReaderRdm6300.options_from_url(url)
    url.int("chunk", 0, lo=0, hi=64)


rdm6300_sim.check_url = _check   # type: ignore[attr-defined]


class EmulatedRdm6300(OwnsEmulator, TokenReaderRdm6300):
    """The real RDM6300 driver, owning the emulator it reads."""

    def __init__(self, sim: Rdm6300Sim, **options) -> None:
        assert sim.path is not None
        super().__init__(sim.path, **options)
        self.sim = sim
