"""The `hwsim` command: emulated devices and scripted days, for technicians and tests.

    hwsim demo [--locks kerong|gpio] [--state-dir DIR] [--seed N]
                                          the controller with every device simulated and the
                                          recipient screen in this terminal (./dev demo)
    hwsim demo --screen counter           the clerk's counter screen with a simulated scanner
    hwsim scenario locker-day [--locks kerong|gpio] [--seed N] [--json]
    hwsim scenario attack-store [--seed N] [--json]   replay, forged-ack, rollback and audit attacks
    hwsim scenario attack-day [--locks ...] [--seed N] [--json]   every attack of issue 8, store ones included
    hwsim scenario crash-day [--kills N] [--no-occupancy] [--seed N] [--json]   SIGKILLs mid-pickup, books vs doors
    hwsim scenario card-day [--locks ...] [--seed N] [--json]   F3 IC-card pickups through pcscd and vpcd
    hwsim scenario token-bio-day [--locks ...] [--seed N] [--json]   F4 tokens at the counter, F5 fingers at lockers
    hwsim scenario cash-day [--locks ...] [--seed N] [--json]   paid pickups, change and refunds through device faults
    hwsim scenario screens-day [--locks ...] [--seed N] [--json]   screens as processes, killed and restarted
    hwsim scenario fleet-day [--sites N] [--seed N] [--json]   N sites on one MQTT broker: restarts, cuts, forged commands
    hwsim fleet [--sites N] [--seconds S] [--view]            N simulated sites' fleet links on a private Mosquitto
    hwsim kerong [--boards N] [--doors N] [--polarity ...]   a Kerong bus on a pty, with a console
    hwsim card [--port N]                                    a virtual OpenPGP parcel card in a vpcd reader
    hwsim cash [--hopper-coins N] [--no-echo]                a ccTalk cash bus on a pty, with a console
    hwsim store serve --folder DIR [--port N]                the store backend on loopback (see `hwsim store -h`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from kiosk import logs
from kiosk.errors import ConfigError, KioskError

SCENARIOS = {"locker-day": "hwsim.scenarios.locker_day", "store-outage": "hwsim.scenarios.store_outage",
             "tags-day": "hwsim.scenarios.tags_day", "attack-store": "hwsim.scenarios.attack_store",
             "attack-day": "hwsim.scenarios.attack_day", "crash-day": "hwsim.scenarios.crash_day",
             "card-day": "hwsim.scenarios.card_day",
             "cash-day": "hwsim.scenarios.cash_day", "screens-day": "hwsim.scenarios.screens_day",
             "token-bio-day": "hwsim.scenarios.token_bio_day", "network-day": "hwsim.scenarios.network_day",
             "fleet-day": "hwsim.scenarios.fleet_day"}
# Figures that must be 0 for a scenario to pass (each scenario reports those it has).
MUST_BE_ZERO = ("released_without_door_evidence", "released_twice", "replays_accepted", "forged_acks_accepted",
                "rollbacks_accepted", "audit_rewrites_undetected", "wrong_card_accepted", "blocked_card_retried",
                "released_without_signature", "returned_receipts_bad",
                "released_unpaid", "paid_twice", "money_unaccounted", "token_forgery_accepted",
                "wrong_finger_accepted", "templates_left_behind", "crashes", "wrong_size_allocations",
                "collected_without_evidence", "returned_without_evidence")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kerong"]:
        from hwsim.kerong_console import console_main
        return console_main(argv[1:])
    if argv[:1] == ["card"]:
        from hwsim.cards.console import console_main as card_console
        return card_console(argv[1:])
    if argv[:1] == ["cash"]:
        from hwsim.cash.console import console_main as cash_console
        return cash_console(argv[1:])
    if argv[:1] == ["store"]:
        from hwsim.store.cli import store_main
        return store_main(argv[1:])
    parser = argparse.ArgumentParser(prog="hwsim", description="Hardware simulator for the pickup-point controller")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="everything simulated, the recipient screen in this terminal")
    p.add_argument("--screen", choices=("recipient", "counter", "technician"), default="recipient",
                   help="the recipient's locker screen, the clerk's counter screen with a simulated scanner, or "
                        "the technician panel with every kind of device simulated and the simulator's controls")
    p.add_argument("--locks", choices=("kerong", "gpio"), default="kerong",
                   help="the emulated lock bank, driven by its real driver (the counter demo uses gpio)")
    p.add_argument("--state-dir", type=Path,
                   help="keep the demo's config, database and log here, a folder only you can read "
                        "(default: a fresh temporary folder)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages (to the demo's log file)")
    p = sub.add_parser("scenario", help="run a scripted day against the real controller")
    p.add_argument("name", choices=sorted(SCENARIOS))
    p.add_argument("--locks", choices=("kerong", "gpio"), default="kerong")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--kills", type=int, default=None, help="crash-day: how many SIGKILLs (default 10)")
    p.add_argument("--no-occupancy", action="store_true", help="crash-day: lock boards without IR sensors")
    p.add_argument("--sites", type=int, default=None, help="fleet-day: how many sites (default 20)")
    p = sub.add_parser("fleet", help="N simulated sites' fleet links on a private Mosquitto, and the operator's view")
    p.add_argument("--sites", type=int, default=10)
    p.add_argument("--view", action="store_true", help="show the operator's fleet view (a Textual app; q quits)")
    p.add_argument("--seconds", type=float, default=None, help="run this long (default: until Ctrl-C)")
    p.add_argument("--json", action="store_true", help="print the operator's view at the end as one JSON object")
    sub.add_parser("kerong", help="a Kerong KR-CU16 bus on a pty with a command console (see `hwsim kerong --help`)")
    sub.add_parser("card", help="a virtual OpenPGP parcel card in a vpcd reader, with a console")
    sub.add_parser("cash", help="a ccTalk coin acceptor, bill validator and hopper on a pty (see `hwsim cash --help`)")
    sub.add_parser("store", help="the store backend emulated on loopback (see `hwsim store --help`)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    if args.command == "fleet":
        from hwsim.fleet.cli import fleet_main
        return fleet_main(args)

    import importlib
    module = importlib.import_module(SCENARIOS[args.name])
    options = {}
    if args.name == "crash-day":
        options = {"occupancy": not args.no_occupancy, **({"kills": args.kills} if args.kills is not None else {})}
    if args.name == "fleet-day" and args.sites is not None:
        options = {"sites": args.sites}
    result = asyncio.run(module.run(locks=args.locks, seed=args.seed, **options))
    if args.json:
        print(json.dumps(result, sort_keys=False))
    else:
        for key, value in result.items():
            print(f"{key:>32}: {value}")
    return 1 if _failed(module, result) else 0


def _failed(module, result: dict) -> bool:
    """The scenario's own verdict (``failed(result)``), else the figures that must be 0."""
    judge = getattr(module, "failed", None)
    if judge is not None:
        return bool(judge(result))
    return bool(any(result.get(key) for key in MUST_BE_ZERO) or result.get("unexpected")
                or not result.get("audit_chain_ok", True))


def demo(args) -> int:
    logs.setup(args.verbose)
    try:
        if args.screen == "counter":
            from hwsim.counter_demo import run_counter_demo
            return run_counter_demo(args.state_dir, args.seed)
        if args.screen == "technician":
            from hwsim.technician_demo import run_technician_demo
            return run_technician_demo(args.state_dir, args.seed)
        from hwsim.demo import run_demo
        return run_demo(args.locks, args.state_dir, args.seed)
    except ConfigError as err:
        print(f"hwsim demo: {err}", file=sys.stderr)
        return 2
    except KioskError as err:
        print(f"hwsim demo: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
