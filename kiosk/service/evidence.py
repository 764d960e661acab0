"""Door evidence on its way to the books: every reading written, in order, whatever happens.

Door changes come from driver threads; each is stamped with the time it was seen and
queued here. The task writes them one at a time, in order. When the database refuses a
write (a full disk), the reading is not lost: it stays at the head of the queue with its
own time, later readings queue behind it, and the task tries again (backing off) until
the write succeeds — so a door opened and closed while the disk was full becomes a
collected parcel once space returns, never "did not open". While readings wait, the
controller's timers hold off (a door whose opening is not yet written would look jammed).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque

from kiosk.devices.roles import DoorChange
from kiosk.errors import StorageError
from kiosk.service import doors
from kiosk.service.site import Site
from kiosk.sync.backoff import Backoff

log = logging.getLogger(__name__)


class EvidenceQueue:
    def __init__(self, site: Site, *, retry_initial_s: float = 0.05, retry_cap_s: float = 2.0,
                 rng: random.Random | None = None) -> None:
        self.site = site
        self._arrived: asyncio.Queue[tuple[DoorChange, float]] = asyncio.Queue()
        self._waiting: deque[tuple[DoorChange, float]] = deque()
        self._backoff = Backoff(retry_initial_s, retry_cap_s, rng or random.Random())
        self.written_late = 0

    def put(self, change: DoorChange, seen_at: float) -> None:
        """A reading seen at ``seen_at`` (call on the event loop)."""
        self._arrived.put_nowait((change, seen_at))

    @property
    def pending(self) -> int:
        """Readings seen but not yet written."""
        return self._arrived.qsize() + len(self._waiting)

    async def run(self) -> None:
        failures = 0
        while True:
            if not self._waiting:
                self._waiting.append(await self._arrived.get())
            while not self._arrived.empty():
                self._waiting.append(self._arrived.get_nowait())
            try:
                self._write_waiting(late=failures > 0)
                failures = 0
            except StorageError as err:
                failures += 1
                if failures == 1:
                    log.error("door evidence kept to write later (%d waiting): %s", len(self._waiting), err)
                await asyncio.sleep(self._backoff.delay(failures))

    def _write_waiting(self, *, late: bool) -> None:
        while self._waiting:
            change, seen_at = self._waiting[0]
            try:
                doors.on_reading(self.site, change.door, change.state.value,
                                 "sensor (written late)" if late else "sensor", at=seen_at)
            except StorageError:
                raise
            except Exception:
                log.exception("could not record %s", change)   # a bug with one reading must not wedge the rest
            self._waiting.popleft()
            if late:
                self.written_late += 1

    async def settle(self) -> None:
        """Wait until every reading queued so far is written (tests, scenarios)."""
        while self.pending:   # noqa: ASYNC110 - written by another task; nothing to wait on
            await asyncio.sleep(0.001)
