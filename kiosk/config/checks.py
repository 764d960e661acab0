"""Checks a single value cannot answer alone: files, device URLs, and keys that go together.

Run after ``fields.read`` on a file whose values all have the right types; a check skips
a key that already has a problem (``Problems.ok``), so one mistake is reported once. The
file system is only looked at, never changed: a missing folder is fine when it could be
created, and whether it could is judged from the nearest folder that exists. Every
operating-system error (a NUL byte, a name too long, a link loop) becomes a reason.
"""

from __future__ import annotations

import getpass
import os
import stat
from dataclasses import fields
from pathlib import Path

from kiosk.config.fields import Problems
from kiosk.config.schema import File
from kiosk.devices import registry
from kiosk.domain.compartments import Layout
from kiosk.domain.holding import HoldPolicy
from kiosk.errors import DeviceError, KeyFileError
from kiosk.fleet.settings import url_problem as broker_problem
from kiosk.security.keys import load_public_key, load_public_key_file
from kiosk.security.secrets import HashParams
from kiosk.sync.settings import ONLINE, url_problem


class PathProblem(Exception):
    """Why a configured path cannot be used; the message is the reason."""


def resolve(base: Path, text: str) -> Path:
    """``text`` taken relative to the config's folder, made absolute.

    Raises PathProblem (a NUL byte, a name too long, a link loop)."""
    try:
        return (base / text).resolve()
    except (OSError, ValueError, RuntimeError) as err:   # RuntimeError: a symlink loop (Python 3.11)
        raise PathProblem(_os_reason(err)) from None


def check(file: File, base: Path, problems: Problems, *, writable: bool) -> None:
    """Add every problem of ``file`` (read from a config in folder ``base``) that needs more
    than one value, a driver or the file system. ``writable``: also check that this user
    could create and write the database and the site key."""
    _devices(file, problems)
    _security(file, problems)
    _holding(file, problems)
    _existing_file(file.manifest.file, "manifest.file", base, problems)
    _database(file, base, problems, writable)
    _store(file, base, problems, writable)
    _verification(file, problems)
    _tags(file, base, problems)
    _fleet(file, base, problems)
    _couriers(file, problems)
    _sizes(file, problems)


def layout(lockers) -> Layout:
    """``[lockers] low`` and ``[lockers.sizes]`` as the domain's compartment layout."""
    sizes = {door: size.upper() for size in ("xs", "s", "m", "l", "xl") for door in getattr(lockers.sizes, size)}
    return Layout(sizes, frozenset(lockers.low))


def _sizes(file: File, problems: Problems) -> None:
    seen: dict[int, str] = {}
    for size in ("xs", "s", "m", "l", "xl"):
        key = f"lockers.sizes.{size}"
        if not problems.ok(key):
            continue
        for door in getattr(file.lockers.sizes, size):
            if door in seen:
                problems.add(key, f"door {door} is already size {seen[door].upper()}: a door has one size")
            seen[door] = size


def _devices(file: File, problems: Problems) -> None:
    for f in fields(file.devices):
        url = getattr(file.devices, f.name)
        key = f"devices.{f.name}"
        if url is None or not problems.ok(key):
            continue
        _device_url(f.name, url, key, problems)
    if problems.ok("counter.scanners"):
        for i, url in enumerate(file.counter.scanners):
            _device_url("scanner", url, f"counter.scanners[{i}]", problems)
        if len(set(file.counter.scanners)) != len(file.counter.scanners):
            problems.add("counter.scanners", "names one scanner twice")


def _device_url(role: str, url: str, key: str, problems: Problems) -> None:
    try:
        registry.check(role, url)
    except (DeviceError, ValueError) as err:   # ValueError: a driver's check_url that let one through
        problems.add(key, str(err))


def _security(file: File, problems: Problems) -> None:
    sec = file.security
    if problems.ok("security.argon2_memory_kib", "security.argon2_iterations", "security.argon2_lanes"):
        try:
            HashParams(sec.argon2_memory_kib, sec.argon2_iterations, sec.argon2_lanes)
        except ValueError as err:
            problems.add("security.argon2_memory_kib", str(err))


def hold_policy(holding) -> HoldPolicy:
    """The HoldPolicy a ``[holding]`` table describes. Raises ValueError."""
    return HoldPolicy(holding.hold_days * 86400, tuple(sorted((h * 3600 for h in holding.reminder_hours), reverse=True)),
                      holding.extend_hours * 3600, holding.extensions_max)


def _holding(file: File, problems: Problems) -> None:
    if problems.ok("holding"):   # both keys sound
        try:
            hold_policy(file.holding)
        except ValueError as err:
            problems.add("holding.reminder_hours", str(err))


def _existing_file(text: str | None, key: str, base: Path, problems: Problems, what: str = "") -> Path | None:
    if text is None or not problems.ok(key):
        return None
    try:
        path = resolve(base, text)
        if not path.is_file():
            problems.add(key, f"no such file: {path}{what}" if not path.exists() else f"{path} is not a file")
        return path
    except PathProblem as err:
        problems.add(key, str(err))
    except OSError as err:
        problems.add(key, _os_reason(err))
    return None


def _database(file: File, base: Path, problems: Problems, writable: bool) -> None:
    if not problems.ok("site.database"):
        return
    try:
        path = resolve(base, file.site.database)
        reason = _file_problem(path, writable) or (_private_problem(path) if writable else None)
    except PathProblem as err:
        reason = str(err)
    if reason:
        problems.add("site.database", reason)


def _private_problem(path: Path) -> str | None:
    """The database holds secret hashes and the audit log: ``kiosk run`` refuses a folder
    or a database (-wal, -shm) file that others may read (kiosk/storage/db.py). Say so now."""
    try:
        for where, mode in ((path.parent, "700"), (path, "600"), (path.with_name(path.name + "-wal"), "600"),
                            (path.with_name(path.name + "-shm"), "600")):
            if where.exists() and stat.S_IMODE(where.stat().st_mode) & 0o077:
                current = stat.S_IMODE(where.stat().st_mode)
                return f"{where} is open to other users (mode {current:o}) and the controller will refuse it: " \
                       f"chmod {mode} {where}"
    except (OSError, ValueError) as err:
        return _os_reason(err)
    return None


def _file_problem(path: Path, writable: bool) -> str | None:
    """Why the program could not keep a file at ``path`` (None when it could).

    SQLite writes a -wal and a -shm file next to the database, so its folder must be
    writable too, not just the file."""
    try:
        if path.exists() and not path.is_file():
            return f"{path} exists and is not a file"
        if not writable:
            return None
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return f"{path} is not writable by {_who()}"
        folder = path.parent
        existing = next(p for p in (folder, *folder.parents) if os.path.lexists(p))
        if not existing.is_dir():
            kind = "a link to nothing" if existing.is_symlink() else "a file, not a folder"
            return f"cannot create its folder {folder}: {existing} is {kind}"
        if not os.access(existing, os.W_OK | os.X_OK):
            verb = "write in its folder" if existing == folder else f"create its folder {folder}"
            return f"cannot {verb}: {existing} is not writable by {_who()}"
    except (OSError, ValueError) as err:
        return _os_reason(err)
    return None


def _store(file: File, base: Path, problems: Problems, writable: bool) -> None:
    store = file.store
    ca_file = _existing_file(store.ca_file, "store.ca_file", base, problems)
    if store.site_key is not None and problems.ok("store.site_key"):
        try:
            reason = _file_problem(resolve(base, store.site_key), writable)
        except PathProblem as err:
            reason = str(err)
        if reason:
            problems.add("store.site_key", reason)
    if store.url is not None and problems.ok("store.url"):
        if problems.ok("store.ca_file"):
            reason = url_problem(store.url, ca_file)
            if reason:
                problems.add("store.url", reason)
        if store.public_key is None and problems.ok("store.public_key"):
            problems.add("store.public_key", "is required with store.url: the store's Ed25519 key, pinned")
    _public_key(store.public_key, "store.public_key", problems)
    if problems.ok("store.backoff_max_s", "store.backoff_initial_s") and store.backoff_max_s < store.backoff_initial_s:
        problems.add("store.backoff_max_s", "must not be less than backoff_initial_s")


def _public_key(text: str | None, key: str, problems: Problems) -> None:
    if text is None or not problems.ok(key):
        return
    try:
        load_public_key(text)
    except ValueError as err:
        problems.add(key, f"not an Ed25519 public key in base64url: {err}")


def _verification(file: File, problems: Problems) -> None:
    if file.store.url is not None or not problems.ok("store.url"):
        return
    for f in fields(file.verification):
        if getattr(file.verification, f.name) == ONLINE:
            problems.add(f"verification.{f.name}", "is 'online' but [store] url is not set")


def _tags(file: File, base: Path, problems: Problems) -> None:
    tags = file.tags
    _existing_file(tags.key_file, "tags.key_file", base, problems, " (the site tag key from the store)")
    _public_key(tags.store_public_key, "tags.store_public_key", problems)
    if tags.key_file is not None and not (tags.store_public_key or file.store.public_key) \
            and problems.ok("tags.store_public_key", "store.public_key"):
        problems.add("tags.store_public_key", "is required with tags.key_file (or set store.public_key)")


def _fleet(file: File, base: Path, problems: Problems) -> None:
    fleet = file.fleet
    ca_file = _existing_file(fleet.ca_file, "fleet.ca_file", base, problems, " (the broker's CA certificate)")
    _existing_file(fleet.password_file, "fleet.password_file", base, problems)
    key_file = _existing_file(fleet.operator_key_file, "fleet.operator_key_file", base, problems,
                              " (the operator's public key)")
    if key_file is not None and problems.ok("fleet.operator_key_file"):
        try:
            load_public_key_file(key_file)
        except KeyFileError as err:
            problems.add("fleet.operator_key_file", str(err))
    if fleet.broker is None or not problems.ok("fleet.broker"):
        return
    if problems.ok("fleet.ca_file"):
        reason = broker_problem(fleet.broker, ca_file)
        if reason:
            problems.add("fleet.broker", reason)
    if fleet.operator_key_file is None and problems.ok("fleet.operator_key_file"):
        problems.add("fleet.operator_key_file", "is required with fleet.broker: remote commands must be signed "
                                                "with the operator's key")


def _couriers(file: File, problems: Problems) -> None:
    for table, ids in (("couriers", [c.id for c in file.couriers]), ("staff", [s.id for s in file.staff])):
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if not problems.ok(f"{table}[{i}]"):
                continue
            if ident in seen:
                problems.add(f"{table}[{i}].id", f"{ident!r} is used twice")
            seen.add(ident)


def _who() -> str:
    """This user, as a technician would name them (the check runs as whoever runs it)."""
    try:
        return f"user {getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid in a bare container
        return f"uid {os.geteuid()}"


def _os_reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror}: {err.filename}" if err.filename else err.strerror
    text = str(err)
    if "null" in text:
        return "contains a NUL character"
    return text or "cannot be used as a path"
