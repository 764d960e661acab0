"""The `hwsim` command: emulated devices and scripted days, for technicians and tests.

    hwsim scenario locker-day [--locks kerong|gpio] [--seed N] [--json]
    hwsim kerong [--boards N] [--doors N] [--polarity ...]   a Kerong bus on a pty, with a console
    hwsim cash [--hopper-coins N] [--no-echo]                a ccTalk cash bus on a pty, with a console
    hwsim store serve --folder DIR [--port N]                the store backend on loopback (see `hwsim store -h`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

SCENARIOS = {"locker-day": "hwsim.scenarios.locker_day", "store-outage": "hwsim.scenarios.store_outage",
             "tags-day": "hwsim.scenarios.tags_day", "cash-day": "hwsim.scenarios.cash_day"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kerong"]:
        from hwsim.kerong_console import console_main
        return console_main(argv[1:])
    if argv[:1] == ["cash"]:
        from hwsim.cash.console import console_main as cash_console
        return cash_console(argv[1:])
    if argv[:1] == ["store"]:
        from hwsim.store.cli import store_main
        return store_main(argv[1:])
    parser = argparse.ArgumentParser(prog="hwsim", description="Hardware simulator for the pickup-point controller")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("scenario", help="run a scripted day against the real controller")
    p.add_argument("name", choices=sorted(SCENARIOS))
    p.add_argument("--locks", choices=("kerong", "gpio"), default="kerong")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("kerong", help="a Kerong KR-CU16 bus on a pty with a command console (see `hwsim kerong --help`)")
    sub.add_parser("cash", help="a ccTalk coin acceptor, bill validator and hopper on a pty (see `hwsim cash --help`)")
    sub.add_parser("store", help="the store backend emulated on loopback (see `hwsim store --help`)")
    args = parser.parse_args(argv)

    import importlib
    module = importlib.import_module(SCENARIOS[args.name])
    result = asyncio.run(module.run(locks=args.locks, seed=args.seed))
    if args.json:
        print(json.dumps(result, sort_keys=False))
    else:
        for key, value in result.items():
            print(f"{key:>32}: {value}")
    return 1 if _failed(module, result) else 0


def _failed(module, result: dict) -> bool:
    """The scenario's own verdict (``failed(result)``), or the lockers' safety figures."""
    judge = getattr(module, "failed", None)
    if judge is not None:
        return bool(judge(result))
    return bool(result["released_without_door_evidence"] or result["released_twice"] or result["unexpected"]
                or not result["audit_chain_ok"])


if __name__ == "__main__":
    sys.exit(main())
