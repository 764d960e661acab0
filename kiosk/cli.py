"""The `kiosk` command.

    kiosk run --config PATH          the controller, headless (systemd runs this)
    kiosk demo                       moved to the simulator: `hwsim demo` (./dev demo)
    kiosk check-config PATH          validate a config; exit 2 listing every problem
                    [--probe]        ... and talk to every device, read-only (exit 1 if one fails)
    kiosk audit verify --config PATH check the audit log's hash chain
                 [--against-store]  …and that it still holds the heads sent to the store
    kiosk status --config PATH       lockers, parcels, outbox and the store link, read-only
    kiosk site-key --config PATH     print the site's public key (to register with the store);
                                     creates the key pair on first use
    kiosk hash-secret                print the Argon2id hash of a code read from stdin
    kiosk doctor --config PATH       check the site read-only: config, disk, database, audit,
                    [--json]         store link, devices, doors against the books, versions
    kiosk screen recipient|counter|courier|technician   a screen in its own process, on kioskd's socket
                    --config PATH | --socket PATH
    kiosk serve counter|technician   that screen in a browser (textual-serve, one process per tab)
                    --config PATH | --socket PATH  [--host 127.0.0.1] [--port 8080|8081]
    kiosk label --help               render a parcel label (trade number + 2-D tag) as PNG/SVG/PDF

Exit status: 0 ok, 1 runtime failure, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import shlex
import signal
import sys
from pathlib import Path

from kiosk import config as config_mod
from kiosk import logs
from kiosk.clock import iso
from kiosk.devices.probe import probe_devices
from kiosk.errors import ConfigError, KioskError, NotAllowed, StorageError
from kiosk.security.secrets import HashParams, hash_secret
from kiosk.storage import audit, db

log = logging.getLogger("kiosk")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["label"]:  # its own argument parser: kiosk label --help
        from kiosk.labels import label_main
        return label_main(argv[1:])
    if argv[:1] == ["demo"]:  # whatever follows is for `hwsim demo`
        return cmd_demo(argv[1:])
    parser = argparse.ArgumentParser(prog="kiosk", description="Pickup-point kiosk and locker controller")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the controller headless")
    p.add_argument("--config", required=True, type=Path)

    sub.add_parser("demo", help="moved to the simulator: `hwsim demo`")

    p = sub.add_parser("check-config", help="validate a configuration file")
    p.add_argument("path", type=Path)
    p.add_argument("--probe", action="store_true",
                   help="also talk to every configured device, read-only (stop kioskd first)")

    p = sub.add_parser("audit", help="audit log tools")
    p.add_argument("action", choices=("verify",))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path)
    where.add_argument("--db", type=Path)
    p.add_argument("--against-store", action="store_true",
                   help="also compare with the chain heads sent to the store (needs --config)")

    p = sub.add_parser("status", help="lockers, parcels and outbox (read-only)")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("doctor", help="check the whole site read-only (exit 0 ok, 1 warnings, 2 failures)")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-probe", action="store_true", help="do not open the devices")

    p = sub.add_parser("screen", help="show a screen connected to kioskd's service socket")
    p.add_argument("role", choices=("recipient", "counter", "courier", "technician"))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path, help="read [service] socket from this config")
    where.add_argument("--socket", type=Path)

    p = sub.add_parser("serve", help="serve a staff screen to a browser on this machine (textual-serve)")
    p.add_argument("role", choices=("counter", "technician"))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path, help="read [service] socket from this config")
    where.add_argument("--socket", type=Path)
    p.add_argument("--host", default="127.0.0.1", help="listen here (default: loopback only)")
    p.add_argument("--port", type=int, help="default: 8080 for the counter, 8081 for the technician")

    p = sub.add_parser("backup", help="an online backup of the database now, checked (see [backup])")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--to", type=Path, help="the folder (default: [backup] dir)")

    p = sub.add_parser("restore", help="replace the database with a backup after checking it (kioskd stopped)")
    p.add_argument("file", type=Path)
    p.add_argument("--config", required=True, type=Path)

    p = sub.add_parser("cash-report", help="cash taken and paid back, per trade number, reconciled (read-only)")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--day", help="YYYY-MM-DD, this machine's local day (default: everything)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("site-key", help="print the site's public key for the store (created on first use)")
    p.add_argument("--config", required=True, type=Path)

    sub.add_parser("label", help="render a parcel label as PNG/SVG/PDF (see `kiosk label --help`)")

    p = sub.add_parser("hash-secret", help="hash a code for the config or a manifest (read from stdin)")

    args = parser.parse_args(argv)
    logs.setup(args.verbose, identifier="kioskd" if args.command == "run" else f"kiosk-{args.command}")
    try:
        return COMMANDS[args.command](args)
    except ConfigError as err:
        _print_config_error(err)
        return 2
    except KioskError as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _print_config_error(err: ConfigError) -> None:
    print(f"{err.path or 'config'}: {len(err.problems)} problem(s)", file=sys.stderr)
    for key, reason in err.problems:
        print(f"  {key or '(file)'}: {reason}", file=sys.stderr)


def cmd_check_config(args) -> int:
    # Also whether this user could create and write the database: `kiosk run` would
    # otherwise be the first to find out.
    cfg = config_mod.load(args.path, check_writable=True)
    print(f"{args.path}: ok (site {cfg.site_id}, locks {cfg.devices['locks']}, {len(cfg.couriers)} courier(s))")
    if not args.probe:
        return 0
    results = probe_devices(cfg.devices, cfg.desk_scanners)
    for r in results:
        print(f"  {'ok ' if r.ok else 'BAD'} {r.key} ({r.url}): {r.detail}")
    return 0 if all(r.ok for r in results) else 1


def _database_of(args) -> Path:
    if getattr(args, "db", None):
        return args.db
    return config_mod.load(args.config).database


def cmd_audit(args) -> int:
    path = _database_of(args)
    if not path.is_file():
        raise StorageError(f"{path}: no such database")
    conn = db.connect(path, readonly=True)
    report = audit.verify(conn)
    if not report.ok:
        print(f"audit chain BROKEN at entry {report.first_bad}: {report.reason} "
              f"({report.entries} entries verified before it)")
        return 1
    print(f"audit chain ok: {report.entries} entries")
    if not args.against_store:
        return 0
    return _audit_against_store(args, conn)


def _audit_against_store(args, conn) -> int:
    """Compare the local chain with the heads the store holds (kiosk.service.anchoring)."""
    from kiosk.security.keys import load_or_create_site_key
    from kiosk.service.anchoring import check_against
    from kiosk.storage.database import Reader
    from kiosk.sync.client import StoreClient

    if args.config is None:
        raise ConfigError([("--against-store", "needs --config (the store's address and keys)")])
    cfg = config_mod.load(args.config)
    if not cfg.store.enabled:
        raise ConfigError([("store.url", "is not set: there is no store to compare with")])

    async def fetch():
        client = StoreClient(cfg.store, cfg.site_id, load_or_create_site_key(cfg.site_key_path))
        try:
            return await client.fetch_audit_anchors()
        finally:
            await client.aclose()

    check = check_against(Reader(conn), asyncio.run(fetch()))
    if not check.ok:
        print(f"audit chain DOES NOT MATCH the store: {check.problem}")
        return 1
    if not check.anchors:
        print("the store holds no anchor for this site yet: nothing to compare")
        return 0
    print(f"audit chain matches the store: {check.anchors} anchor(s), the newest at entry {check.newest}")
    return 0


def cmd_status(args) -> int:
    import dataclasses

    from kiosk.service.status import site_status
    from kiosk.storage.database import Reader

    cfg = config_mod.load(args.config)
    path = cfg.database
    if not path.is_file():
        raise StorageError(f"{path}: no such database (has the controller run yet?)")
    status = site_status(Reader(db.connect(path, readonly=True)), cfg)
    if args.json:
        print(json.dumps(dataclasses.asdict(status), indent=2))
        return 0
    print("parcels: " + (", ".join(f"{k} {v}" for k, v in sorted(status.parcels.items())) or "none"))
    for lk in status.lockers:
        print(f"  locker {lk.number:>3}  {lk.state:<15} door {lk.door:<8} {lk.fault or ''}")
    for item in status.to_return:
        where = f"locker {item.locker}" if item.locker else "the counter"
        print(f"  to return to the store: {item.trade_number} ({where})")
    link = status.store_link
    print(f"outbox: {link.pending} event(s) waiting for the store"
          + (f", oldest from {iso(link.oldest_pending)}" if link.oldest_pending else ""))
    if link.quarantined:
        print(f"outbox: {link.quarantined} event(s) REFUSED by the store, kept and not resent (quarantined)")
    print(f"store: {link.store or 'not configured'}")
    for channel, row in link.channels.items():
        print("  " + _channel_line(channel, row))
    return 0


def _channel_line(channel: str, row) -> str:
    def when(t: float | None) -> str:
        return iso(t) if t else "never"
    line = f"{channel:<9} last success {when(row.last_success_at)}"
    if row.failures:
        line += f"; FAILING ({row.failures} in a row), next try {when(row.next_attempt_at)}"
    if row.last_error:
        line += f"; last error {when(row.last_error_at)}: {row.last_error}"
    return line


def cmd_cash_report(args) -> int:
    """Exit 0 when the books match the devices, 1 when the report lists problems."""
    import dataclasses
    import datetime

    from kiosk.service import cash_report
    from kiosk.storage.database import Reader

    since = until = None
    if args.day:
        try:
            start = datetime.datetime.strptime(args.day, "%Y-%m-%d").astimezone()
        except ValueError:
            raise ConfigError([("--day", f"{args.day!r} is not a date like 2026-12-03")]) from None
        since, until = start.timestamp(), (start + datetime.timedelta(days=1)).timestamp()
    path = config_mod.load(args.config).database
    if not path.is_file():
        raise StorageError(f"{path}: no such database (has the controller run yet?)")
    report = cash_report.build(Reader(db.connect(path, readonly=True)), since, until)
    if args.json:
        print(json.dumps(dataclasses.asdict(report) | {"reconciled": report.reconciled}, indent=2))
    else:
        print(cash_report.as_text(report))
    return 0 if report.reconciled else 1


def cmd_site_key(args) -> int:
    from kiosk.security.keys import load_or_create_site_key, public_key_text

    cfg = config_mod.load(args.config)
    key = load_or_create_site_key(cfg.site_key_path)
    print(public_key_text(key.public_key()))
    return 0


def cmd_hash_secret(args) -> int:
    code = getpass.getpass("code: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not code.strip():
        print("kiosk: empty code", file=sys.stderr)
        return 2
    print(hash_secret(code, HashParams()))
    return 0


def cmd_run(args) -> int:
    """Raises ConfigError (exit 2) for a bad config, StorageError (exit 1, one line) when
    the database cannot be created or opened (main() reports both without a traceback)."""
    from kiosk.service.controller import Controller

    cfg = config_mod.load(args.config)

    async def serve() -> None:
        controller = Controller(cfg)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await controller.start()
        try:
            await stop.wait()
        finally:
            await controller.stop()

    from kiosk.storage import backup

    with backup.run_lock(cfg.database):   # one kioskd per database; `kiosk restore` waits for none
        asyncio.run(serve())
    return 0


def cmd_backup(args) -> int:
    """An online backup now, into [backup] dir or --to DIR, checked like the scheduled ones."""
    import time as time_mod

    from kiosk.storage import backup

    cfg = config_mod.load(args.config)
    folder = args.to or cfg.backup_dir
    if folder is None:
        raise ConfigError([("backup.dir", "is not set (or give --to DIR)")], str(args.config))
    if not cfg.database.is_file():
        raise StorageError(f"{cfg.database}: no such database (has the controller run yet?)")
    checked = backup.make(cfg.database, folder, time_mod.time(), cfg.backup_keep)
    print(f"backup {checked.path}: integrity ok, audit chain ok ({checked.entries} entries)")
    return 0


def cmd_restore(args) -> int:
    """Replace the database with a checked backup (kioskd stopped; the old one is kept)."""
    import time as time_mod

    from kiosk.storage import backup

    cfg = config_mod.load(args.config)
    checked, kept = backup.restore(args.file, cfg.database, time_mod.time())
    print(f"restored {checked.path} ({checked.entries} audit entries verified) into {cfg.database}"
          + (f"; the database it replaced is kept as {kept}" if kept else ""))
    return 0


def cmd_demo(argv: list[str]) -> int:
    """The demo runs the simulator, which the controller never imports: point to it."""
    print("kiosk: the demo belongs to the simulator; run: " + shlex.join(["hwsim", "demo", *argv])
          + "  (or ./dev demo in a checkout)", file=sys.stderr)
    return 2


def cmd_doctor(args) -> int:
    """Check the site read-only; exit 0 ok, 1 warnings, 2 failures."""
    import time

    from kiosk.service import doctor

    cfg = config_mod.load(args.config)
    running = doctor.socket_answers(cfg.service_socket)
    findings = doctor.examine(cfg, now=time.time(), kioskd_running=running, probe=not args.no_probe)
    if args.json:
        print(json.dumps(doctor.as_dicts(findings), indent=2))
        return doctor.exit_status(findings)
    colour = sys.stdout.isatty()
    marks = {"ok": ("ok  ", "32"), "warn": ("WARN", "33"), "fail": ("FAIL", "31")}
    for f in findings:
        mark, code = marks[f.level]
        shown = f"\033[{code}m{mark}\033[0m" if colour else mark
        print(f"{shown} {f.check:<16} {f.seen}" + (f"\n     {'':<16} fix: {f.fix}" if f.fix and f.level != "ok" else ""))
    return doctor.exit_status(findings)


def service_socket(args) -> Path:
    """``--socket``, or ``[service] socket`` of ``--config``."""
    socket = args.socket or config_mod.load(args.config).service_socket
    if socket is None:
        raise ConfigError([("service.socket", "is not set: kioskd serves no screens")], str(args.config))
    return socket


def cmd_serve(args) -> int:
    """A staff screen in a browser: textual-serve runs ``kiosk screen ROLE`` per connection."""
    from kiosk.ui import web

    web.serve(args.role, service_socket(args), host=args.host, port=args.port)
    return 0


def cmd_screen(args) -> int:
    """A screen in its own process, connected to kioskd's service socket."""
    from kiosk.service.socket_client import ServiceClient

    socket = service_socket(args)

    from kiosk import logs

    async def show() -> None:
        client = await ServiceClient.connect(socket)
        try:
            if args.role == "counter":
                from kiosk.ui.counter.app import CounterApp

                async def sign_in(code: str) -> str:   # on the screen, and again after a sign-out
                    await client.sign_in(code)
                    return client.staff_id or ""
                await CounterApp(client.as_service(), sign_in=sign_in).run_async()
            elif args.role == "technician":
                from kiosk.ui.technician import TechnicianApp

                async def technician(code: str) -> str:   # another role's code is refused here
                    if await client.sign_in(code) != "technician":
                        await client.sign_out()
                        raise NotAllowed("that code is not a technician's")
                    return client.staff_id or ""
                await TechnicianApp(client.as_service(), sign_in=technician).run_async()
            else:
                from kiosk.ui.app import RecipientApp
                await RecipientApp(client.as_service(), couriers_only=args.role == "courier").run_async()
        finally:
            await client.close()

    with logs.away_from_screen(logs.screen_log_path(args.role)) as where:
        print(f"kiosk screen: logging to {where}", file=sys.stderr)
        asyncio.run(show())
    return 0


COMMANDS = {"run": cmd_run, "screen": cmd_screen, "serve": cmd_serve, "doctor": cmd_doctor, "check-config": cmd_check_config,
            "audit": cmd_audit, "cash-report": cmd_cash_report, "backup": cmd_backup, "restore": cmd_restore,
            "status": cmd_status, "site-key": cmd_site_key, "hash-secret": cmd_hash_secret}

if __name__ == "__main__":
    sys.exit(main())
