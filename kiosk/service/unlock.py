"""Sending the unlock pulse, after the intent is on disk.

Order matters for "nothing lost, nothing done twice": the opening (its id, the parcel,
the kind) is committed first; only then is the pulse sent. A crash between the two
leaves an opening "commanded" with no evidence, which the restart turns into a fault for
a person to inspect — never into a collected parcel.
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.errors import DeviceError, DoorFault
from kiosk.service import doors
from kiosk.service.site import Site

log = logging.getLogger(__name__)


async def fire(site: Site, number: int) -> None:
    """Pulse locker ``number``'s lock. Raises DoorFault (after recording it) when the board fails."""
    try:
        await asyncio.to_thread(site.locks.unlock, number)
    except DeviceError as err:
        log.warning("unlock of locker %s failed: %s", number, err)
        doors.fail_opening(site, number, str(err))
        raise DoorFault(f"locker {number} could not be unlocked: {err}") from err
