"""The controller's one explicit configuration file (TOML), read and checked in full.

Every problem is collected, not just the first: unknown keys (a typo must not silently
mean "default"), wrong types, out-of-range numbers, device URLs that do not parse or
name no known driver, files that are missing. ``load`` raises one ConfigError listing
them all as (key, reason) pairs; ``kiosk check-config`` prints them and exits 2.

Relative paths are taken relative to the config file's folder.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from kiosk.devices import registry
from kiosk.domain.parcels import METHODS
from kiosk.devices.roles import ROLES
from kiosk.devices.url import DeviceURL
from kiosk.domain.attempts import AttemptPolicy
from kiosk.domain.holding import HoldPolicy
from kiosk.domain.lockers import Timing
from kiosk.errors import ConfigError, DeviceError
from kiosk.security.keys import load_public_key
from kiosk.security.secrets import HashParams, is_valid_hash
from kiosk.sync.settings import (FALLBACK_LOCAL, FALLBACK_SEE_STAFF, LOCAL, ONLINE, SITE_KEY_FILE, StoreSettings,
                                 VerificationSettings, url_problem)

_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Courier:
    id: str
    code_hash: str


@dataclass(frozen=True)
class Config:
    path: Path
    site_id: str
    database: Path
    devices: dict[str, str]
    timing: Timing
    locker_count: int | None
    hash_params: HashParams
    attempts: AttemptPolicy
    couriers: tuple[Courier, ...]
    manifest: Path | None
    ui_inactivity_s: float
    ui_languages: tuple[str, ...] = ("en", "ja")
    store: StoreSettings = field(default_factory=StoreSettings)
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    holding: HoldPolicy = field(default_factory=HoldPolicy)
    tags_key_file: Path | None = None            # the site tag key shared with the store (F1/F2)
    tags_store_public_key: str | None = None     # who signs tags; defaults to [store] public_key
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def site_key_path(self) -> Path:
        """The site's private key: ``[store] site_key``, else next to the database."""
        return self.store.site_key or self.database.parent / SITE_KEY_FILE


# --- the schema: table -> key -> (type(s), required, default, check) ----------------------

def _positive(v) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _range(lo, hi) -> Callable[[Any], str | None]:
    return lambda v: None if lo <= v <= hi else f"must be between {lo} and {hi}"


_NUM = (int, float)
SCHEMA: dict[str, dict[str, tuple]] = {
    "site": {
        "id": (str, True, None, lambda v: None if _SITE_ID.match(v) else "letters, digits, '.', '_' or '-', at most 64"),
        "database": (str, True, None, None),
    },
    "devices": {role: (str, role == "locks", None, None) for role in ROLES},
    "lockers": {
        "count": (int, False, None, _range(1, 512)),
        "open_timeout_s": (_NUM, False, 15.0, _range(1, 600)),
        "left_open_alarm_s": (_NUM, False, 120.0, _range(5, 86400)),
    },
    "security": {
        "argon2_memory_kib": (int, False, HashParams().memory_kib, None),
        "argon2_iterations": (int, False, HashParams().iterations, None),
        "argon2_lanes": (int, False, HashParams().lanes, None),
        "max_attempts_per_parcel": (int, False, 5, _range(1, 20)),
        "site_failure_window_s": (_NUM, False, 300.0, _positive),
        "site_failure_threshold": (int, False, 20, _range(2, 10000)),
        "site_slowdown_s": (_NUM, False, 10.0, _range(0, 3600)),
    },
    "manifest": {
        "file": (str, False, None, None),
    },
    "store": {
        "url": (str, False, None, None),
        "public_key": (str, False, None, None),
        "ca_file": (str, False, None, None),
        "site_key": (str, False, None, None),
        "batch_size": (int, False, StoreSettings.batch_size, _range(1, 500)),
        "timeout_s": (_NUM, False, StoreSettings.timeout_s, _range(0.1, 300)),
        "manifest_interval_s": (_NUM, False, StoreSettings.manifest_interval_s, _range(5, 86400)),
        "backoff_initial_s": (_NUM, False, StoreSettings.backoff_initial_s, _range(0.01, 3600)),
        "backoff_max_s": (_NUM, False, StoreSettings.backoff_max_s, _range(0.1, 86400)),
    },
    "verification": {
        **{m: (str, False, LOCAL, lambda v: None if v in (LOCAL, ONLINE) else "must be 'local' or 'online'")
           for m in METHODS},
        "fallback": (str, False, FALLBACK_LOCAL, lambda v: None if v in (FALLBACK_LOCAL, FALLBACK_SEE_STAFF)
                     else "must be 'local' (check the held reference) or 'see_staff'"),
        "online_rate_per_minute": (_NUM, False, VerificationSettings.online_rate_per_minute, _range(0.1, 6000)),
        "online_burst": (int, False, VerificationSettings.online_burst, _range(1, 1000)),
        "online_timeout_s": (_NUM, False, VerificationSettings.online_timeout_s, _range(0.1, 60)),
    },
    "holding": {
        "hold_days": (_NUM, False, HoldPolicy.hold_s / 86400, _range(0.01, 60)),
        "reminder_hours": (list, False, [h / 3600 for h in HoldPolicy.reminders_before_s],
                           lambda v: None if all(isinstance(h, (int, float)) and not isinstance(h, bool) and 0 < h < 24 * 60
                                                 for h in v) else "a list of hours before the deadline, each > 0"),
    },
    "tags": {
        "key_file": (str, False, None, None),
        "store_public_key": (str, False, None, None),
    },
    "ui": {
        "inactivity_timeout_s": (_NUM, False, 45.0, _range(5, 3600)),
        "languages": (list, False, ["en", "ja"], lambda v: None if v and all(x in ("en", "ja") for x in v) else "a non-empty list of 'en' and 'ja'"),
    },
}
COURIER_KEYS = {"id": str, "code_hash": str}
_TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", _NUM: "a number"}


def load(path: str | Path) -> Config:
    """Read and check the config at ``path``. Raises ConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read it: {err}", str(path)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", str(path)) from None
    return _check(raw, path)


def _check(raw: dict, path: Path) -> Config:
    problems: list[tuple[str, str]] = []
    base = path.parent
    tables: dict[str, dict] = {}
    for name in raw:
        if name not in SCHEMA and name != "couriers":
            problems.append((name, f"unknown section (known: {', '.join([*SCHEMA, 'couriers'])})"))
    for table, keys in SCHEMA.items():
        given = raw.get(table, {})
        if not isinstance(given, dict):
            problems.append((table, "must be a table ([" + table + "])"))
            given = {}
        values = {}
        for key in given:
            if key not in keys:
                problems.append((f"{table}.{key}", f"unknown key (known: {', '.join(keys)})"))
        for key, (types, required, default, check) in keys.items():
            dotted = f"{table}.{key}"
            if key not in given:
                if required:
                    problems.append((dotted, "is required"))
                values[key] = default
                continue
            value = given[key]
            if isinstance(value, bool) or not isinstance(value, types):
                problems.append((dotted, f"must be {_TYPE_NAMES.get(types, types)}, not {type(value).__name__}"))
                values[key] = default
                continue
            reason = check(value) if check else None
            if reason:
                problems.append((dotted, reason))
            values[key] = value
        tables[table] = values

    devices = {role: url for role, url in tables["devices"].items() if url is not None}
    for role, url in devices.items():
        try:
            registry.check(role, DeviceURL.parse(url))
        except DeviceError as err:
            problems.append((f"devices.{role}", str(err)))

    sec = tables["security"]
    hash_params = HashParams()
    try:
        hash_params = HashParams(sec["argon2_memory_kib"], sec["argon2_iterations"], sec["argon2_lanes"])
    except ValueError as err:
        problems.append(("security.argon2_*", str(err)))

    couriers = _couriers(raw.get("couriers", []), problems)

    manifest = None
    if tables["manifest"]["file"]:
        manifest = (base / tables["manifest"]["file"]).resolve()
        if not manifest.is_file():
            problems.append(("manifest.file", f"no such file: {manifest}"))

    database = (base / tables["site"]["database"]).resolve() if tables["site"]["database"] else base / "kiosk.db"
    if database.exists() and not database.is_file():
        problems.append(("site.database", f"{database} exists and is not a file"))

    store = _store(tables["store"], base, problems)
    verification = _verification(tables["verification"], store, problems)

    tags_key_file = (base / tables["tags"]["key_file"]).resolve() if tables["tags"]["key_file"] else None
    if tags_key_file is not None and not tags_key_file.is_file():
        problems.append(("tags.key_file", f"no such file: {tags_key_file} (the site tag key from the store)"))
    tags_public = tables["tags"]["store_public_key"] or store.public_key
    if tags_key_file is not None and not tags_public:
        problems.append(("tags.store_public_key", "is required with tags.key_file (or set store.public_key)"))
    hold = tables["holding"]
    holding = HoldPolicy(float(hold["hold_days"]) * 86400,
                         tuple(sorted((float(h) * 3600 for h in hold["reminder_hours"]), reverse=True)))

    if problems:
        raise ConfigError(problems, str(path))
    lk = tables["lockers"]
    return Config(
        path=path, site_id=tables["site"]["id"], database=database, devices=devices,
        timing=Timing(float(lk["open_timeout_s"]), float(lk["left_open_alarm_s"])),
        locker_count=lk["count"], hash_params=hash_params,
        attempts=AttemptPolicy(sec["max_attempts_per_parcel"], float(sec["site_failure_window_s"]),
                               sec["site_failure_threshold"], float(sec["site_slowdown_s"])),
        couriers=couriers, manifest=manifest,
        ui_inactivity_s=float(tables["ui"]["inactivity_timeout_s"]),
        ui_languages=tuple(tables["ui"]["languages"]), store=store, verification=verification,
        holding=holding, tags_key_file=tags_key_file, tags_store_public_key=tags_public, raw=raw)


def _store(values: dict, base: Path, problems: list[tuple[str, str]]) -> StoreSettings:
    ca_file = (base / values["ca_file"]).resolve() if values["ca_file"] else None
    site_key = (base / values["site_key"]).resolve() if values["site_key"] else None
    if ca_file is not None and not ca_file.is_file():
        problems.append(("store.ca_file", f"no such file: {ca_file}"))
    if site_key is not None and site_key.exists() and not site_key.is_file():
        problems.append(("store.site_key", f"{site_key} exists and is not a file"))
    url = values["url"]
    if url is not None:
        reason = url_problem(url, ca_file)
        if reason:
            problems.append(("store.url", reason))
        if values["public_key"] is None:
            problems.append(("store.public_key", "is required with store.url: the store's Ed25519 key, pinned"))
    if values["public_key"] is not None:
        try:
            load_public_key(values["public_key"])
        except ValueError as err:
            problems.append(("store.public_key", f"not an Ed25519 public key in base64url: {err}"))
    if values["backoff_max_s"] < values["backoff_initial_s"]:
        problems.append(("store.backoff_max_s", "must not be less than backoff_initial_s"))
    return StoreSettings(url=url.rstrip("/") if url else None, public_key=values["public_key"], ca_file=ca_file,
                         site_key=site_key, batch_size=values["batch_size"], timeout_s=float(values["timeout_s"]),
                         manifest_interval_s=float(values["manifest_interval_s"]),
                         backoff_initial_s=float(values["backoff_initial_s"]),
                         backoff_max_s=float(values["backoff_max_s"]))


def _verification(values: dict, store: StoreSettings, problems: list[tuple[str, str]]) -> VerificationSettings:
    methods = {m: values[m] for m in METHODS}
    if not store.enabled:
        for method, mode in methods.items():
            if mode == ONLINE:
                problems.append((f"verification.{method}", "is 'online' but [store] url is not set"))
    return VerificationSettings(methods=methods, fallback=values["fallback"],
                                online_rate_per_minute=float(values["online_rate_per_minute"]),
                                online_burst=values["online_burst"],
                                online_timeout_s=float(values["online_timeout_s"]))


def _couriers(given, problems: list[tuple[str, str]]) -> tuple[Courier, ...]:
    if not isinstance(given, list):
        problems.append(("couriers", "must be an array of tables ([[couriers]])"))
        return ()
    out, seen = [], set()
    for i, entry in enumerate(given):
        where = f"couriers[{i}]"
        if not isinstance(entry, dict):
            problems.append((where, "must be a table"))
            continue
        bad = False
        for key in entry:
            if key not in COURIER_KEYS:
                problems.append((f"{where}.{key}", "unknown key (known: id, code_hash)"))
                bad = True
        for key, typ in COURIER_KEYS.items():
            if not isinstance(entry.get(key), typ):
                problems.append((f"{where}.{key}", "is required and must be a string"))
                bad = True
        if bad:
            continue
        if not is_valid_hash(entry["code_hash"]):
            problems.append((f"{where}.code_hash", "is not an Argon2id hash (make one with `kiosk hash-secret`)"))
            continue
        if entry["id"] in seen:
            problems.append((f"{where}.id", f"{entry['id']!r} is used twice"))
            continue
        seen.add(entry["id"])
        out.append(Courier(entry["id"], entry["code_hash"]))
    return tuple(out)
