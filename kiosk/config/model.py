"""``Config``: the checked file as the program uses it, and ``build`` that makes one.

``build`` only assembles: it runs on a file that ``fields.read`` and ``checks.check``
found no problem in, so every value already has its type and range. Seconds stay
seconds, hours and days become seconds, paths become absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kiosk.config.checks import hold_policy, layout, resolve
from kiosk.config.schema import Courier, File, Staff
from kiosk.domain.attempts import AttemptPolicy
from kiosk.domain.compartments import Layout
from kiosk.domain.holding import HoldPolicy
from kiosk.domain.lockers import Timing
from kiosk.domain.parcels import METHODS
from kiosk.fleet.settings import FleetSettings
from kiosk.languages import CODES
from kiosk.security.secrets import HashParams
from kiosk.sync.settings import SITE_KEY_FILE, StoreSettings, VerificationSettings

__all__ = ["Config", "Courier", "Staff", "build"]


@dataclass(frozen=True)
class Config:
    path: Path
    site_id: str
    database: Path
    devices: dict[str, str]
    desk_scanners: tuple[str, ...]   # the counter desk's own scanners (URLs)
    timing: Timing
    locker_count: int | None
    hash_params: HashParams
    attempts: AttemptPolicy
    couriers: tuple[Courier, ...]
    manifest: Path | None
    ui_inactivity_s: float
    staff: tuple[Staff, ...] = ()                 # clerks and technicians who sign in to screens
    service_socket: Path | None = None            # where screens connect (None: in-process only)
    staff_idle_s: float = 300.0
    backup_dir: Path | None = None               # [backup]: where online backups go (None: none)
    backup_every_s: float = 24 * 3600.0
    backup_keep: int = 7
    retention_s: float = 90 * 86400.0           # [retention] days: finished parcels and sent events kept this long
    metrics_listen: str | None = None            # [metrics] listen: HOST:PORT of the Prometheus endpoint
    low_disk_bytes: int = 64 * 1024 * 1024      # free space below which staff are alarmed
    staff_contact: dict[str, str] = field(default_factory=dict)   # language -> where to find staff
    ui_languages: tuple[str, ...] = CODES
    store: StoreSettings = field(default_factory=StoreSettings)
    fleet: FleetSettings = field(default_factory=FleetSettings)   # [fleet]: the MQTT link (off: no broker)
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    holding: HoldPolicy = field(default_factory=HoldPolicy)
    tags_key_file: Path | None = None            # the site tag key shared with the store (F1/F2)
    tags_store_public_key: str | None = None     # who signs tags; defaults to [store] public_key
    layout: Layout = field(default_factory=Layout)   # [lockers] low and [lockers.sizes]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def site_key_path(self) -> Path:
        """The site's private key: ``[store] site_key``, else next to the database."""
        return self.store.site_key or self.database.parent / SITE_KEY_FILE


def build(file: File, path: Path, raw: dict[str, Any]) -> Config:
    """The Config of ``file``, read from ``path``. Raises PathProblem or ValueError only
    if the checks let through what they should not have (the caller reports it)."""
    base = path.parent

    def absolute(text: str | None) -> Path | None:
        return resolve(base, text) if text is not None else None

    sec, store, ver, hold, lk = file.security, file.store, file.verification, file.holding, file.lockers
    fl = file.fleet
    devices = {f.name: getattr(file.devices, f.name) for f in fields(file.devices)}
    methods = {method: getattr(ver, method) for method in METHODS}
    return Config(
        path=path, site_id=file.site.id, database=resolve(base, file.site.database),
        devices={role: url for role, url in devices.items() if url is not None},
        desk_scanners=file.counter.scanners,
        timing=Timing(lk.open_timeout_s, lk.left_open_alarm_s, lk.reopen_window_s, lk.reopen_max),
        locker_count=lk.count, layout=layout(lk),
        hash_params=HashParams(sec.argon2_memory_kib, sec.argon2_iterations, sec.argon2_lanes),
        attempts=AttemptPolicy(sec.max_attempts_per_parcel, sec.site_failure_window_s,
                               sec.site_failure_threshold, sec.site_slowdown_s, sec.max_checks_in_flight,
                               sec.courier_max_failures, sec.courier_failure_window_s, sec.courier_lockout_s,
                               sec.courier_logins_per_hour),
        low_disk_bytes=file.site.low_disk_mib * 1024 * 1024,
        couriers=file.couriers, manifest=absolute(file.manifest.file),
        staff=file.staff, service_socket=absolute(file.service.socket), staff_idle_s=file.service.staff_idle_s,
        backup_dir=absolute(file.backup.dir), backup_every_s=file.backup.every_h * 3600, backup_keep=file.backup.keep,
        retention_s=file.retention.days * 86400,
        metrics_listen=file.metrics.listen,
        ui_inactivity_s=file.ui.inactivity_timeout_s, ui_languages=file.ui.languages,
        staff_contact={f.name: getattr(file.ui.staff, f.name) for f in fields(file.ui.staff)
                       if getattr(file.ui.staff, f.name)},
        store=StoreSettings(url=store.url.rstrip("/") if store.url else None, public_key=store.public_key,
                            ca_file=absolute(store.ca_file), site_key=absolute(store.site_key),
                            batch_size=store.batch_size, timeout_s=store.timeout_s,
                            manifest_interval_s=store.manifest_interval_s,
                            anchor_interval_s=store.anchor_interval_s,
                            backoff_initial_s=store.backoff_initial_s, backoff_max_s=store.backoff_max_s),
        verification=VerificationSettings(methods=methods, fallback=ver.fallback,
                                          online_rate_per_minute=ver.online_rate_per_minute,
                                          online_burst=ver.online_burst, online_timeout_s=ver.online_timeout_s),
        fleet=FleetSettings(broker=fl.broker, site=fl.site or file.site.id, username=fl.username,
                            password_file=absolute(fl.password_file), ca_file=absolute(fl.ca_file),
                            operator_key_file=absolute(fl.operator_key_file),
                            publish_interval_s=fl.publish_interval_s, keepalive_s=fl.keepalive_s,
                            reconnect_max_s=fl.reconnect_max_s, command_max_validity_s=fl.command_max_validity_s,
                            protocol=fl.protocol),
        holding=hold_policy(hold),
        tags_key_file=absolute(file.tags.key_file),
        tags_store_public_key=file.tags.store_public_key or store.public_key,
        raw=raw)
