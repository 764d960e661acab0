"""IC parcel card (F3): the time of one complete card check through the real PC/SC stack.

One run, the production driver (drivers.cards.pcsc) talking through a private pcscd and
vsmartcard's vpcd to the virtual OpenPGP card (hwsim.cards):

- flow      one whole F3 check as a hand-over does it (drivers.cards.parcel_card):
            SELECT + Application Related Data, PIN status, VERIFY 82, GET DATA 0103,
            VERIFY 81, counter 93, PSO:CDS, PUT DATA 0101, read back, counter again
            (the card is released, i.e. reset, between checks; that is not timed)
- apdu      the bare round trip of one small APDU (GET DATA C4) in the same run

for each signature algorithm (Ed25519, ECDSA P-256) and each protocol (T=1, T=0: T=0
adds 6Cxx re-sends and GET RESPONSEs). p50/p99 in milliseconds and APDUs per check.
A real card is slower (ECC signing takes 50-300 ms on a card); this measures our side.

    python bench/card_flow.py [--json] [--n 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.cards.apdu import Command
from drivers.cards.parcel_card import ParcelCardSession
from drivers.cards.provisioning import provision
from hwsim.cards import pcscd as private
from hwsim.cards.openpgp_card import DirectLink, OpenPGPCardSim
from hwsim.cards.openpgp_state import DEFAULT_PW3
from drivers.cards.openpgp import OpenPGPCard
from kiosk.devices import registry
from kiosk.security.card_receipt import CardReceipt

PIN = "482916"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(algorithm: str, protocol: str, n: int) -> dict:
    reader = registry.create("card", f"sim+pcsc://?algorithm={algorithm}&card_protocol={protocol}&inserted=0")
    try:
        card = OpenPGPCardSim(algorithm=algorithm)
        provision(OpenPGPCard(DirectLink(card)), trade_number="1234-5678", pin=PIN, admin_pin=DEFAULT_PW3.decode())
        card.protocol = "T=0" if protocol == "t0" else "T=1"   # the station's link is T=1; the kiosk's as asked
        reader.open()
        reader.sim.insert(card)
        deadline = time.monotonic() + 10
        while not reader.card_present and time.monotonic() < deadline:
            time.sleep(0.01)
        flows, apdus_per_flow = [], []
        for i in range(n):
            before = reader.stats["apdus"]
            t0 = time.perf_counter()
            session = ParcelCardSession(reader)
            session.open()
            session.unlock(PIN)
            trade = session.trade_number()
            session.sign_receipt(lambda number, trade=trade, i=i:
                                 CardReceipt(trade, "bench", 1_790_000_000, "counter", f"h-{i}", number))
            flows.append((time.perf_counter() - t0) * 1000)
            apdus_per_flow.append(reader.stats["apdus"] - before)
            reader.release()
        small = Command(0x00, 0xCA, 0x00, 0xC4, le=7).encode()
        reader.transmit(Command(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("D27600012401")).encode())
        rtts = []
        for _ in range(max(n, 200)):
            t0 = time.perf_counter()
            reader.transmit(small)
            rtts.append((time.perf_counter() - t0) * 1000)
        return {"algorithm": algorithm, "protocol": protocol.upper().replace("T", "T="), "checks": n,
                "flow_ms_p50": round(statistics.median(flows), 3), "flow_ms_p99": round(percentile(flows, 0.99), 3),
                "apdus_per_check": round(statistics.mean(apdus_per_flow), 1),
                "apdu_ms_p50": round(statistics.median(rtts), 4), "apdu_ms_p99": round(percentile(rtts, 0.99), 4)}
    finally:
        reader.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--n", type=int, default=100, help="checks per configuration")
    args = parser.parse_args(argv)
    why = private.missing()
    if why:
        print(json.dumps({"skipped": why}) if args.json else f"skipped: {why}")
        return 0
    results = [measure(a, p, args.n) for a in ("ed25519", "p256") for p in ("t1", "t0")]
    if args.json:
        print(json.dumps({"bench": "card_flow", "results": results}))
    else:
        for r in results:
            print(f"{r['algorithm']:8} {r['protocol']}: check p50 {r['flow_ms_p50']:.2f} ms p99 {r['flow_ms_p99']:.2f} ms "
                  f"({r['apdus_per_check']} APDUs); APDU p50 {r['apdu_ms_p50']:.3f} ms p99 {r['apdu_ms_p99']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
