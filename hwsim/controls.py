"""The simulator's controls in one place: one command line over every emulated device of
a running site — what a person at the lockers, at the counter or with a screwdriver would
do, and every fault the emulators know. The technician panel in the demo shows it beside
its screens (hwsim.controls_panel; ``hwsim demo --screen technician``).

Each device's words are those of its own console (``hwsim kerong``, ``hwsim cash``,
``hwsim card``), prefixed with the device::

    locks close 3            (a Kerong bus also: locks silent on, locks garbage 0203…)
    cash note 1000           cash hopper empty · cash power-cut validator
    card insert · card remove · card pull-on write
    scan 1234-5678 [code128]   the lockers' scanner reads a code
    desk 1234-5678 [code128]   the counter desk's own scanner
    token 0A001B2C3D          a 125 kHz token held to the reader
    finger 3 · finger lift · finger poor
    help

It touches the emulators only (``device.sim``), never the controller: what follows is the
real drivers' and the controller's doing, as on a real site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hwsim import kerong_console
from hwsim.cash import console as cash_console
from hwsim.cards import console as card_console
from hwsim.kerong_board import KerongBoardSim

HELP = """\
locks  close N | force N | jam N | unjam N | leave-open N [off] | put N | take N
       (Kerong bus) silent on|off [board] | checksum on|off | split on|off | garbage HEX | status
cash   coin V | note V | counterfeit coin|note | string V | pullback | jam-note on|off
       stacker ok|full|removed | hopper fill N|empty|jam N|off | power-cut DEVICE | lose N | status
card   insert | remove | provision TRADE PIN | pull-on write|sign|any | memory on|off | status
scan TEXT [SYMBOLOGY] | desk TEXT [SYMBOLOGY] | token UID | finger N|lift|poor | help"""


class SiteControls:
    """``run(line)`` -> what to show. ``controller`` is a started kiosk Controller whose
    devices are simulated (a device that is not simulated, or not configured, is said so)."""

    def __init__(self, controller: Any) -> None:
        self.controller = controller
        self.targets: dict[str, Callable[[list[str]], str]] = {
            "locks": self._locks, "doors": self._locks, "cash": self._cash, "card": self._card,
            "scan": self._scan, "desk": self._desk, "token": self._token, "finger": self._finger,
        }

    def run(self, line: str) -> str:
        words = line.split()
        if not words:
            return ""
        if words[0] == "help":
            return HELP
        target = self.targets.get(words[0])
        if target is None:
            return f"error: no device {words[0]!r} (try 'help')"
        try:
            return target(words[1:])
        except (ValueError, IndexError, KeyError, LookupError) as err:
            return f"error: {err} (try 'help')"

    # --- one device each -------------------------------------------------------------------

    @staticmethod
    def _sim(device: Any, role: str) -> Any:
        sim = getattr(device, "sim", None)
        if sim is None:
            raise LookupError(f"the {role} is not simulated here (or not configured)")
        return sim

    def _locks(self, words: list[str]) -> str:
        if not words:
            raise ValueError("which command?")
        sim = self._sim(self.controller.site.locks, "lock bank")
        if isinstance(sim, KerongBoardSim):
            return kerong_console.command(sim, words)
        done = kerong_console.door_command(sim.doors, words[0], words[1:])
        if done is None:
            raise ValueError(f"{words[0]!r}: a GPIO bank has doors only ({kerong_console.DOOR_HELP})")
        return done

    def _cash(self, words: list[str]) -> str:
        if not words:
            raise ValueError("which command?")
        return cash_console.command(self._sim(self.controller.site.cash, "payment slot"), words)

    def _card(self, words: list[str]) -> str:
        if not words:
            raise ValueError("which command?")
        return card_console.command(self._sim(self.controller.card_reader, "card reader").slot, words)

    def _scan(self, words: list[str]) -> str:
        return self._read(self.controller.scanner, "lockers' scanner", words)

    def _desk(self, words: list[str]) -> str:
        desks = [s for s in self.controller.desk_scanners.values() if s is not None]
        return self._read(desks[0] if desks else self.controller.scanner, "desk scanner", words)

    def _read(self, scanner: Any, role: str, words: list[str]) -> str:
        if not words:
            raise ValueError("scan what?")
        symbology = words[1] if len(words) > 1 else "qr"
        self._sim(scanner, role).scan(words[0], symbology)
        return f"ok: the {role} read {len(words[0])} characters ({symbology})"

    def _token(self, words: list[str]) -> str:
        if len(words) != 1:
            raise ValueError("token UID (10 hex digits)")
        self._sim(self.controller.token_reader, "token reader").hold(words[0])
        return f"ok: token {words[0]} held to the reader"

    def _finger(self, words: list[str]) -> str:
        sim = self._sim(self.controller.fingerprint, "fingerprint sensor")
        if words == ["lift"]:
            sim.lift()
            return "ok: finger lifted"
        if words == ["poor"]:
            sim.poor_image()
            return "ok: the next image is poor"
        if len(words) == 1 and words[0].isdigit():
            sim.place(int(words[0]))
            return f"ok: finger {words[0]} on the sensor"
        raise ValueError("finger N | finger lift | finger poor")
