"""An emulated serial barcode scanner behind a pty.

The real driver (``drivers.scanners.serial_scanner``) opens ``sim.path``: a stable path to
the pty that ``disconnect()``/``reconnect()`` unplug and plug back (hwsim.plugged_pty).

Control API: ``scan(data, symbology="qr")`` sends ``[prefix][AIM id][data]suffix`` as the
scanner would. Faults: ``garbage()`` (line noise), ``partial()`` (a frame cut off),
``scan_foreign()`` (a well-framed code that is not one of ours), ``scan_truncated()`` (one
of ours with its end missing), ``overlong()``, ``disconnect()``/``reconnect()``; ``send()``
writes raw bytes. ``chunk`` splits every write into pieces of that many bytes, as a USB
CDC adapter delivers them. Everything sent goes to ``history``.

``serial_scanner_sim`` builds the ``sim+serial-scanner://`` device: this emulator plus the
real driver on its path::

    sim+serial-scanner://?suffix=crlf&aim=1&chunk=0 (and every serial:// parameter)
"""

from __future__ import annotations

import random

from drivers.scanners import aim as aim_ids
from drivers.scanners.framing import SUFFIXES
from drivers.scanners.base import base_options
from drivers.scanners.serial_scanner import ScannerSerial
from hwsim.history import History
from hwsim.owned import OwnsEmulator
from hwsim.plugged_pty import PluggedPty
from kiosk.devices.url import DeviceURL

SOURCE = "serial-scanner"


class SerialScannerSim(PluggedPty):
    """A scanner that sends codes on a pty reached through a stable path."""

    source = SOURCE
    link_name = "usb-HWSIM_Barcode_Scanner-if00"

    def __init__(self, *, suffix: str = "crlf", aim: bool = True, prefix: bytes = b"", chunk: int = 0,
                 history: History | None = None, seed: int = 0):
        """Raises ValueError for an unknown suffix."""
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix {suffix!r} is not one of {', '.join(SUFFIXES)}")
        super().__init__(chunk=chunk, history=history)
        self.suffix, self.aim, self.prefix = SUFFIXES[suffix], aim, prefix
        self.rng = random.Random(seed)

    # --- what a scanner sends ---------------------------------------------------------------------

    def frame(self, data: str | bytes, symbology: str = "qr", identifier: str | None = None) -> bytes:
        """The bytes the scanner sends for ``data``. Raises KeyError for a symbology without a
        known AIM identifier (pass ``identifier``)."""
        payload = data.encode() if isinstance(data, str) else bytes(data)
        ident = b""
        if self.aim:
            ident = (identifier or aim_ids.identifier_for(symbology)).encode("ascii")
        return self.prefix + ident + payload + self.suffix

    def scan(self, data: str | bytes, symbology: str = "qr", identifier: str | None = None) -> bytes:
        """Send one code as the scanner does after a good read. Returns the bytes sent.
        Raises RuntimeError when unplugged."""
        frame = self.frame(data, symbology, identifier)
        self._write(frame, "scan", symbology=symbology, size=len(frame))
        return frame

    def scan_foreign(self, data: str | bytes = b"https://example.com/p/8812", symbology: str = "qr") -> bytes:
        """A well-framed code that is not one of ours (a shop's URL, a shipping barcode)."""
        frame = self.frame(data, symbology)
        self._write(frame, "foreign", symbology=symbology)
        return frame

    def scan_truncated(self, data: str | bytes, keep: int, symbology: str = "qr") -> bytes:
        """One of our codes with its end missing, well framed (a damaged label read anyway)."""
        payload = data.encode() if isinstance(data, str) else bytes(data)
        frame = self.frame(payload[:keep], symbology)
        self._write(frame, "truncated", keep=keep)
        return frame

    def partial(self, data: str | bytes, cut: int | None = None, symbology: str = "qr") -> bytes:
        """The first ``cut`` bytes of a frame and nothing more (the cable pulled mid-code)."""
        frame = self.frame(data, symbology)
        cut = len(frame) // 2 if cut is None else cut
        self._write(frame[:cut], "partial", cut=cut)
        return frame[:cut]

    def garbage(self, n: int = 32, *, with_suffix: bool = True) -> bytes:
        """Line noise: ``n`` random bytes (a wrong baud rate, a spike), then maybe a suffix."""
        noise = bytes(self.rng.choice([0x00, 0xFF, 0x80, 0x1B, 0x07, 0xFE, 0x15]) if self.rng.random() < 0.5
                      else self.rng.randrange(256) for _ in range(n))
        data = noise + (self.suffix if with_suffix else b"")
        self._write(data, "garbage", size=len(data))
        return data

    def overlong(self, n: int = 5000) -> bytes:
        """A printable stream with no suffix for ``n`` bytes, then one."""
        data = bytes(self.rng.randrange(0x21, 0x7F) for _ in range(n)) + self.suffix
        self._write(data, "overlong", size=len(data))
        return data


def serial_scanner_sim(url: DeviceURL, **context) -> ScannerSerial:
    """The ``sim+serial-scanner://`` device: a started emulator with the real driver on
    its path. The emulator is on ``scanner.sim`` and stops when the scanner is closed, so
    the scanner is single-use. Raises DeviceURLError."""
    options = ScannerSerial.options_from_url(url)
    chunk = url.int("chunk", 0, lo=0, hi=4096)
    url.reject_unknown()  # now, before anything runs: a misspelt parameter must not leak an emulator
    sim = SerialScannerSim(suffix=options["suffix"], aim=options["aim"], prefix=options["prefix"],
                           chunk=chunk).start()
    try:
        return EmulatedScannerSerial(sim, url=url.raw, **options, **base_options(context))
    except BaseException:
        sim.stop()
        raise


def _check_serial_scanner_sim(url: DeviceURL) -> None:
    ScannerSerial.options_from_url(url)
    url.int("chunk", 0, lo=0, hi=4096)


serial_scanner_sim.check_url = _check_serial_scanner_sim


class EmulatedScannerSerial(OwnsEmulator, ScannerSerial):
    """The real serial driver, owning the emulator it reads."""

    def __init__(self, sim: SerialScannerSim, **options):
        super().__init__(sim.path, **options)
        self.sim = sim
