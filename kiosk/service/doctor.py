"""``kiosk doctor``: what a technician runs on site. Every check reads; none changes state.

Each check gives one ``Finding``: ``ok``, ``warn`` or ``fail``, what was seen, and for
anything not ok the fix. The checks, in order: the config; free disk space; the database
(``PRAGMA integrity_check``, read-only) and the audit chain; the store link (outbox backlog
and age, each channel's last success); the devices (opened and read as ``check-config
--probe`` does — skipped while kioskd runs, as it holds the ports — and the door sensors
against the books); the software versions. Exit status by the worst finding: 0 ok,
1 warnings, 2 failures.
"""

from __future__ import annotations

import platform
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from kiosk.clock import iso
from kiosk.config import Config
from kiosk.devices.probe import probe_devices
from kiosk.devices.roles import DoorState
from kiosk.service import status as site_status
from kiosk.storage import audit, db
from kiosk.storage.database import Reader

SEVERITY = {"ok": 0, "warn": 1, "fail": 2}
OUTBOX_OLD_S = 3600.0          # an event waiting longer than this: the store link needs a look
OUTBOX_BACKLOG = 500


@dataclass(frozen=True)
class Finding:
    check: str
    level: str          # ok | warn | fail
    seen: str
    fix: str = ""


def exit_status(findings: list[Finding]) -> int:
    return max((SEVERITY[f.level] for f in findings), default=0)


def examine(config: Config, *, now: float, kioskd_running: bool, probe: bool = True,
            device_context: dict[str, Any] | None = None) -> list[Finding]:
    findings = [Finding("config", "ok", f"{config.path}: valid (site {config.site_id})")]
    findings.append(_disk(config))
    conn = _open_db(config, findings)
    reader = Reader(conn) if conn is not None else None
    if conn is not None and reader is not None:
        findings += _database(conn)
        findings += _store(reader, config, now)
    if not probe:
        pass
    elif kioskd_running:
        findings.append(Finding("devices", "ok", "kioskd is running and holds the devices: not probed",
                                "stop kioskd for a device probe, or read `kiosk status`"))
    else:
        findings += _devices(config, reader, device_context or {})
    findings.append(_versions())
    if conn is not None:
        conn.close()
    return findings


def _disk(config: Config) -> Finding:
    folder = config.database.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    mib = free // (1024 * 1024)
    if free < config.low_disk_bytes:
        return Finding("disk", "fail", f"{mib} MiB free for {config.database.parent}",
                       "free space on that filesystem (old logs, journald's SystemMaxUse)")
    if free < 4 * config.low_disk_bytes:
        return Finding("disk", "warn", f"{mib} MiB free for {config.database.parent}", "free space soon")
    return Finding("disk", "ok", f"{mib} MiB free for {config.database.parent}")


def _open_db(config: Config, findings: list[Finding]) -> sqlite3.Connection | None:
    path = config.database
    if not path.is_file():
        findings.append(Finding("database", "warn", f"{path}: not created yet", "start kioskd once"))
        return None
    try:
        return db.connect(path, readonly=True)
    except Exception as err:   # noqa: BLE001 — whatever stops a read-only open is the finding
        findings.append(Finding("database", "fail", f"{path}: cannot be opened: {err}",
                                "check its owner and mode (0600, the kiosk user)"))
        return None


def _database(conn: sqlite3.Connection) -> list[Finding]:
    out = []
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as err:
        rows = [str(err)]
    if rows == ["ok"]:
        out.append(Finding("database", "ok", "integrity_check ok"))
    else:
        out.append(Finding("database", "fail", "integrity_check: " + "; ".join(rows[:3]),
                           "stop kioskd, copy the database aside and restore the last backup; tell the store"))
    report = audit.verify(conn)
    if report.ok:
        out.append(Finding("audit", "ok", f"chain intact: {report.entries} entries"))
    else:
        out.append(Finding("audit", "fail", f"chain broken at entry {report.first_bad}: {report.reason}",
                           "keep the database as evidence; `kiosk audit verify --against-store` where available"))
    return out


def _store(reader: Reader, config: Config, now: float) -> list[Finding]:
    link = site_status.store_link(reader, config)
    if not link.store:
        return [Finding("store", "ok", "no store configured (manifest from a file)")]
    out = []
    age = now - link.oldest_pending if link.oldest_pending else 0.0
    seen = f"{link.pending} event(s) waiting" + (f", oldest from {iso(link.oldest_pending)}"
                                                 if link.oldest_pending else "")
    if link.pending >= OUTBOX_BACKLOG or age > OUTBOX_OLD_S:
        out.append(Finding("outbox", "warn", seen, "check the store link below and the network"))
    else:
        out.append(Finding("outbox", "ok", seen))
    for channel, row in link.channels.items():
        if row.failures:
            out.append(Finding(f"store {channel}", "warn",
                               f"failing ({row.failures} in a row): {row.last_error or 'no detail'}",
                               "check the network, the store's URL and that its key is the pinned one"))
        else:
            last = iso(row.last_success_at) if row.last_success_at else "never"
            out.append(Finding(f"store {channel}", "ok", f"last success {last}"))
    return out


def _devices(config: Config, reader: Reader | None, context: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    doors: list[Finding] = []
    books = {lk.number: lk for lk in reader.lockers()} if reader is not None else {}
    for result in probe_devices(config.devices, config.desk_scanners, while_open=_door_check(books, doors),
                                **context):
        out.append(Finding(result.key, "ok" if result.ok else "fail", f"{result.url}: {result.detail}",
                           "" if result.ok else "check the cable and the URL; `kiosk check-config --probe`"))
    return out + doors


def _door_check(books: dict, out: list[Finding]):
    """Compare each door's reading with the books while the bank is open."""
    def check(role: str, device: Any) -> None:
        if role != "locks" or not books:
            return
        states = device.door_states()
        disagree = [f"{n}: read {states[n].value}, books {lk.door}" for n, lk in sorted(books.items())
                    if n in states and states[n] != DoorState.UNKNOWN and states[n].value != lk.door]
        if disagree:
            out.append(Finding("doors vs books", "warn", "; ".join(disagree[:8]),
                               "look at those doors; kioskd reconciles them at its next start"))
        else:
            out.append(Finding("doors vs books", "ok", f"{len(books)} doors agree with the books"))
    return check


def _versions() -> Finding:
    names = ("pickup-kiosk", "textual", "pyserial", "cryptography", "httpx")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return Finding("versions", "ok", f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
                   + ", ".join(found))


def as_dicts(findings: list[Finding]) -> list[dict]:
    return [asdict(f) for f in findings]


def socket_answers(path: Path | None) -> bool:
    """Is a kioskd serving its socket at ``path``? (A connect, nothing more.)"""
    if path is None or not path.exists():
        return False
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True
