"""Several parcels, one visit (issue 15 §1): parcels the store grouped for one recipient
(the manifest's ``group``, one pickup code for all) come out together.

The recipient proves the right to one of them exactly as to any parcel (``submit_code``:
the same checks and attempt limits); that proof, which the store tied to every parcel of
the group, then opens the group's other doors too, one pulse after another (a lock bus
pulses one lock at a time). Each door is its own opening, audited with the parcel whose
proof opened it, and each parcel is collected only on its own door's evidence: a
recipient who takes two of three leaves the third in its locker, exactly as recorded.
A member that cannot come out now (at the counter, money due, locked out, its locker in
fault or busy) is left as it is; it is not an error for the others.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from kiosk.errors import DoorFault, KioskError
from kiosk.service.dto import DoorOpening, OtherDoor
from kiosk.service.site import Site

log = logging.getLogger(__name__)


Check = Callable[[Site, Any], None]                          # raises when a parcel cannot come out now
OpenDoor = Callable[..., Awaitable[DoorOpening]]              # kiosk.service.pickup.open_for_pickup


def collectable_companions(site: Site, parcel, check: Check) -> list:
    """The other parcels of ``parcel``'s group that can be opened now, in trade-number order."""
    if not parcel.visit_group:
        return []
    out = []
    for other in site.db.visit_group(parcel.visit_group):
        if other.trade_number == parcel.trade_number:
            continue
        try:
            check(site, other)
        except KioskError:
            continue
        out.append(other)
    return out


async def open_the_rest(site: Site, parcel, opening: DoorOpening, how: str, source: str, *,
                        check: Check, open_door: OpenDoor) -> DoorOpening:
    """After ``parcel``'s door: the doors of its group's other parcels (see the module)."""
    others: list[OtherDoor] = []
    for other in collectable_companions(site, parcel, check):
        try:
            done = await open_door(site, other, how, source, with_locker=opening.locker,
                                   visit_group=parcel.visit_group, proven_with=parcel.trade_number)
        except DoorFault as err:
            log.warning("visit %s: door for %s failed: %s", parcel.visit_group, other.trade_number, err)
            continue
        others.append(OtherDoor(done.trade_number, done.locker, done.op_id))
    return dataclasses.replace(opening, others=tuple(others)) if others else opening
