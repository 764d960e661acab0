"""Lock bus: a full Kerong bus polled by the real driver, against the emulator paced at the real baud.

13 KR-CU16 boards (200 doors) on one RS-485 bus at 19200 baud, the driver polling as fast as the
bus allows (poll_ms below the sweep). The emulator paces the line (10 bits a byte, each frame
after the one before it), so a figure here is the wire time plus what the host adds.

- sweep: how long one round of status polls over every board takes (the mean interval between
  two polls of one board), against the wire time of those polls (13 x (5 + 9) bytes); goal 1.3x;
- unlock latency while polling: from unlock() called to the unlock frame at the board
  (``pulse``) and to unlock() returning with the read-back (``confirmed``), for random doors at
  random moments; with unlock_reply=none (firmware that does not answer 0x31, confirmed by the
  status query at once) and maybe (listens the reply timeout first), and with one board silent
  (its probes must not hold unlocks on the healthy boards).

    python bench/lock_bus.py [--json] [--seconds S] [--unlocks N] [--seed N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.locks import kerong_codec as codec
from drivers.locks.kerong import LockBankKerong
from hwsim.kerong_board import KerongBoardSim

BOARDS, DOORS, BAUD = 13, 200, 19200
GOALS = {"sweep_vs_wire": 1.3}
QUERY, REPLY = 5, 9  # bytes of a status query and of its answer


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"p50": round(pct(values, 50), 1), "p95": round(pct(values, 95), 1), "max": round(max(values), 1),
            "n": len(values)}


def bus(**driver) -> tuple[KerongBoardSim, LockBankKerong]:
    sim = KerongBoardSim(BOARDS, DOORS, baud=BAUD).start()
    options = {"boards": BOARDS, "doors": DOORS, "baud": BAUD, "poll_ms": 5, "min_pulse_gap_ms": 0, **driver}
    bank = LockBankKerong(sim.port, **options)
    bank.open()
    return sim, bank


def sweep(seconds: float) -> dict:
    sim, bank = bus(unlock_reply="none")
    try:
        time.sleep(0.5)  # past the first reading
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
        polls: dict[str, list[float]] = {}
        for entry in sim.history.entries("kerong", "rx"):
            if start <= entry.monotonic <= end and entry.detail["frame"].split()[2] == "30":
                polls.setdefault(entry.detail["frame"], []).append(entry.monotonic)
        intervals = [(b - a) * 1000 for times in polls.values() for a, b in itertools.pairwise(times)]
        stats = bank.stats
    finally:
        bank.close()
        sim.stop()
    wire_ms = BOARDS * (QUERY + REPLY) * 10 / BAUD * 1000
    mean = statistics.fmean(intervals)
    return {"wire_sweep_ms": round(wire_ms, 1), "sweep_ms_mean": round(mean, 1),
            "sweep_ms_p95": round(pct(intervals, 95), 1), "sweep_vs_wire": round(mean / wire_ms, 3),
            "boards_polled": len(polls), "timeouts": stats["timeouts"]}


def unlocks(n: int, rng: random.Random, silent_board: int | None = None, **driver) -> dict:
    sim, bank = bus(**driver)
    confirmed, pulse = [], []
    doors = [d for d in range(1, DOORS + 1)
             if silent_board is None or (d - 1) // codec.LOCKS_PER_BOARD != silent_board]
    try:
        if silent_board is not None:
            sim.silent(True, board=silent_board)
            while silent_board not in bank.offline_boards:
                time.sleep(0.05)
        time.sleep(0.3)
        for door in rng.sample(doors, n):
            time.sleep(rng.uniform(0.03, 0.12))  # a random moment in the sweep
            frame = codec.hexdump(codec.unlock_frame((door - 1) // 16, (door - 1) % 16))
            called = time.monotonic()
            bank.unlock(door)
            returned = time.monotonic()
            sent = next(e.monotonic for e in reversed(sim.history.entries("kerong", "rx"))
                        if e.detail["frame"] == frame)
            confirmed.append((returned - called) * 1000)
            pulse.append((sent - called) * 1000)
            threading.Timer(0.05, sim.doors.close, (door,)).start()  # a person shuts it
        time.sleep(0.1)
        stats = bank.stats
    finally:
        bank.close()
        sim.stop()
    return {"pulse_ms": summary(pulse), "confirmed_ms": summary(confirmed),
            "probes_abandoned": stats["probes_abandoned"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--unlocks", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    result = {"boards": BOARDS, "doors": DOORS, "baud": BAUD, **sweep(args.seconds),
              "unlock_reply_none": unlocks(args.unlocks, rng, unlock_reply="none"),
              "unlock_reply_maybe": unlocks(args.unlocks, rng, unlock_reply="maybe"),
              "one_board_silent": unlocks(args.unlocks, rng, silent_board=BOARDS - 1, unlock_reply="none"),
              "goals": GOALS}
    result["ok"] = result["sweep_vs_wire"] <= GOALS["sweep_vs_wire"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
