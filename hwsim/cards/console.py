"""Console for the virtual OpenPGP parcel card: ``hwsim card [--port N]``.

Starts a private pcscd with vpcd readers (or, with ``--port``, uses the vpcd slot of a
pcscd already running, e.g. the system's on 35963) and plays the person with the card and
the faults from commands read one per line on stdin. Point a client at the reader it
prints (for the private pcscd, with the printed ``PCSCLITE_CSOCK_NAME`` in its environment).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO
from urllib.parse import quote

from drivers.cards.openpgp import OpenPGPCard
from drivers.cards.provisioning import provision
from hwsim.cards.openpgp_card import DirectLink, OpenPGPCardSim
from hwsim.cards.openpgp_state import DEFAULT_PW3
from hwsim.cards.vpcd import VirtualCardSlot
from hwsim.history import History

HELP = """\
commands:
  insert [ed25519|p256] [t0|t1]    a factory-fresh card into the reader
  provision TRADE PIN              make the card in the reader the parcel card of TRADE
  remove | status | history
  pull-on write|sign|any [after]   pull the card out when that command arrives
  memory on|off   slow MS   sw HEX (answer the next command with it)   block (burn the PIN tries)
  help | quit"""

PULL_MATCH = {"write": lambda c: c.ins == 0xDA, "sign": lambda c: c.ins == 0x2A, "any": lambda c: True}


def console_main(argv: list[str], *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the console until ``quit`` or end of input; return the exit status."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    parser = argparse.ArgumentParser(prog="hwsim card", description="A virtual OpenPGP parcel card in a vpcd reader.")
    parser.add_argument("--port", type=int, help="vpcd slot port of a running pcscd (default: start a private one)")
    args = parser.parse_args(argv)
    pcscd = None
    if args.port is None:
        from hwsim.cards.pcscd import PrivatePcscd
        try:
            pcscd = PrivatePcscd().start()
        except RuntimeError as err:
            print(f"hwsim card: {err}", file=stdout)
            return 2
        port, reader = pcscd.ports[0], pcscd.reader_names[0]
        print(f"PCSCLITE_CSOCK_NAME={pcscd.socket_path}", file=stdout)
    else:
        port, reader = args.port, f"the vpcd reader on port {args.port}"
    slot = VirtualCardSlot(port, history=History())
    print(f'reader: {reader}\ncard = "pcsc://?reader={quote(reader)}"\n{HELP}', file=stdout, flush=True)
    try:
        for line in stdin:
            words = line.split()
            if not words:
                continue
            if words[0] in ("quit", "exit"):
                break
            try:
                print(command(slot, words), file=stdout, flush=True)
            except (ValueError, IndexError, RuntimeError, ConnectionError) as err:
                print(f"error: {err} (try 'help')", file=stdout, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        slot.remove()
        if pcscd is not None:
            pcscd.stop()
    return 0


def _card(slot: VirtualCardSlot) -> OpenPGPCardSim:
    if not slot.inserted or slot.card is None:
        raise ValueError("no card in the reader")
    return slot.card


def command(slot: VirtualCardSlot, words: list[str]) -> str:
    name, rest = words[0], words[1:]
    if name == "insert":
        algorithm = next((w for w in rest if w in ("ed25519", "p256")), "ed25519")
        protocol = "T=0" if "t0" in rest else "T=1"
        slot.insert(OpenPGPCardSim(algorithm=algorithm, protocol=protocol))
        return f"ok: card {_card(slot).state.serial.hex().upper()} inserted ({algorithm}, {protocol})"
    if name == "remove":
        return "ok: removed" if slot.remove() else "the reader was empty"
    if name == "provision":
        if len(rest) != 2:
            raise ValueError("provision TRADE PIN")
        provision(OpenPGPCard(DirectLink(_card(slot))), trade_number=rest[0], pin=rest[1],
                  admin_pin=DEFAULT_PW3.decode())
        return f"ok: card is the parcel card of {rest[0]}"
    if name == "pull-on":
        if not rest or rest[0] not in PULL_MATCH:
            raise ValueError("pull-on write|sign|any [after]")
        slot.pull_on(PULL_MATCH[rest[0]], after=rest[1:] == ["after"])
        return f"ok: the card comes out at the next {rest[0]}"
    card = _card(slot) if name in ("memory", "slow", "sw", "block", "status") else None
    if card is not None and name == "memory":
        card.faults.memory_failure = rest[:1] == ["on"]
        return f"ok: memory failure {'on' if card.faults.memory_failure else 'off'}"
    if card is not None and name == "slow":
        card.faults.slow_s = int(rest[0]) / 1000
        return f"ok: {rest[0]} ms per command"
    if card is not None and name == "sw":
        card.faults.status_word = int(rest[0], 16)
        return f"ok: the next command gets {rest[0]}"
    if card is not None and name == "block":
        card.state.tries[0x81] = 0
        return "ok: PIN blocked"
    if card is not None and name == "status":
        s = card.state
        return (f"card {s.serial.hex().upper()} {s.algorithm} {card.protocol}: PIN tries {s.tries[0x81]}, "
                f"admin tries {s.tries[0x83]}, signatures {s.signatures}, key {'yes' if s.key else 'no'}, "
                f"trade number {'set' if s.dos.get(0x0103) else 'none'}, receipt {len(s.dos.get(0x0101, b''))} bytes"
                f"{', TERMINATED' if s.terminated else ''}; {slot.apdus} APDUs")
    if name == "history":
        entries = slot.history.entries()
        return "\n".join(f"{e.monotonic - entries[0].monotonic:9.3f} {e.kind:9} "
                         + " ".join(f"{k}={v}" for k, v in e.detail.items()) for e in entries) or "(empty)"
    if name == "help":
        return HELP
    raise ValueError(f"unknown command {name!r}")
