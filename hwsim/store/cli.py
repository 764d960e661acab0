"""``hwsim store``: run the store emulator, and talk to a running one.

    hwsim store serve --folder DIR [--port 8765] [--admin-port 8766] [--seed N]
    hwsim store register-site [--url URL] -- ID KEY  (KEY: what `kiosk site-key` prints;
                                                     '--' lets a key start with '-')
    hwsim store create-parcel --site ID [--method locker] [--amount N] [--hold-hours H] [--locker N]
    hwsim store cancel-parcel --site ID TRADE_NUMBER
    hwsim store events [--site ID] [--json]
    hwsim store fault NAME [key=value ...]           e.g. `fault http_500 p=0.3`, `fault down`
    hwsim store clear-faults [NAME]
    hwsim store info

``serve`` prints the store's URL and public key (what a pickup point's ``[store] url``
and ``public_key`` are set to) and runs until interrupted. The other commands reach its
admin API (loopback, not part of the contract) at ``--url`` (default
http://127.0.0.1:8766).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

import httpx

from kiosk.security.secrets import HashParams
from hwsim.store.faults import NAMES

DEFAULT_PORT = 8765
DEFAULT_ADMIN_PORT = 8766
DEFAULT_ADMIN_URL = f"http://127.0.0.1:{DEFAULT_ADMIN_PORT}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwsim store", description="The store backend, emulated on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the emulator until interrupted")
    p.add_argument("--folder", type=Path, required=True, help="its database and key live here")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="the store's port (0: any free one)")
    p.add_argument("--admin-port", type=int, default=DEFAULT_ADMIN_PORT, help="the admin API's port")
    p.add_argument("--seed", type=int, default=None, help="repeatable trade numbers, secrets and fault dice")
    p.add_argument("--hash-memory-kib", type=int, default=HashParams().memory_kib)
    p.add_argument("--hash-iterations", type=int, default=HashParams().iterations)

    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_text)
        c.add_argument("--url", default=DEFAULT_ADMIN_URL, help="the running emulator's admin URL")
        return c

    c = client("register-site", "register a site's public key")
    c.add_argument("site_id")
    c.add_argument("public_key", help="base64url Ed25519 public key (`kiosk site-key` prints it); "
                                      "one that starts with '-' must come after '--'")
    c = client("create-parcel", "make a parcel and print what the recipient would be told")
    c.add_argument("--site", required=True)
    c.add_argument("--method", default="locker")
    c.add_argument("--amount", type=int, default=0, help="cash on delivery, minor units")
    c.add_argument("--hold-hours", type=float, default=72.0)
    c.add_argument("--locker", type=int, default=None, help="locker hint")
    c.add_argument("--json", action="store_true")
    c = client("cancel-parcel", "cancel a parcel (it goes into the next manifest's cancelled list)")
    c.add_argument("--site", required=True)
    c.add_argument("trade_number")
    c = client("events", "list the events the store received")
    c.add_argument("--site", default=None)
    c.add_argument("--json", action="store_true")
    c = client("fault", f"inject a fault: {', '.join(NAMES)}")
    c.add_argument("name", choices=NAMES)
    c.add_argument("params", nargs="*", metavar="key=value")
    c = client("clear-faults", "end one fault, or all")
    c.add_argument("name", nargs="?", choices=NAMES)
    client("info", "the emulator's URL, key, faults and counts")
    return parser


def store_main(argv: list[str], *, stop: threading.Event | None = None) -> int:
    """Run one ``hwsim store`` command; returns the exit status (0 ok, 1 failed, 2 usage).
    ``stop`` ends ``serve`` (tests); otherwise SIGINT/SIGTERM do."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args, stop)
    try:
        return _client_command(args)
    except httpx.TransportError as err:
        print(f"hwsim store: no emulator answers at {args.url} ({err}); is `hwsim store serve` running?",
              file=sys.stderr)
        return 1
    except _Refused as err:
        print(f"hwsim store: {err}", file=sys.stderr)
        return 1


def _serve(args, stop: threading.Event | None) -> int:
    from hwsim.store.emulator import StoreEmulator
    try:
        params = HashParams(memory_kib=args.hash_memory_kib, iterations=args.hash_iterations)
        store = StoreEmulator(args.folder, hash_params=params, seed=args.seed)
    except ValueError as err:
        print(f"hwsim store serve: {err}", file=sys.stderr)
        return 2
    try:
        url = store.start(args.port, admin_port=args.admin_port)
    except OSError as err:
        store.close()
        print(f"hwsim store serve: cannot listen: {err}", file=sys.stderr)
        return 1
    stop = stop or _signal_stop()
    print(f"store url:   {url}\npublic key:  {store.public_key_text}\nadmin url:   {store.admin_url}\n"
          f"folder:      {store.folder}\n\n"
          f'# for the pickup point\'s config:\n[store]\nurl = "{url}"\npublic_key = "{store.public_key_text}"\n',
          flush=True)
    try:
        stop.wait()
    finally:
        store.close()
    return 0


def _signal_stop() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


class _Refused(Exception):
    pass


def _call(url: str, method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
    with httpx.Client(base_url=url, timeout=10.0) as http:
        response = http.request(method, f"/_admin{path}", json=body, params=params)
    try:
        value = response.json()
    except ValueError:
        raise _Refused(f"{url} answered {response.status_code} without JSON: is it the admin URL?") from None
    if response.status_code != 200:
        raise _Refused(value.get("message", f"HTTP {response.status_code}") if isinstance(value, dict) else value)
    return value


def _fault_params(pairs: list[str]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise _Refused(f"fault parameters are key=value, not {pair!r}")
        try:
            params[key] = json.loads(text)
        except ValueError:
            params[key] = text   # a bare word: mode=hold, path=/events
    return params


def _client_command(args) -> int:
    url, cmd = args.url, args.command
    if cmd == "register-site":
        _call(url, "POST", "/sites", {"site_id": args.site_id, "public_key": args.public_key})
        print(f"registered site {args.site_id}")
    elif cmd == "create-parcel":
        body = {"site_id": args.site, "method": args.method, "amount_due": args.amount,
                "hold_s": args.hold_hours * 3600}
        if args.locker is not None:
            body["locker_hint"] = args.locker
        told = _call(url, "POST", "/parcels", body)
        if args.json:
            print(json.dumps(told))
        else:
            print(f"trade number: {told['trade_number']}")
            if told.get("secret") is not None:
                print(f"secret:       {told['secret']}")
            if told.get("template") is not None:
                print(f"template:     {told['template']}  (the enrolled reference, base64url)")
    elif cmd == "cancel-parcel":
        _call(url, "POST", "/parcels/cancel", {"site_id": args.site, "trade_number": args.trade_number})
        print(f"cancelled {args.trade_number}")
    elif cmd == "events":
        answer = _call(url, "GET", "/events", params={"site_id": args.site} if args.site else None)
        if args.json:
            print(json.dumps(answer))
        else:
            for e in answer["events"]:
                again = f"  (+{e['duplicates']} duplicate)" if e["duplicates"] else ""
                print(f"{e['site_id']:>12} #{e['seq']:<6} {e['kind']:<20} {e['trade_number'] or '-':<12} "
                      f"{e['created_at']}{again}")
            print(f"{len(answer['events'])} event(s), {answer['duplicates_received']} duplicate(s) received")
    elif cmd == "fault":
        answer = _call(url, "POST", "/faults", {"name": args.name, "params": _fault_params(args.params)})
        print(f"faults in force: {json.dumps(answer['faults'])}")
    elif cmd == "clear-faults":
        answer = _call(url, "POST", "/faults/clear", {"name": args.name} if args.name else {})
        print(f"faults in force: {json.dumps(answer['faults'])}")
    else:
        print(json.dumps(_call(url, "GET", "/info"), indent=2))
    return 0
