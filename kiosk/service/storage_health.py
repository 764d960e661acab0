"""Is the database writable, and is there room? Watched by the controller's timer.

While the database refuses writes the pickup point is out of service (kiosk.service.site
``require_storage``): it says so on the screens (``service_state``) and tries a small
write now and then to learn when it works again. Free space is watched before it runs
out: below ``LOW_FREE_BYTES`` one alarm for staff and the store (``device_health``,
component "storage"), again only after it has recovered.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from kiosk.errors import StorageError
from kiosk.service.events import EventKind
from kiosk.service.site import Site

log = logging.getLogger(__name__)

LOW_FREE_BYTES = 64 * 1024 * 1024
CHECK_EVERY_S = 30.0


class StorageHealth:
    def __init__(self, site: Site, *, low_free_bytes: int = LOW_FREE_BYTES) -> None:
        self.site = site
        self.low_free_bytes = low_free_bytes
        self.folder = Path(site.db.path).parent
        self.free_bytes: int | None = None
        self.low = False
        self.in_service = True
        self._next_check = 0.0

    def check(self) -> None:
        """Run from the timer: probe a failing database, look at free space now and then,
        and say when the pickup point goes out of service or comes back."""
        site, now = self.site, self.site.now()
        if site.db.failing is not None:
            try:
                with site.db.transaction(now) as tx:
                    tx.probe_storage()
                log.warning("the database can be written again")
            except StorageError:
                pass
        if now >= self._next_check:
            self._next_check = now + CHECK_EVERY_S
            self._look_at_space()
        self._say_service_state()

    def _look_at_space(self) -> None:
        try:
            self.free_bytes = shutil.disk_usage(self.folder).free
        except OSError as err:
            log.warning("cannot read the free space of %s: %s", self.folder, err)
            return
        low = self.free_bytes < self.low_free_bytes
        if low and not self.low:
            self._raise_low_space()
        self.low = low

    def _raise_low_space(self) -> None:
        site, now = self.site, self.site.now()
        mib = (self.free_bytes or 0) // (1024 * 1024)
        problem = f"low disk space: {mib} MiB free for the database at {self.folder}"
        log.error(problem)
        try:
            with site.db.transaction(now) as tx:
                tx.emit("device_health", None, component="storage", problem=problem, at=now)
                tx.audit("kioskd", "alarm_storage_low", None, free_bytes=self.free_bytes)
        except StorageError:
            pass   # the screens and the log say it; the store hears when a write works again
        site.bus.publish(EventKind.ALARM, now, alarm="storage_low")

    def _say_service_state(self) -> None:
        in_service = self.site.db.failing is None
        if in_service != self.in_service:
            self.in_service = in_service
            reason = None if in_service else f"the database cannot be written: {self.site.db.failing}"
            (log.warning if in_service else log.error)("pickup point %s", "back in service" if in_service
                                                       else f"out of service: {reason}")
            self.site.bus.publish(EventKind.SERVICE_STATE, self.site.now(), in_service=in_service, reason=reason)
