"""Console for an emulated ccTalk cash bus: ``hwsim cash [--hopper-coins 50] [--no-echo]``.

Starts ``hwsim.cash.bus.CcTalkBusSim`` with a coin acceptor (2), a bill validator (40) and
a hopper (3), prints its pty (point the kiosk's ``cash`` URL, or any ccTalk host, at it),
then plays the customer and the faults from commands read one per line on stdin, printing
the bus history as it happens.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TextIO

from drivers.cash import cctalk_codec as codec
from hwsim.cash.bus import CcTalkBusSim, standard_bus
from hwsim.history import Entry, HistoryPrinter, format_entry

HELP = """\
commands (V = value in yen):
  coin V | note V | counterfeit coin|note | string V (coin on a string) | pullback (note pulled back)
  jam-note on|off | stacker ok|full|removed | hopper fill N | hopper empty | hopper jam N|off
  power-cut acceptor|validator|hopper | garbage HEX | lose N | corrupt N | drop N | silent ADDR on|off
  status | history | help | quit"""

POLL_HEADERS = {codec.H_READ_BUFFERED_CREDIT, codec.H_READ_BUFFERED_BILL_EVENTS, codec.H_REQUEST_HOPPER_STATUS}


def console_main(argv: list[str], *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the console until ``quit`` or end of input; return the exit status."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    parser = argparse.ArgumentParser(prog="hwsim cash", description="Emulate a ccTalk cash bus on a pty.")
    parser.add_argument("--hopper-coins", type=int, default=50, help="coins in the hopper at start")
    parser.add_argument("--hopper-coin", default="JP100A", help="the coin id the hopper pays")
    parser.add_argument("--no-echo", action="store_true", help="a two-wire interface: no echo of the host's bytes")
    parser.add_argument("--validator-crc", action="store_true", help="the validator uses the CRC-16 variant")
    parser.add_argument("--quiet", action="store_true", help="do not print routine polls and their replies")
    args = parser.parse_args(argv)
    if codec.coin_value(args.hopper_coin) is None or args.hopper_coins < 0:
        print("hwsim cash: --hopper-coin takes a coin id such as JP100A; --hopper-coins a count", file=stdout)
        return 2
    sim = standard_bus(echo=not args.no_echo, hopper_coins=args.hopper_coins, hopper_coin=args.hopper_coin,
                       validator_crc=args.validator_crc)
    out_lock = threading.Lock()

    def say(text: str) -> None:
        with out_lock:
            print(text, file=stdout, flush=True)

    with sim:
        crc = "&crc=40" if args.validator_crc else ""
        say(f"{sim!r}\nport: {sim.port}\ncash = \"cctalk+serial://{sim.port}?acceptor=2&validator=40&hopper=3"
            f"&echo={0 if args.no_echo else 1}{crc}\"\n{HELP}")
        printer = HistoryPrinter(sim.history, say, skip=_is_poll if args.quiet else lambda e: False)
        try:
            for line in stdin:
                words = line.split()
                if not words:
                    continue
                if words[0] in ("quit", "exit"):
                    break
                try:
                    say(command(sim, words))
                except (ValueError, IndexError, LookupError) as err:
                    say(f"error: {err} (try 'help')")
                printer.flush()
        except KeyboardInterrupt:
            pass
        finally:
            printer.stop()
    return 0


def command(sim: CcTalkBusSim, words: list[str]) -> str:
    """Carry out one command line; return what to print. Raises ValueError for a bad one."""
    name, rest = words[0], words[1:]
    if name == "coin":
        return f"coin {rest[0]}: {sim.acceptor.insert(int(rest[0]))}"
    if name in ("note", "insert"):
        return f"note {rest[0]}: {sim.validator.insert(int(rest[0]))}"
    if name == "counterfeit":
        device = sim.acceptor if rest[:1] == ["coin"] else sim.validator if rest[:1] == ["note"] else None
        if device is None:
            raise ValueError("counterfeit coin or counterfeit note?")
        device.counterfeit()
        return f"ok: counterfeit {rest[0]} rejected"
    if name == "string":
        return f"coin {rest[0]} on a string: {sim.acceptor.coin_on_string(int(rest[0]))}"
    if name == "pullback":
        sim.validator.pull_back()
        return "ok: note pulled back (reported as fraud)"
    if name == "jam-note":
        sim.validator.jam_in_escrow = _on_off(rest)
        return f"ok: jam in escrow {rest[0]}"
    if name == "stacker":
        sim.validator.set_stacker(rest[0] if rest else "")
        return f"ok: stacker {rest[0]}"
    if name == "hopper":
        return _hopper(sim, rest)
    if name == "power-cut":
        device = {"acceptor": sim.acceptor, "validator": sim.validator, "hopper": sim.hopper}[rest[0]]
        device.power_cut()
        return f"ok: {rest[0]} power cut (event counter back to 0)"
    if name == "garbage":
        data = bytes.fromhex("".join(rest))
        sim.inject_garbage(data)
        return f"ok: {len(data)} byte(s) written"
    if name in ("lose", "corrupt", "drop"):
        n = int(rest[0]) if rest else 1
        {"lose": sim.lose_replies, "corrupt": sim.corrupt_replies, "drop": sim.drop_bytes}[name](n)
        return f"ok: {name} the next {n} repl{'y' if n == 1 else 'ies'}"
    if name == "silent":
        sim.silent(int(rest[0]), _on_off(rest[1:]))
        return f"ok: device {rest[0]} silent {rest[1]}"
    if name == "status":
        return _status(sim)
    if name == "history":
        entries = sim.history.entries()
        return "\n".join(format_entry(e, entries[0].monotonic) for e in entries) if entries else "(empty)"
    if name == "help":
        return HELP
    raise ValueError(f"unknown command {name!r}")


def _hopper(sim: CcTalkBusSim, rest: list[str]) -> str:
    hopper = sim.hopper
    if rest[:1] == ["fill"]:
        with hopper.lock:
            hopper.coins += int(rest[1])
        return f"ok: hopper holds {hopper.coins}"
    if rest[:1] == ["empty"]:
        with hopper.lock:
            hopper.coins = 0
        return "ok: hopper empty"
    if rest[:1] == ["jam"]:
        hopper.jam_after(None if rest[1:] == ["off"] else int(rest[1]))
        return f"ok: hopper jam {rest[1]}"
    raise ValueError("hopper fill N | hopper empty | hopper jam N|off")


def _on_off(rest: list[str]) -> bool:
    if not rest or rest[0] not in ("on", "off"):
        raise ValueError("say on or off")
    return rest[0] == "on"


def _status(sim: CcTalkBusSim) -> str:
    a, v, h = sim.acceptor, sim.validator, sim.hopper
    h.advance()
    return "\n".join([
        f"acceptor@{a.address}: counter={a.counter} master={'on' if a.master else 'inhibited'} "
        f"enabled={sorted(a.enabled)}",
        f"validator@{v.address}: counter={v.counter} master={'on' if v.master else 'inhibited'} "
        f"escrow={v.escrow} stacker={v.stacker} stacked={sum(v.stacked)} jam={v.jam_in_escrow}",
        f"hopper@{h.address}: coin={h.coin} coins={h.coins} paid_out={h.paid_out} counter={h.counter} "
        f"enabled={h.enabled} jam_in={h.jam_in}",
    ])


def _is_poll(entry: Entry) -> bool:
    if entry.kind == "tx":
        return entry.detail.get("answer_to") in POLL_HEADERS
    return entry.kind == "rx" and entry.detail.get("header") in POLL_HEADERS
