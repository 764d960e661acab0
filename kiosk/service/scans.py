"""Routing the site scanner's reads: a recipient's phone code to the pickup, anything else
to the counter desk — each route one read at a time, in the order they were read.

One at a time matters: a camera can see two dozen codes in one frame, and checks run in
parallel would all pass the site's slow-down before any failure was recorded. A phone
code (``P/<trade>/<secret>``, kiosk.service.pickup) opens the locker exactly as if typed;
one that claims to be a phone code but is malformed is counted and ignored (never
logged: it may hold a secret); the same code read again while it waits or is checked is
dropped. A refusal is published as ``scan_rejected`` for the screen, as there is no
caller to raise it to. Reads from the counter desk's own scanners (``[counter] scanners``)
go to ``counter.present`` (which reports its own rejections); a label or tag read by any
other scanner — the recipients' camera at the lockers — is counted and dropped, so nobody
at the lockers can feed the desk's hand-over (issue 8 §7).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from kiosk.devices.roles import Scan
from kiosk.errors import (CodeInvalid, DoorFault, KioskError, LockedOut, NotCollectable, PaymentDue, SeeStaff,
                          SlowDown, UnknownParcel)
from kiosk.service import counter, pickup
from kiosk.service.events import EventKind
from kiosk.service.site import Site
from kiosk.service.verification import OnlineVerifier

log = logging.getLogger(__name__)

QUEUE_MAX = 64   # reads waiting per route; beyond it a burst is dropped (and counted)


def scan_rejection(err: KioskError) -> dict:
    """The fields of a ``scan_rejected`` event for a pickup refused with ``err``: a
    ``reason`` and what the screen needs to say it (kiosk.ui.explain.scan_problem)."""
    match err:
        case CodeInvalid():
            return {"reason": "wrong_secret", "attempts_left": err.attempts_left}
        case LockedOut():
            return {"reason": "locked_out"}
        case SlowDown():
            return {"reason": "slow_down", "retry_after": err.retry_after}
        case UnknownParcel():
            return {"reason": "unknown_parcel"}
        case PaymentDue():
            return {"reason": "not_collectable", "detail": err.reason, "message": str(err),
                    "amount_due": err.amount_due}
        case NotCollectable():
            return {"reason": "not_collectable", "detail": err.reason, "message": str(err)}
        case DoorFault():
            return {"reason": "door_fault"}
        case SeeStaff():
            return {"reason": "see_staff"}
    return {"reason": "unexpected"}


class ScanRouter:
    """Feed it every read (on the event loop); ``run()`` is the task that works them off."""

    def __init__(self, site: Site, online: Callable[[], OnlineVerifier | None]) -> None:
        self.site = site
        self._online = online
        self._pickups: asyncio.Queue[pickup.PhoneCode] = asyncio.Queue(QUEUE_MAX)
        self._counter: asyncio.Queue[tuple[bytes, str, str]] = asyncio.Queue(QUEUE_MAX)
        self._waiting: set[str] = set()      # trade numbers of phone codes queued or being checked
        self.counts: Counter[str] = Counter()   # reads by route: counter, phone_code, phone_code_malformed, ...

    def feed(self, scan: Scan, desk: str | None = None) -> None:
        """One read; ``desk``: the desk whose own scanner read it (None: not a desk's)."""
        try:
            text: str | None = bytes(scan.data).strip().decode("utf-8")
        except (UnicodeDecodeError, TypeError, ValueError):
            text = None
        if text is not None and pickup.looks_like_phone_code(text):
            code = pickup.parse_phone_code(text)
            if code is None:
                self.counts["phone_code_malformed"] += 1
                log.info("scan ignored: not a well-formed recipient code")   # never the text: it may hold a secret
            elif code.trade_number in self._waiting:
                self.counts["phone_code_repeated"] += 1   # the same code, still waiting or being checked
            elif self._put(self._pickups, code, "phone_code"):
                self._waiting.add(code.trade_number)
            return
        if desk is None:
            self.counts["not_a_desk_scanner"] += 1
            log.info("scan ignored: %s is not a counter desk's scanner", scan.source)
            return
        self._put(self._counter, (bytes(scan.data), desk, scan.symbology), "counter")

    def _put(self, queue: asyncio.Queue, item, route: str) -> bool:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            self.counts[f"{route}_dropped"] += 1
            log.warning("scanner: too many %s reads waiting; one dropped", route)
            return False
        self.counts[route] += 1
        return True

    async def run(self) -> None:
        await asyncio.gather(self._run_pickups(), self._run_counter())

    async def _run_pickups(self) -> None:
        while True:
            code = await self._pickups.get()
            try:
                await self._phone_pickup(code)
            finally:
                self._waiting.discard(code.trade_number)
                self._pickups.task_done()

    async def _run_counter(self) -> None:
        while True:
            payload, desk, symbology = await self._counter.get()
            try:
                await counter.present(self.site, payload, desk=desk, source="scan", symbology=symbology)
            except KioskError as err:
                log.info("scan not accepted: %s", err)
            except Exception:
                log.exception("counter: a scan could not be presented")
            finally:
                self._counter.task_done()

    async def _phone_pickup(self, code: pickup.PhoneCode) -> None:
        site = self.site
        try:
            await pickup.submit_code(site, code.trade_number, code.secret, online=self._online(), source="scan")
        except KioskError as err:
            log.info("recipient code not accepted: %s", type(err).__name__)
            site.bus.publish(EventKind.SCAN_REJECTED, site.now(), trade_number=code.trade_number,
                             **scan_rejection(err))
        except Exception:
            log.exception("recipient code: pickup failed")
            site.bus.publish(EventKind.SCAN_REJECTED, site.now(), trade_number=code.trade_number,
                             reason="unexpected")

    async def settle(self) -> None:
        """Wait until every read fed so far has been worked off (tests, scenarios)."""
        await self._pickups.join()
        await self._counter.join()
