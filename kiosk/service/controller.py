"""kioskd: the controller. It owns the database, the devices and the outbox.

Life cycle: ``start()`` opens the database (migrating it), builds the lock bank from its
URL and opens it (every lock driven safe, every door read), makes sure every locker has
a row, reconciles the books with the doors as they are, imports the manifest, and starts
two tasks: one applying door changes in arrival order, one running the timers (jam,
left-open, expiry) and the systemd watchdog. ``stop()`` undoes it in reverse.

Door changes come from driver threads and hop onto the event loop with
``call_soon_threadsafe``; every change of state then happens on the loop, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter

import httpx

from kiosk.clock import Clock, SystemClock
from kiosk.config import Config
from kiosk.devices import registry
from kiosk.devices.roles import DoorChange, LockBank
from kiosk.domain.lockers import Locker
from kiosk.errors import (CodeInvalid, ConfigError, DeviceError, DoorFault, KioskError, LockedOut, NotCollectable,
                          SeeStaff, SlowDown, UnknownParcel)
from kiosk.security.tag_keys import load_tag_keys
from kiosk.security.keys import load_or_create_site_key
from kiosk.service import clerk, counter, deposit, doors, holding, manifest, pickup
from kiosk.service.events import EventBus, Subscription
from kiosk.service.manifest_pull import PullResult
from kiosk.service.site import Site
from kiosk.service.syncing import Sync
from kiosk.service.systemd import Notifier
from kiosk.storage.database import Database

log = logging.getLogger(__name__)

TICK_S = 0.25


def scan_rejection(err: KioskError) -> dict:
    """The data of a ``scan_rejected`` event for a pickup refused with ``err``: a ``reason``
    and what the screen needs to say it (kiosk.ui.explain.scan_problem). Never a secret."""
    match err:
        case CodeInvalid():
            return {"reason": "wrong_secret", "attempts_left": err.attempts_left}
        case LockedOut():
            return {"reason": "locked_out"}
        case SlowDown():
            return {"reason": "slow_down", "retry_after": err.retry_after}
        case UnknownParcel():
            return {"reason": "unknown_parcel"}
        case NotCollectable():
            return {"reason": "not_collectable", "detail": err.reason, "message": str(err)}
        case DoorFault():
            return {"reason": "door_fault"}
        case SeeStaff():
            return {"reason": "see_staff"}
    return {"reason": "unexpected"}


class Controller:
    def __init__(self, config: Config, *, clock: Clock | None = None, locks: LockBank | None = None,
                 tick_s: float = TICK_S, device_context: dict | None = None, rng: random.Random | None = None,
                 store_transport: httpx.AsyncBaseTransport | None = None):
        """``rng`` seeds the store link's backoff jitter; ``store_transport`` replaces its
        network (tests)."""
        self.config = config
        self.clock = clock or SystemClock()
        self.bus = EventBus()
        self._locks = locks
        self._tick_s = tick_s
        self._device_context = device_context or {}
        self._tasks: list[asyncio.Task] = []
        self._changes: asyncio.Queue[DoorChange] | None = None
        self._notifier = Notifier()
        self._rng = rng
        self._store_transport = store_transport
        self.site: Site | None = None
        self.sync: Sync | None = None
        self.scanner = None
        self.scanner_error: str | None = None
        self._scan_tasks: set[asyncio.Task] = set()
        self._phone_pickups: set[str] = set()   # trade numbers whose phone code is being checked
        self.scan_counts: Counter[str] = Counter()   # scans by route: counter, phone_code, phone_code_malformed, ...
        self.started_at: float | None = None
        self.ready_s: float | None = None

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        db = Database(self.config.database)
        locks = self._locks or registry.create("locks", self.config.devices["locks"], **self._device_context)
        self._changes = asyncio.Queue()
        locks.subscribe(lambda change: loop.call_soon_threadsafe(self._changes.put_nowait, change))
        try:
            await asyncio.to_thread(locks.open)
        except Exception:
            db.close()
            raise
        count = self.config.locker_count
        if count is not None and count > locks.door_count:
            await asyncio.to_thread(locks.close)
            db.close()
            raise ConfigError([("lockers.count", f"is {count} but {locks!r} has only {locks.door_count} doors")],
                              str(self.config.path))
        self.site = Site(self.config, db, locks, self.clock, self.bus)
        self._ensure_lockers()
        self._reconcile()
        if self.config.manifest:
            manifest.import_parcels(self.site, manifest.load_file(self.config.manifest), str(self.config.manifest))
        try:
            if self.config.tags_key_file is not None:
                self.site.tag_keys = load_tag_keys(self.config.site_id, self.config.tags_key_file,
                                                   self.config.tags_store_public_key)
            site_key = load_or_create_site_key(self.config.site_key_path)
            if self.config.store.enabled:
                self.sync = Sync(self.site, site_key, rng=self._rng, transport=self._store_transport)
        except Exception:
            await self._close_site()
            raise
        self._tasks = [asyncio.create_task(self._apply_changes(), name="door-changes"),
                       asyncio.create_task(self._ticker(), name="timers")]
        if self.sync:
            self.sync.start()
        await self._open_scanner(loop)
        self.started_at = self.clock.now()
        self.ready_s = time.monotonic() - t0
        self._notifier.notify("READY=1", f"STATUS=ready: {len(self.site.locker_numbers)} lockers")
        self.bus.publish("ready", self.clock.now(), lockers=len(self.site.locker_numbers))
        log.info("kioskd ready in %.3f s with %s", self.ready_s, locks)

    async def stop(self) -> None:
        self._notifier.notify("STOPPING=1")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._close_site()

    async def _open_scanner(self, loop: asyncio.AbstractEventLoop) -> None:
        """The counter's scanner, when configured. A scanner that cannot be opened does not
        stop the lockers: it is logged, reported to the store and shown in status."""
        url = self.config.devices.get("scanner")
        if not url:
            return
        try:
            scanner = registry.create("scanner", url, **self._device_context)
            scanner.subscribe(lambda scan: loop.call_soon_threadsafe(self._on_scan, scan))
            await asyncio.to_thread(scanner.open)
        except DeviceError as err:
            log.error("scanner %s unavailable: %s", url, err)
            with self.site.db.transaction(self.clock.now()) as tx:
                tx.emit("device_health", None, component="scanner", problem=str(err), at=self.clock.now())
                tx.audit("kioskd", "device_unavailable", "scanner", reason=str(err))
            self.scanner_error = str(err)
            return
        self.scanner = scanner

    def _on_scan(self, scan) -> None:
        """Route one read of the scanner. A recipient's phone code (``P/<trade>/<secret>``,
        kiosk.service.pickup) opens their locker exactly as if typed; a read that claims to
        be one but is malformed is counted and ignored. Anything else goes to the counter
        desk as before (which reports rejections itself)."""
        try:
            text = bytes(scan.data).strip().decode("utf-8")
        except (UnicodeDecodeError, TypeError, ValueError):
            text = None
        if text is not None and pickup.looks_like_phone_code(text):
            code = pickup.parse_phone_code(text)
            if code is None:
                self.scan_counts["phone_code_malformed"] += 1
                log.info("scan ignored: not a well-formed recipient code")   # never the text: it may hold a secret
                return
            if code.trade_number in self._phone_pickups:
                self.scan_counts["phone_code_repeated"] += 1   # the same code, still being checked
                return
            self.scan_counts["phone_code"] += 1
            self._phone_pickups.add(code.trade_number)
            self._spawn_scan(self._phone_pickup(code))
            return
        self.scan_counts["counter"] += 1

        async def present() -> None:
            try:
                await counter.present(self.site, scan.data, source="scan")
            except KioskError as err:
                log.info("scan not accepted: %s", err)
        self._spawn_scan(present())

    def _spawn_scan(self, work) -> None:
        self._scan_tasks.add(task := asyncio.create_task(work))
        task.add_done_callback(self._scan_tasks.discard)

    async def _phone_pickup(self, code: pickup.PhoneCode) -> None:
        """A recipient's phone code: the pickup as typed, its refusal published as
        ``scan_rejected`` for the screen (there is no caller to raise it to)."""
        try:
            await pickup.submit_code(self.site, code.trade_number, code.secret,
                                     online=self.sync.verifier if self.sync else None, source="scan")
        except KioskError as err:
            log.info("recipient code not accepted: %s", type(err).__name__)
            self.bus.publish("scan_rejected", self.clock.now(), code="recipient", trade_number=code.trade_number,
                             **scan_rejection(err))
        except Exception:
            log.exception("recipient code: pickup failed")
            self.bus.publish("scan_rejected", self.clock.now(), code="recipient", trade_number=code.trade_number,
                             reason="unexpected")
        finally:
            self._phone_pickups.discard(code.trade_number)

    async def _close_site(self) -> None:
        if self.scanner is not None:
            await asyncio.to_thread(self.scanner.close)
            self.scanner = None
        if self.sync:
            await self.sync.stop()
            self.sync = None
        if self.site:
            await asyncio.to_thread(self.site.locks.close)
            self.site.hasher.shutdown(wait=True)
            self.site.db.close()
            self.site = None

    async def __aenter__(self) -> "Controller":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def locks(self) -> LockBank:
        return self.site.locks

    @property
    def store(self) -> Database:
        return self.site.db

    def _ensure_lockers(self) -> None:
        site = self.site
        missing = [n for n in site.locker_numbers if site.db.locker(n) is None]
        if missing:
            with site.db.transaction(site.now()) as tx:
                for n in missing:
                    tx.save_locker(Locker(n))
                tx.audit("kioskd", "lockers_installed", None, numbers=missing)

    def _reconcile(self) -> None:
        """Square the books with the doors as the lock bank reads them now."""
        states = self.site.locks.door_states()
        for n in self.site.locker_numbers:
            outcome = doors.on_restart(self.site, n, states[n].value)
            if outcome.value != "nothing":
                log.warning("locker %s at start-up: %s", n, outcome.value)
        # Changes queued while we reconciled describe what we just read; drop duplicates
        # harmlessly: door_reading() ignores a reading equal to the stored one.

    async def _apply_changes(self) -> None:
        while True:
            change = await self._changes.get()
            try:
                doors.on_reading(self.site, change.door, change.state.value)
            except Exception:
                log.exception("could not record %s", change)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                self.tick()
            except Exception:
                log.exception("timer tick failed")

    def tick(self) -> None:
        """Run the timers now (the ticker does this every TICK_S; scenarios call it directly)."""
        doors.on_tick(self.site)
        holding.sweep(self.site)
        if self.sync:
            self.sync.poke()  # the clock has moved: a retry or a pull may be due
        self._notifier.notify("WATCHDOG=1")

    async def settle(self) -> None:
        """Wait until every door change reported so far has been applied (for tests/scenarios)."""
        while not self._changes.empty():
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)

    # --- the service API: commands -------------------------------------------------------

    def subscribe(self) -> Subscription:
        return self.bus.subscribe()

    async def submit_code(self, trade_number: str, secret: str) -> pickup.PickupStarted:
        return await pickup.submit_code(self.site, trade_number, secret,
                                        online=self.sync.verifier if self.sync else None)

    async def courier_login(self, code: str) -> str:
        return await deposit.courier_login(self.site, code)

    async def deposit(self, token: str, trade_number: str) -> deposit.DepositStarted:
        return await deposit.deposit(self.site, token, trade_number)

    def courier_logout(self, token: str) -> None:
        deposit.courier_logout(self.site, token)

    async def clerk_open_locker(self, clerk_id: str, number: int) -> str:
        return await clerk.open_locker(self.site, clerk_id, number)

    def clerk_reset_attempts(self, clerk_id: str, trade_number: str) -> None:
        clerk.reset_attempts(self.site, clerk_id, trade_number)

    def clerk_hand_over(self, clerk_id: str, trade_number: str, reason: str) -> None:
        clerk.hand_over(self.site, clerk_id, trade_number, reason)

    def clerk_set_in_service(self, clerk_id: str, number: int, in_service: bool, reason: str = "") -> None:
        clerk.set_in_service(self.site, clerk_id, number, in_service, reason)

    def clerk_mark_returned(self, clerk_id: str, trade_number: str) -> None:
        clerk.mark_returned(self.site, clerk_id, trade_number)

    # --- the counter (F1/F2 tags, plain secret): see kiosk.service.counter ----------------

    async def counter_present(self, payload: bytes, *, desk: str = counter.DEFAULT_DESK,
                              source: str = "scan") -> counter.Presented:
        return await counter.present(self.site, payload, desk=desk, source=source)

    async def counter_verify(self, secret: str | None = None, *, trade_number: str | None = None,
                             desk: str = counter.DEFAULT_DESK) -> counter.Ready:
        return await counter.verify(self.site, secret, trade_number=trade_number, desk=desk,
                                    online=self.sync.verifier if self.sync else None)

    def counter_confirm(self, clerk_id: str, ticket: str, *, desk: str = counter.DEFAULT_DESK) -> str:
        return counter.confirm(self.site, clerk_id, ticket, desk=desk)

    def counter_cancel(self, *, desk: str = counter.DEFAULT_DESK) -> None:
        counter.cancel(self.site, desk)

    def counter_receive(self, clerk_id: str, trade_number: str) -> None:
        counter.receive(self.site, clerk_id, trade_number)

    def returns(self) -> list[dict]:
        """Expired parcels to go back to the store."""
        return holding.returns(self.site)

    def import_manifest(self, parcels, source: str) -> int:
        return manifest.import_parcels(self.site, parcels, source)

    async def pull_manifest(self) -> PullResult:
        """Pull the store's manifest now. Raises ConfigError when no store is configured,
        else the SyncError family (StoreUnreachable, StoreRejected, BadStoreReply, ...)."""
        if not self.sync:
            raise ConfigError([("store.url", "no store is configured")], str(self.config.path))
        return await self.sync.pull_now()

    # --- the service API: queries --------------------------------------------------------

    def status(self) -> dict:
        site = self.site
        lockers = site.db.lockers()
        parcels = site.db.parcels()
        by_state: dict[str, int] = {}
        for p in parcels:
            by_state[p.state.value] = by_state.get(p.state.value, 0) + 1
        return {
            "site": self.config.site_id,
            "lock_bank": repr(site.locks),
            "lockers": {lk.number: {"state": lk.state.value, "door": lk.door, "fault": lk.fault} for lk in lockers},
            "parcels": by_state,
            "outbox_pending": site.db.pending_summary()[0],
            "sync": self.sync.status() if self.sync else {"enabled": False, **site.db.sync_summary()},
        }
