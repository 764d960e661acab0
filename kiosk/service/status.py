"""The site at a glance (``SiteStatus``), assembled in one place from the database.

The running controller passes its devices' health (``live``); ``kiosk status`` opens the
database read-only while the controller runs and passes none; scenarios and tests read
the same. A database from before the store-sync migration (opened read-only, so not
migrated) simply has no store-link history yet.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from kiosk.config import Config
from kiosk.domain.parcels import ParcelState
from kiosk.service.dto import (ChannelStatus, DeviceStatus, LockerStatus, ReturnItem, SiteStatus, StorageStatus,
                               StoreLinkStatus, TaskStatus)
from kiosk.storage.database import SYNC_CHANNELS, Reader


def returns(reader: Reader) -> tuple[ReturnItem, ...]:
    """Expired parcels waiting to go back to the store, and where each one is."""
    return tuple(ReturnItem(p.trade_number, p.locker, p.hold_deadline) for p in reader.parcels(ParcelState.EXPIRED))


def lockers(reader: Reader) -> tuple[LockerStatus, ...]:
    return tuple(LockerStatus(lk.number, lk.state.value, lk.door, lk.fault, lk.parcel, lk.busy)
                 for lk in reader.lockers())


def store_link(reader: Reader, config: Config) -> StoreLinkStatus:
    try:
        summary = reader.sync_summary()
    except sqlite3.OperationalError:
        count, oldest = reader.pending_summary()
        return StoreLinkStatus(config.store.enabled, config.store.url, count, oldest,
                               {c: ChannelStatus() for c in SYNC_CHANNELS})
    known = {f.name for f in dataclasses.fields(ChannelStatus)}
    channels = {c: ChannelStatus(**{k: v for k, v in summary[c].items() if k in known}) for c in SYNC_CHANNELS}
    return StoreLinkStatus(config.store.enabled, config.store.url, summary["pending"], summary["oldest_pending"],
                           channels, summary["quarantined"])


def site_status(reader: Reader, config: Config, *, devices: tuple[DeviceStatus, ...] = (),
                live: bool = False, storage: StorageStatus | None = None,
                tasks: tuple[TaskStatus, ...] = ()) -> SiteStatus:
    parcels: dict[str, int] = {}
    for parcel in reader.parcels():
        parcels[parcel.state.value] = parcels.get(parcel.state.value, 0) + 1
    return SiteStatus(config.site_id, lockers(reader), parcels, returns(reader), store_link(reader, config), devices, live,
                      storage or StorageStatus(), tasks)
