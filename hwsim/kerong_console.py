"""Console for an emulated Kerong CU16 bus: ``hwsim kerong --boards 2 --doors 20``.

Starts ``hwsim.kerong_board.KerongBoardSim``, prints its pty (point the kiosk's ``locks``
URL, or any other CU16 client, at it), then plays the people and the faults from commands
read one per line on stdin, printing the emulator's history as it happens.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import TextIO
from collections.abc import Callable

from drivers.locks import kerong_codec as codec
from hwsim.doors import DoorBank
from hwsim.history import Entry, History
from hwsim.kerong_board import KerongBoardSim

HELP = """\
commands (N = door number, 1-based across the bus):
  close N | force N | jam N | unjam N | leave-open N [off] | put N | take N
  silent on|off [board]   checksum on|off   split on|off   garbage HEX
  status | history | help | quit"""

PRINT_INTERVAL_S = 0.1  # how often new history entries are printed


def console_main(argv: list[str], *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the console until ``quit`` or end of input; return the exit status."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    parser = argparse.ArgumentParser(prog="hwsim kerong", description="Emulate Kerong CU16 lock boards on a pty.")
    parser.add_argument("--boards", type=int, default=1, help="boards on the bus (16 locks each)")
    parser.add_argument("--doors", type=int, default=None, help="doors fitted (default: 16 per board)")
    parser.add_argument("--first-board", type=int, default=0, help="bus address of the first board")
    parser.add_argument("--polarity", choices=codec.POLARITIES, default="closed-high")
    parser.add_argument("--reply-to-unlock", action="store_true", help="answer 0x31 with a status frame")
    parser.add_argument("--quiet", action="store_true", help="do not print status queries and their replies")
    args = parser.parse_args(argv)
    try:
        sim = KerongBoardSim(args.boards, args.doors, first_board=args.first_board,
                             polarity=args.polarity, reply_to_unlock=args.reply_to_unlock)
    except ValueError as err:
        print(f"hwsim kerong: {err}", file=stdout)
        return 2
    out_lock = threading.Lock()

    def say(text: str) -> None:
        with out_lock:
            print(text, file=stdout, flush=True)

    with sim:
        say(f"{sim!r}\nport: {sim.port}\nlocks = \"kerong+serial://{sim.port}?boards={args.boards}"
            f"&first_board={args.first_board}&doors={len(sim.doors)}&polarity={args.polarity}\"\n{HELP}")
        printer = _HistoryPrinter(sim.history, say, quiet=args.quiet)
        try:
            for line in stdin:
                words = line.split()
                if not words:
                    continue
                if words[0] in ("quit", "exit"):
                    break
                try:
                    say(command(sim, words))
                except (ValueError, IndexError) as err:
                    say(f"error: {err} (try 'help')")
                printer.flush()
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a technician leaves; the emulator still stops cleanly
        finally:
            printer.stop()
    return 0


DOOR_HELP = "close N | force N | jam N | unjam N | leave-open N [off] | put N | take N"


def door_command(doors: DoorBank, name: str, rest: list[str]) -> str | None:
    """A person's hand on door N (any emulated bank: Kerong or GPIO); None if ``name`` is
    not a door command. Raises ValueError for a bad door number."""
    door_actions: dict[str, Callable[[int], object]] = {
        "force": doors.force_open, "jam": doors.jam, "unjam": lambda n: doors.jam(n, False),
        "put": doors.put, "take": doors.take,
    }
    if name in door_actions:
        door_actions[name](_number(rest))
        return f"ok: {name} {rest[0]}"
    if name == "close":
        return "ok: closed" if doors.close(_number(rest)) else "door stays open (left-open fault)"
    if name == "leave-open":
        doors.leave_open(_number(rest), on=rest[1:] != ["off"])
        return f"ok: leave-open {' '.join(rest)}"
    return None


def command(sim: KerongBoardSim, words: list[str]) -> str:
    """Carry out one command line; return what to print. Raises ValueError for a bad one."""
    name, rest = words[0], words[1:]
    if (done := door_command(sim.doors, name, rest)) is not None:
        return done
    if name == "silent":
        sim.silent(_on_off(rest), board=int(rest[1]) if len(rest) > 1 else None)
        return f"ok: silent {' '.join(rest)}"
    if name == "checksum":
        sim.corrupt_checksum(_on_off(rest))
        return f"ok: corrupt checksums {rest[0]}"
    if name == "split":
        sim.split_replies(_on_off(rest))
        return f"ok: split replies {rest[0]}"
    if name == "garbage":
        data = bytes.fromhex("".join(rest))
        sim.inject_garbage(data)
        return f"ok: {len(data)} byte(s) written"
    if name == "status":
        return _status(sim)
    if name == "history":
        entries = sim.history.entries()
        return "\n".join(_format(e, entries[0].monotonic) for e in entries) if entries else "(empty)"
    if name == "help":
        return HELP
    raise ValueError(f"unknown command {name!r}")


def _number(rest: list[str]) -> int:
    if not rest:
        raise ValueError("which door?")
    return int(rest[0])


def _on_off(rest: list[str]) -> bool:
    if not rest or rest[0] not in ("on", "off"):
        raise ValueError("say on or off")
    return rest[0] == "on"


def _status(sim: KerongBoardSim) -> str:
    silent = sim.silent_boards
    lines = [f"board {b}: {'SILENT' if b in silent else 'answering'}" for b in sim.boards]
    for number, door in sim.doors.doors.items():
        faults = f" faults={','.join(sorted(door.faults))}" if door.faults else ""
        lines.append(f"door {number:3}: {'OPEN  ' if door.is_open else 'closed'} "
                     f"{'parcel' if door.occupied else 'empty '} pulses={door.pulses}{faults}")
    return "\n".join(lines)


def _format(entry: Entry, since: float) -> str:
    detail = " ".join(f"{k}={v}" for k, v in entry.detail.items())
    return f"{entry.monotonic - since:9.3f} {entry.source:8} {entry.kind:13} {detail}"


def _is_poll(entry: Entry) -> bool:
    frame = entry.detail.get("frame", "")
    return entry.kind in ("rx", "tx") and frame[6:8] in ("30", "35")


class _HistoryPrinter:
    """Prints history entries as they appear. History has no listeners, so it is polled."""

    def __init__(self, history: History, say: Callable[[str], None], quiet: bool):
        self._history, self._say, self._quiet = history, say, quiet
        self._printed = len(history)
        self._since = history.entries()[0].monotonic if self._printed else time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kerong-console-history", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        with self._lock:
            entries = self._history.entries()
            for entry in entries[self._printed:]:
                if not (self._quiet and _is_poll(entry)):
                    self._say(_format(entry, self._since))
            self._printed = len(entries)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(PRINT_INTERVAL_S):
            self.flush()
