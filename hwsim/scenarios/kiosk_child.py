"""The controller alone in a child process, to be killed with SIGKILL mid-send.

    python -m hwsim.scenarios.kiosk_child CONFIG START_TIME|now [SEED]

It starts the real controller on CONFIG's database with a ManualClock at START_TIME
(so a scenario's simulated day goes on where it was; ``now``: the system clock, for
scenarios whose doors move in real time), says ``READY`` on stdout, and
then only runs: the outbox pump sends whatever is pending to the configured store. The
parent watches the store emulator and kills this process at the moment it wants; no
clean-up of any kind happens here, which is the point.
"""

from __future__ import annotations

import asyncio
import random
import sys

from kiosk.clock import ManualClock, SystemClock
from kiosk.config import load
from kiosk.service.controller import Controller


async def main(config_path: str, start: str, seed: int) -> None:
    clock = SystemClock() if start == "now" else ManualClock(float(start))
    controller = Controller(load(config_path), clock=clock, rng=random.Random(seed))
    await controller.start()
    print("READY", flush=True)
    await asyncio.Event().wait()   # until killed


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(args[0], args[1], int(args[2]) if len(args) > 2 else 0))
