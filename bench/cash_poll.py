"""ccTalk polling: the driver's poll round trip against the wire time, and coins per second.

The driver (``drivers.cash.cctalk``) talks to the emulated bus (``hwsim.cash``) over a pty,
echo on, as on a single-wire bus. A pty moves bytes at memory speed, so the wire time a
real 9600-baud bus would add is computed from the bytes this very run put on the line
(10 bits a byte, 8N1) and printed beside the measured round trip: the round trip is the
driver's and the emulator's own cost, which must stay well under the wire time.

Coins per second: the acceptor is fed as fast as its 5-event buffer allows (a coin goes in
only while fewer than 5 are unread, as no real acceptor can outrun the host's polls by
more), the driver polling at its fastest setting; every coin must be credited exactly once
and no event reported lost.

    python bench/cash_poll.py [--json] [--polls N] [--coins N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.cash import cctalk_codec as codec
from kiosk.devices import registry
from kiosk.devices.roles import CashEventKind

BAUD = 9600
GOALS = {"ratio_round_trip_to_wire": 0.5, "coins_lost": 0, "credited_twice": 0}


def poll_round_trips(polls: int) -> dict:
    cash = registry.create("cash", "sim+cctalk://?poll_ms=10000")  # its own polls keep out of the way
    cash.open()
    try:
        link = cash._link  # the driver's exchange path itself, echo and all
        retries_before = link.stats.get("timeouts", 0) + link.stats.get("bad_checksums", 0)
        times = []
        for _ in range(polls):
            t0 = time.perf_counter()
            data = link.exchange(codec.ADDR_COIN_ACCEPTOR, codec.H_READ_BUFFERED_CREDIT)
            times.append(time.perf_counter() - t0)
            codec.parse_event_buffer(data)
        assert link.stats.get("timeouts", 0) + link.stats.get("bad_checksums", 0) == retries_before, "a poll was retried"
    finally:
        cash.close()
    request = len(codec.build_frame(codec.ADDR_COIN_ACCEPTOR, codec.HOST, codec.H_READ_BUFFERED_CREDIT))
    reply = len(codec.build_frame(codec.HOST, codec.ADDR_COIN_ACCEPTOR, codec.ACK, bytes(11)))
    # The echo is the request itself on the one wire: it takes no extra time.
    wire_s = (request + reply) * 10 / BAUD
    median = statistics.median(times)
    return {
        "polls": polls,
        "poll_round_trip_ms_median": round(median * 1000, 3),
        "poll_round_trip_ms_p95": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 3),
        "wire_bytes_per_poll": request + reply,
        "wire_ms_per_poll_9600": round(wire_s * 1000, 3),
        "ratio_round_trip_to_wire": round(median / wire_s, 3),
        "wire_limited_polls_per_s": round(1 / wire_s, 1),
    }


def coins_per_second(coins: int) -> dict:
    cash = registry.create("cash", "sim+cctalk://?poll_ms=5")
    credited, missed = [], []
    done = threading.Event()

    def on_event(event) -> None:
        if event.kind is CashEventKind.CREDIT:
            credited.append(event.counter)
            if len(credited) == coins:
                done.set()
        elif event.kind is CashEventKind.MISSED:
            missed.append(event.missed)

    cash.subscribe(on_event)
    cash.open()
    try:
        cash.accept(True)
        acceptor = cash.sim.acceptor
        t0 = time.perf_counter()
        for _ in range(coins):
            while codec.counter_distance(cash.counters()["acceptor"], acceptor.counter) >= codec.EVENT_SLOTS:
                time.sleep(0.0002)
            acceptor.insert(100)
        done.wait(60)
        seconds = time.perf_counter() - t0
    finally:
        cash.close()
    return {
        "coins": coins,
        "coins_credited": len(credited),
        "coins_per_s": round(len(credited) / seconds, 1),
        "coins_lost": max(0, coins - len(credited)) + sum(missed),
        "credited_twice": max(0, len(credited) - coins),
        "wire_limited_coins_per_s_9600": None,  # filled in by main from the poll figures
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--polls", type=int, default=300)
    parser.add_argument("--coins", type=int, default=200)
    args = parser.parse_args(argv)
    result = poll_round_trips(args.polls)
    result.update(coins_per_second(args.coins))
    # At best 5 coins per poll of the acceptor on a real 9600-baud bus.
    result["wire_limited_coins_per_s_9600"] = round(result["wire_limited_polls_per_s"] * codec.EVENT_SLOTS, 1)
    result["goals"] = GOALS
    result["goals_met"] = (result["ratio_round_trip_to_wire"] <= GOALS["ratio_round_trip_to_wire"]
                           and result["coins_lost"] == 0 and result["credited_twice"] == 0)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>32}: {value}")
    return 0 if result["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
