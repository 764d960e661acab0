"""What a config file may say: one frozen dataclass per ``[section]``, one field per key.

A field's type is the value's type in the file, its default what a missing key means (no
default: the key is required), ``setting()`` its range and any check a single value can
answer alone. Checks that need the file system, a driver, or two keys at once are in
``checks.py``; turning a checked file into the program's ``Config`` is in ``model.py``.
The device roles and verification methods are named here field by field; a test holds
them equal to ``ROLES`` and ``METHODS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, make_dataclass
from typing import TYPE_CHECKING

from kiosk.config.fields import setting
from kiosk.domain.attempts import AttemptPolicy
from kiosk.fleet.settings import PROTOCOLS, FleetSettings
from kiosk.domain.holding import HoldPolicy
from kiosk.languages import CODES
from kiosk.security.secrets import (DEFAULT_ITERATIONS, DEFAULT_LANES, DEFAULT_MEMORY_KIB, MAX_ITERATIONS, MAX_LANES,
                                    MAX_MEMORY_KIB, MIN_MEMORY_KIB, is_valid_hash)
from kiosk.sync.settings import FALLBACK_LOCAL, FALLBACK_SEE_STAFF, LOCAL, ONLINE, StoreSettings, VerificationSettings

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")   # Unicode's "Cc": C0, DEL and C1
_SITE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_MAX, PATH_MAX = 255, 4095     # bytes, as Linux counts them (a longer name fails at open)


def _site_id(value: str) -> str | None:
    return None if _SITE_ID.fullmatch(value) else "letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit"


def _control(value: str) -> str | None:
    bad = _CONTROL.search(value)
    return f"contains a control character (U+{ord(bad.group()):04X})" if bad else None


def path_text(value: str) -> str | None:
    """Why ``value`` cannot name a file on this system (None when it can)."""
    if not value.strip():
        return "must name a file, not be empty"
    reason = _control(value)
    if reason:
        return reason
    if len(value.encode("utf-8", "surrogatepass")) > PATH_MAX:
        return f"is longer than {PATH_MAX} bytes"
    for part in value.split("/"):
        if len(part.encode("utf-8", "surrogatepass")) > NAME_MAX:
            return f"a name in it is longer than {NAME_MAX} bytes ({part[:20]}…)"
    return None


def _printable(value: str) -> str | None:
    return "must not be empty" if not value.strip() else _control(value)


def _mode(value: str) -> str | None:
    return None if value in (LOCAL, ONLINE) else f"must be '{LOCAL}' or '{ONLINE}'"


def _fallback(value: str) -> str | None:
    return None if value in (FALLBACK_LOCAL, FALLBACK_SEE_STAFF) else \
        f"must be '{FALLBACK_LOCAL}' (check the held reference) or '{FALLBACK_SEE_STAFF}'"


def _languages(value: tuple[str, ...]) -> str | None:
    listed = ", ".join(f"'{code}'" for code in CODES[:-1]) + f" or '{CODES[-1]}'" if len(CODES) > 1 else f"'{CODES[0]}'"
    if not value:
        return f"must be a non-empty list of {listed}"
    unknown = [code for code in value if code not in CODES]
    if unknown:
        return f"must be a non-empty list of {listed}, not {unknown[0]!r}"
    if len(set(value)) != len(value):
        return "names a language twice"
    return None


def _courier_hash(value: str) -> str | None:
    return None if is_valid_hash(value) else "is not an Argon2id hash (make one with `kiosk hash-secret`)"


@dataclass(frozen=True)
class Site:
    id: str = setting(check=_site_id)
    database: str = setting(check=path_text)
    low_disk_mib: int = setting(64, lo=1, hi=1024 * 1024)   # below this much free space: one alarm


@dataclass(frozen=True)
class Devices:
    """One device URL per role (kiosk/devices/roles.py); only the locks are required."""
    locks: str = setting()
    scanner: str | None = None
    card: str | None = None
    token: str | None = None
    biometric: str | None = None
    cash: str | None = None
    speech: str | None = None     # spoken guidance: "espeak://" (docs/speech.md)


@dataclass(frozen=True)
class Counter:
    """The counter desk. ``scanners``: URLs of the desk's own scanners — the only devices
    whose labels and tags the desk accepts (the site's ``devices.scanner``, facing
    recipients at the lockers, brings phone codes only unless it is listed here too)."""
    scanners: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockerSizes:
    """``[lockers.sizes]``: which doors are which size (kiosk.domain.compartments). A door
    in none of the lists takes any parcel; a door may be in one list only."""
    xs: tuple[int, ...] = setting((), lo=1, hi=512)
    s: tuple[int, ...] = setting((), lo=1, hi=512)
    m: tuple[int, ...] = setting((), lo=1, hi=512)
    l: tuple[int, ...] = setting((), lo=1, hi=512)   # noqa: E741 — the size's own name
    xl: tuple[int, ...] = setting((), lo=1, hi=512)


@dataclass(frozen=True)
class Lockers:
    count: int | None = setting(None, lo=1, hi=512)
    # Doors a person in a wheelchair or a child can reach (a parcel whose recipient asked
    # for one goes only there), and the doors' sizes.
    low: tuple[int, ...] = setting((), lo=1, hi=512)
    sizes: LockerSizes = LockerSizes()
    open_timeout_s: float = setting(15.0, lo=1, hi=600)
    left_open_alarm_s: float = setting(120.0, lo=5, hi=86400)
    # A recipient who shut the door on their parcel (the occupancy sensor says it is still
    # inside) may open it again this long after, this many times, without the secret.
    reopen_window_s: float = setting(60.0, lo=0, hi=600)
    reopen_max: int = setting(1, lo=0, hi=5)


@dataclass(frozen=True)
class Security:
    argon2_memory_kib: int = setting(DEFAULT_MEMORY_KIB, lo=MIN_MEMORY_KIB, hi=MAX_MEMORY_KIB)
    argon2_iterations: int = setting(DEFAULT_ITERATIONS, lo=1, hi=MAX_ITERATIONS)
    argon2_lanes: int = setting(DEFAULT_LANES, lo=1, hi=MAX_LANES)
    max_attempts_per_parcel: int = setting(5, lo=1, hi=20)
    site_failure_window_s: float = setting(300.0, above=0)
    site_failure_threshold: int = setting(20, lo=2, hi=10000)
    site_slowdown_s: float = setting(10.0, lo=0, hi=3600)
    max_checks_in_flight: int = setting(AttemptPolicy.max_checks_in_flight, lo=1, hi=16)
    courier_max_failures: int = setting(AttemptPolicy.courier_max_failures, lo=1, hi=100)
    courier_failure_window_s: float = setting(AttemptPolicy.courier_window_s, lo=10, hi=86400)
    courier_lockout_s: float = setting(AttemptPolicy.courier_lockout_s, lo=0, hi=86400)
    courier_logins_per_hour: int = setting(AttemptPolicy.courier_logins_per_hour, lo=1, hi=3600)


@dataclass(frozen=True)
class Manifest:
    file: str | None = setting(None, check=path_text)


@dataclass(frozen=True)
class Store:
    url: str | None = setting(None, check=_control)
    public_key: str | None = setting(None, check=_control)
    ca_file: str | None = setting(None, check=path_text)
    site_key: str | None = setting(None, check=path_text)
    batch_size: int = setting(StoreSettings.batch_size, lo=1, hi=500)
    timeout_s: float = setting(StoreSettings.timeout_s, lo=0.1, hi=300)
    manifest_interval_s: float = setting(StoreSettings.manifest_interval_s, lo=5, hi=86400)
    anchor_interval_s: float = setting(StoreSettings.anchor_interval_s, lo=60, hi=86400)
    backoff_initial_s: float = setting(StoreSettings.backoff_initial_s, lo=0.01, hi=3600)
    backoff_max_s: float = setting(StoreSettings.backoff_max_s, lo=0.1, hi=86400)


@dataclass(frozen=True)
class Verification:
    """Where each verification method (kiosk/domain/parcels.py METHODS) is checked."""
    secret: str = setting(LOCAL, check=_mode)
    locker: str = setting(LOCAL, check=_mode)
    f1_tag: str = setting(LOCAL, check=_mode)
    f2_tag: str = setting(LOCAL, check=_mode)
    ic_card: str = setting(LOCAL, check=_mode)
    token: str = setting(LOCAL, check=_mode)
    biometric: str = setting(LOCAL, check=_mode)
    fallback: str = setting(FALLBACK_LOCAL, check=_fallback)
    online_rate_per_minute: float = setting(VerificationSettings.online_rate_per_minute, lo=0.1, hi=6000)
    online_burst: int = setting(VerificationSettings.online_burst, lo=1, hi=1000)
    online_timeout_s: float = setting(VerificationSettings.online_timeout_s, lo=0.1, hi=60)


@dataclass(frozen=True)
class Holding:
    hold_days: float = setting(HoldPolicy.hold_s / 86400, lo=0.01, hi=60)
    reminder_hours: tuple[float, ...] = setting(tuple(s / 3600 for s in HoldPolicy.reminders_before_s),
                                                above=0, hi=24 * 60)
    extend_hours: float = setting(HoldPolicy.extend_s / 3600, lo=1, hi=24 * 30)
    extensions_max: int = setting(HoldPolicy.extensions_max, lo=0, hi=5)


@dataclass(frozen=True)
class Tags:
    key_file: str | None = setting(None, check=path_text)
    store_public_key: str | None = setting(None, check=_control)


# Where and how the people at this pickup point reach staff (``[ui.staff]``): one line per
# language the screens offer, a key per code of kiosk.languages (so a language added as a
# catalogue is a key here too); every "please see staff" on a screen names it.
if TYPE_CHECKING:
    @dataclass(frozen=True)
    class StaffContact:
        def __getattr__(self, code: str) -> str | None: ...
else:
    StaffContact = make_dataclass("StaffContact", [(code, str | None, setting(None, check=_printable))
                                                   for code in CODES], frozen=True)


@dataclass(frozen=True)
class Ui:
    inactivity_timeout_s: float = setting(45.0, lo=5, hi=3600)
    languages: tuple[str, ...] = setting(CODES, check=_languages)
    staff: StaffContact = StaffContact()


@dataclass(frozen=True)
class Courier:
    """One ``[[couriers]]`` entry: who may load lockers, and the hash of their code."""
    id: str = setting(check=_printable)
    code_hash: str = setting(check=_courier_hash)


STAFF_ROLES = ("clerk", "technician")


def _staff_role(value: str) -> str | None:
    return None if value in STAFF_ROLES else f"must be one of {', '.join(STAFF_ROLES)}"


@dataclass(frozen=True)
class Staff:
    """One ``[[staff]]`` entry: a clerk or technician who signs in to a screen with a code."""
    id: str = setting(check=_printable)
    role: str = setting(check=_staff_role)
    code_hash: str = setting(check=_courier_hash)


@dataclass(frozen=True)
class Service:
    """The service socket that screens connect to (docs/service-socket.md)."""
    socket: str | None = setting(None, check=path_text)   # e.g. /run/kiosk/service.sock
    staff_idle_s: float = setting(300.0, lo=10, hi=86400)  # a signed-in screen untouched this long signs out


def _listen(text: str) -> str | None:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        return "expected HOST:PORT, e.g. 127.0.0.1:9108"
    return None


@dataclass(frozen=True)
class Metrics:
    """A Prometheus text-format endpoint (kiosk.service.metrics): none unless ``listen`` is set."""
    listen: str | None = setting(None, check=_listen)   # e.g. 127.0.0.1:9108 (keep it on loopback or a VPN)


def _protocol(value: str) -> str | None:
    return None if value in PROTOCOLS else f"must be one of {', '.join(repr(p) for p in PROTOCOLS)}"


@dataclass(frozen=True)
class Fleet:
    """The fleet link over MQTT (kiosk.fleet, docs/fleet.md): none unless ``broker`` is set."""
    broker: str | None = setting(None, check=_control)          # mqtts://HOST:PORT (mqtt:// on loopback only)
    site: str | None = setting(None, check=_site_id)            # the site's id in topics; default [site] id
    username: str | None = setting(None, check=_printable)      # default: the fleet site id
    password_file: str | None = setting(None, check=path_text)
    ca_file: str | None = setting(None, check=path_text)
    operator_key_file: str | None = setting(None, check=path_text)
    publish_interval_s: float = setting(FleetSettings.publish_interval_s, lo=1, hi=86400)
    keepalive_s: int = setting(FleetSettings.keepalive_s, lo=1, hi=3600)
    reconnect_max_s: float = setting(FleetSettings.reconnect_max_s, lo=1, hi=3600)
    command_max_validity_s: float = setting(FleetSettings.command_max_validity_s, lo=10, hi=7 * 86400)
    protocol: str = setting(FleetSettings.protocol, check=_protocol)


@dataclass(frozen=True)
class Backup:
    """Online backups of the database (kiosk.storage.backup): none unless ``dir`` is set."""
    dir: str | None = setting(None, check=path_text)     # e.g. /var/backups/kiosk (not the database's disk, ideally)
    every_h: float = setting(24.0, lo=0.25, hi=24 * 30)
    keep: int = setting(7, lo=1, hi=1000)


@dataclass(frozen=True)
class Retention:
    """How long the books keep what is finished (kiosk.service.retention)."""
    days: float = setting(90.0, lo=7, hi=3650)   # collected/returned parcels and events the store acknowledged


@dataclass(frozen=True)
class File:
    """The whole file: its sections, in the order they are documented."""
    site: Site = setting()
    devices: Devices = setting()
    lockers: Lockers = Lockers()
    counter: Counter = Counter()
    security: Security = Security()
    holding: Holding = Holding()
    manifest: Manifest = Manifest()
    store: Store = Store()
    verification: Verification = Verification()
    tags: Tags = Tags()
    ui: Ui = Ui()
    service: Service = Service()
    backup: Backup = Backup()
    retention: Retention = Retention()
    metrics: Metrics = Metrics()
    fleet: Fleet = Fleet()
    couriers: tuple[Courier, ...] = ()
    staff: tuple[Staff, ...] = ()
