"""Sending the unlock pulse, after the intent is on disk.

Order matters for "nothing lost, nothing done twice": the opening (its id, the parcel,
the kind) is committed first; only then is the pulse sent. A crash between the two
leaves an opening "commanded" with no evidence, which the restart turns into a fault for
a person to inspect — never into a collected parcel.
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.errors import DeviceError, DeviceTimeout, DoorFault
from kiosk.service import doors
from kiosk.service.site import Site

log = logging.getLogger(__name__)


async def fire(site: Site, number: int) -> None:
    """Pulse locker ``number``'s lock. Raises DoorFault (after recording it) when the board fails.

    A timeout after the command may have left is not a failure: it may have reached the
    lock (the board only failed to answer), so the opening stays under way and the door's
    evidence — or the open timeout — decides, as for an acknowledged command. A timeout
    before anything was sent (``sent=False``) is a failure like any other."""
    try:
        await asyncio.to_thread(site.locks.unlock, number)
    except DeviceTimeout as err:
        if err.sent is False:
            _failed(site, number, err)
        log.warning("unlock of locker %s not confirmed: %s", number, err)
        with site.db.transaction(site.now()) as tx:
            tx.audit("kioskd", "unlock_unconfirmed", f"locker:{number}", reason=str(err))
    except DeviceError as err:
        _failed(site, number, err)


def _failed(site: Site, number: int, err: DeviceError):
    log.warning("unlock of locker %s failed: %s", number, err)
    doors.fail_opening(site, number, str(err))
    raise DoorFault(f"locker {number} could not be unlocked: {err}") from err
