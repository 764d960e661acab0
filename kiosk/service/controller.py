"""kioskd: the controller. It owns the database, the devices and the outbox, and it is the
in-process transport of the service API (kiosk.service.api.KioskService).

Life cycle: ``start()`` opens the database (migrating it), builds the lock bank from its
URL and opens it (every lock driven safe, every door read), makes sure every locker has
a row, reconciles the books with the doors as they are, imports the manifest, and starts
the tasks: door changes applied in arrival order, the timers (jam, left-open, expiry) and
the systemd watchdog, and the scanner's reads. ``stop()`` undoes it in reverse.

Door changes come from driver threads and hop onto the event loop with
``call_soon_threadsafe``; every change of state then happens on the loop, one at a time.

Beyond the service API the controller offers a few in-process hooks for tests, scenarios
and benchmarks — ``site`` (the running site: database, locks, bus), ``tick()``,
``settle()``, ``import_manifest()``, ``counter_present()`` (what a desk's scanner feeds) —
which no screen uses and the socket transport does not carry.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from pathlib import Path

from collections.abc import Callable

import httpx

from kiosk.clock import Clock, SystemClock
from kiosk.config import Config
from kiosk.devices import registry
from kiosk.devices.roles import BiometricMatcher, CardReader, DoorChange, LockBank, ParcelCard, Scanner, Speaker
from kiosk.domain.lockers import Locker
from kiosk.domain.parcels import Parcel
from kiosk.errors import ConfigError, DeviceError, SeeStaff, StorageError, UnknownDevice
from kiosk import journal
from kiosk.security.keys import derived_key, load_or_create_site_key
from kiosk.security.tag_keys import load_tag_keys
from kiosk.service import dropoff, speech, traffic
from kiosk.service import (card_counter, card_pickup, card_return, clerk, clerk_overview, counter, deposit, doors,
                           extension, finger_counter, finger_pickup,
                           holding, manifest, payment, pickup, reopen, status)
from kiosk.service.api import DEFAULT_DESK, CounterField
from kiosk.service.dto import (DeviceTraffic, RoundItem, ClerkOverview, CollectedCard, CounterAnswer, CounterTicket, CourierSession, DeviceStatus,
                               DoorOpening,
                               ManifestPullResult, PaymentSession, ReturnItem, SiteStatus, StorageStatus, TaskStatus,
                               UiSettings)
from kiosk.service.evidence import EvidenceQueue
from kiosk.service.fleet import Fleet
from kiosk.service.retention import Retention
from kiosk.service.storage_health import StorageHealth
from kiosk.service.supervisor import Supervisor
from kiosk.service.events import DeskState, EventBus, EventKind, Subscription
from kiosk.service.scans import ScanRouter
from kiosk.service.site import Site
from kiosk.service.metrics import MetricsServer
from kiosk.service.socket_server import ServiceServer
from kiosk.service.syncing import Sync
from kiosk.service.systemd import Notifier
from kiosk.service.verification import OnlineVerifier
from kiosk.storage import payments as payment_books
from kiosk.storage import backup
from kiosk.storage.database import Database

log = logging.getLogger(__name__)

TICK_S = 0.25


class NotStarted(RuntimeError):
    """The controller has not been started (or has been stopped)."""


class Controller:
    def __init__(self, config: Config, *, clock: Clock | None = None, locks: LockBank | None = None,
                 tick_s: float = TICK_S, device_context: dict | None = None, rng: random.Random | None = None,
                 store_transport: httpx.AsyncBaseTransport | None = None):
        """``locks`` replaces the configured lock bank (tests); ``rng`` seeds the store
        link's backoff jitter; ``store_transport`` replaces its network (tests)."""
        self.config = config
        self.clock = clock or SystemClock()
        self.bus = EventBus()
        self._locks = locks
        self._tick_s = tick_s
        self._device_context = device_context or {}
        self.tasks: Supervisor | None = None
        self.evidence: EvidenceQueue       # from start(): door readings on their way to the books
        self.storage: StorageHealth        # from start(): is the database writable, is there room
        self.retention: Retention          # from start(): finished parcels and sent events kept so long
        self._on_change: Callable[[tuple[DoorChange, float]], None]
        self._notifier = Notifier()
        self._rng = rng
        self._store_transport = store_transport
        self._site: Site | None = None
        self.sync: Sync | None = None
        self.fleet: Fleet | None = None               # [fleet]: the MQTT link to the fleet's broker
        self.scanner: Scanner | None = None
        self.socket: ServiceServer | None = None      # screens in their own processes connect here
        self.metrics: MetricsServer | None = None     # [metrics] listen: the Prometheus endpoint
        self.desk_scanners: dict[str, Scanner] = {}   # the counter desk's own scanners, by URL
        self.scanner_errors: dict[str, str] = {}
        self.card_reader: CardReader | None = None   # [devices] card: the IC card reader (F3)
        self.fingerprint: BiometricMatcher | None = None   # [devices] biometric: the fingerprint sensor (F5)
        self.token_reader: Scanner | None = None   # [devices] token: the counter's token reader (F4)
        self.speaker: Speaker | None = None        # [devices] speech: spoken guidance (issue 15 §6)
        self._desk_cards: dict[str, ParcelCard] = {}  # a counter desk's verified card, until confirmed
        self.cash_error: str | None = None
        self.scans: ScanRouter | None = None
        self.started_at: float | None = None
        self.ready_s: float | None = None

    @property
    def site(self) -> Site:
        """The running site (database, lock bank, clock, bus). Raises NotStarted before
        ``start()`` and after ``stop()``."""
        if self._site is None:
            raise NotStarted("the controller is not running")
        return self._site

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        db = Database(self.config.database)
        locks = self._locks or registry.create("locks", self.config.devices["locks"], **self._device_context)
        early: list[tuple[DoorChange, float]] = []     # readings before the site is up
        self._on_change = early.append

        def on_change(change: DoorChange) -> None:   # a driver thread: stamp it, hop to the loop
            loop.call_soon_threadsafe(self._on_change, (change, self.clock.now()))
        locks.subscribe(on_change)
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
        site = self._site = Site(self.config, db, locks, self.clock, self.bus)
        self.evidence = EvidenceQueue(site, rng=self._rng)
        self.storage = StorageHealth(site, low_free_bytes=self.config.low_disk_bytes)
        self.retention = Retention(site, self.config.retention_s)
        self._ensure_lockers(site)
        manifest.drop_unneeded_hashes(site)
        self._reconcile(site)
        # Readings queued while we reconciled describe what we just read; duplicates are
        # harmless: door_reading() ignores a reading equal to the stored one.
        self._on_change = lambda item: self.evidence.put(*item)
        for item in early:
            self.evidence.put(*item)
        try:
            if self.config.manifest:
                manifest.import_parcels(site, manifest.load_file(self.config.manifest), str(self.config.manifest))
            if self.config.tags_key_file is not None and self.config.tags_store_public_key is not None:
                site.tag_keys = load_tag_keys(self.config.site_id, self.config.tags_key_file,
                                              self.config.tags_store_public_key)
            site_key = load_or_create_site_key(self.config.site_key_path)
            journal.set_pseudonym_key(derived_key(site_key, b"kiosk log pseudonyms"))
            if self.config.store.enabled:
                self.sync = Sync(site, site_key, rng=self._rng, transport=self._store_transport)
            if self.config.fleet.enabled:
                self.fleet = Fleet.for_site(site, health=self._site_status, pull_manifest=self.pull_manifest)
        except Exception:
            await self._close_site()
            raise
        self.scans = ScanRouter(site, self._online)
        self.tasks = Supervisor(self.clock, rng=self._rng)
        self.tasks.start("door-evidence", self.evidence.run)
        self.tasks.start("timers", self._ticker)
        self.tasks.start("scans", self.scans.run)
        if self.config.backup_dir is not None:
            self.tasks.start("backups", self._backups)
        if self.sync:
            self.sync.start()
        if self.fleet:
            self.fleet.start()
        await self._open_scanners(loop, site)
        self.card_reader = await self._open_optional(site, "card")
        self.fingerprint = await self._open_optional(site, "biometric")
        self.speaker = await self._open_optional(site, "speech")
        await self._open_cash(loop, site)
        if self.config.service_socket is not None:
            self.socket = ServiceServer(self, self.config.service_socket)
            await self.socket.start()
        if self.config.metrics_listen is not None:
            self.metrics = MetricsServer(self.config.metrics_listen, self.config.database, self.clock.now,
                                         devices=self.configured_devices)
            site.gate.observe = self.metrics.observe_check
        self.started_at = self.clock.now()
        self.ready_s = time.monotonic() - t0
        self._notifier.notify("READY=1", f"STATUS=ready: {len(site.locker_numbers)} lockers")
        self.bus.publish(EventKind.READY, self.clock.now(), lockers=len(site.locker_numbers))
        log.info("kioskd ready in %.3f s with %s", self.ready_s, locks)

    async def stop(self) -> None:
        self._notifier.notify("STOPPING=1")
        if self.tasks is not None:
            await self.tasks.stop()
        await self._close_site()

    async def _open_scanners(self, loop: asyncio.AbstractEventLoop, site: Site) -> None:
        """The site's scanner (recipients at the lockers: phone codes) and the counter desk's
        own scanners (labels and tags; issue 8 §7: the desk accepts them from no other
        device). A scanner that cannot be opened does not stop the lockers: it is logged,
        reported to the store and shown in status."""
        kiosk_url = self.config.devices.get("scanner")
        desk_urls = self.config.desk_scanners
        if kiosk_url:
            self.scanner = await self._open_one_scanner(loop, site, kiosk_url,
                                                        desk=DEFAULT_DESK if kiosk_url in desk_urls else None)
        for url in desk_urls:
            scanner = self.scanner if url == kiosk_url else \
                await self._open_one_scanner(loop, site, url, desk=DEFAULT_DESK)
            if scanner is not None:
                self.desk_scanners[url] = scanner
        token_url = self.config.devices.get("token")   # the counter's token reader (F4): its reads are token ids
        if token_url:
            self.token_reader = await self._open_one_scanner(loop, site, token_url, desk=DEFAULT_DESK, role="token")

    async def _open_one_scanner(self, loop: asyncio.AbstractEventLoop, site: Site, url: str, *,
                                desk: str | None, role: str = "scanner") -> Scanner | None:
        router = self.scans
        assert router is not None
        try:
            scanner = registry.create(role, url, **self._device_context)
            scanner.subscribe(lambda scan: loop.call_soon_threadsafe(router.feed, scan, desk))
            await asyncio.to_thread(scanner.open)
        except DeviceError as err:
            log.error("%s %s unavailable: %s", role, url, err)
            with site.db.transaction(self.clock.now()) as tx:
                tx.emit("device_health", None, component=role, problem=str(err), at=self.clock.now())
                tx.audit("kioskd", "device_unavailable", role, reason=str(err))
            self.scanner_errors[url] = str(err)
            return None
        return scanner

    @property
    def scanner_error(self) -> str | None:
        """Why the site's scanner (``devices.scanner``) did not open, if it did not."""
        url = self.config.devices.get("scanner")
        return self.scanner_errors.get(url) if url else None

    async def _open_optional(self, site: Site, role: str):
        """The device of ``role`` in ``[devices]`` (the IC card reader, the fingerprint
        sensor), opened, or None: like the scanner, one that cannot be opened is reported
        and does not stop the lockers."""
        url = self.config.devices.get(role)
        if not url:
            return None
        try:
            device = registry.create(role, url, **self._device_context)
            await asyncio.to_thread(device.open)
        except DeviceError as err:
            log.error("%s device %s unavailable: %s", role, url, err)
            with site.db.transaction(self.clock.now()) as tx:
                tx.emit("device_health", None, component=role, problem=str(err), at=self.clock.now())
                tx.audit("kioskd", "device_unavailable", role, reason=str(err))
            return None
        return device

    async def _open_cash(self, loop: asyncio.AbstractEventLoop, site: Site) -> None:
        """The payment slot's cash devices, when configured: they resume after the last event
        counted, then the books are squared with them (kiosk.service.payment.recover).
        Devices that cannot be opened leave the lockers working: parcels with money due are
        then paid at the counter."""
        url = self.config.devices.get("cash")
        if not url or self.tasks is None:
            return
        queue: asyncio.Queue = asyncio.Queue()
        try:
            cash = registry.create("cash", url, **self._device_context)
            cash.resume(payment_books.counters(site.db))
            cash.subscribe(lambda event: loop.call_soon_threadsafe(queue.put_nowait, event))
            await asyncio.to_thread(cash.open)
        except DeviceError as err:
            log.error("cash devices %s unavailable: %s", url, err)
            with site.db.transaction(self.clock.now()) as tx:
                tx.emit("device_health", None, component="cash", problem=str(err), at=self.clock.now())
                tx.audit("kioskd", "device_unavailable", "cash", reason=str(err))
            self.cash_error = str(err)
            return
        site.cash = cash
        self.tasks.start("cash", lambda: payment.run(site, queue))
        site.payments.spawn(payment.recover(site))  # the books squared with the devices, now open

    async def _close_site(self) -> None:
        if self.fleet is not None:   # first: no remote command may reach devices being closed
            await self.fleet.stop()
            self.fleet = None
        if self.metrics is not None:
            await asyncio.to_thread(self.metrics.close)
            self.metrics = None
        site = self._site
        if site is not None and site.cash is not None:
            await site.payments.stop()
            await asyncio.to_thread(site.cash.close)
            site.cash = None
        if self.socket is not None:
            await self.socket.close()
            self.socket = None
        for device in (self.card_reader, self.fingerprint, self.speaker):
            if device is not None:
                await asyncio.to_thread(device.close)
        self.card_reader = self.fingerprint = self.speaker = None
        readers = [self.scanner, self.token_reader, *self.desk_scanners.values()]
        for scanner in {id(s): s for s in readers if s is not None}.values():
            await asyncio.to_thread(scanner.close)
        self.scanner, self.token_reader, self.desk_scanners = None, None, {}
        if self.sync:
            await self.sync.stop()
            self.sync = None
        site, self._site = self._site, None
        if site is not None:
            await asyncio.to_thread(site.locks.close)
            site.hasher.shutdown(wait=True)
            site.db.close()

    async def __aenter__(self) -> Controller:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _online(self) -> OnlineVerifier | None:
        return self.sync.verifier if self.sync else None

    @staticmethod
    def _ensure_lockers(site: Site) -> None:
        missing = [n for n in site.locker_numbers if site.db.locker(n) is None]
        if missing:
            with site.db.transaction(site.now()) as tx:
                for n in missing:
                    tx.save_locker(Locker(n))
                tx.audit("kioskd", "lockers_installed", None, numbers=missing)

    @staticmethod
    def _reconcile(site: Site) -> None:
        """Square the books with the doors as the lock bank reads them now."""
        states, occupancy = site.locks.door_states(), site.locks.occupancy()
        for n in site.locker_numbers:
            outcome = doors.on_restart(site, n, states[n].value, occupancy.get(n))
            if outcome.value != "nothing":
                log.warning("locker %s at start-up: %s", n, outcome.value)

    async def _backups(self) -> None:
        """[backup]: one at start, then every ``every_h`` (wall-clock time)."""
        while True:
            try:
                await self.backup_now()
            except StorageError as err:
                log.error("backup failed: %s", err)
                with self.site.db.transaction(self.clock.now()) as tx:
                    tx.emit("device_health", None, component="backup", problem=str(err)[:300], at=self.clock.now())
            await asyncio.sleep(self.config.backup_every_s)

    async def backup_now(self) -> Path:
        """An online backup into ``[backup] dir`` (kiosk.storage.backup), checked, the
        oldest beyond ``keep`` removed; audited. Returns its path. Raises StorageError."""
        folder = self.config.backup_dir
        if folder is None:
            raise StorageError("no [backup] dir is configured")
        checked = await asyncio.to_thread(backup.make, self.config.database, folder, self.clock.now(),
                                          self.config.backup_keep)
        with self.site.db.transaction(self.clock.now()) as tx:
            tx.audit("kioskd", "backup_made", None, file=checked.path.name, audit_entries=checked.entries)
        log.info("backup %s (%d audit entries verified)", checked.path, checked.entries)
        return checked.path

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                self.tick()
            except Exception:
                log.exception("timer tick failed")

    # --- in-process hooks (tests, scenarios, benchmarks; not the service API) ------------

    def tick(self) -> None:
        """Run the timers now (the ticker does this every TICK_S; scenarios call it directly).
        While door readings wait to be written, or the database refuses writes, the door
        and holding timers hold off: a door whose opening is not yet in the books would look
        jammed, and nothing they would record could be written anyway."""
        site = self.site
        self.storage.check()
        if not self.evidence.pending and site.db.failing is None:
            doors.on_tick(site)
            holding.sweep(site)
            payment.expire(site)
            self.retention.tick()
        if self.sync:
            self.sync.poke()  # the clock has moved: a retry or a pull may be due
        self._notifier.notify("WATCHDOG=1")

    async def settle(self) -> None:
        """Wait until every door change and scan reported so far has been applied."""
        await self.evidence.settle()
        if self.scans is not None:
            await self.scans.settle()
        await asyncio.sleep(0)

    def import_manifest(self, parcels: list[Parcel], source: str) -> int:
        return manifest.import_parcels(self.site, parcels, source)

    async def counter_present(self, payload: bytes, *, desk: str = DEFAULT_DESK, source: str = "scan") -> DeskState:
        """One read as if from the desk's own scanner: the simulator's panels and tests use
        it in process. Not part of the service API: no screen can present a read."""
        return (await counter.present(self.site, payload, desk=desk, source=source)).state

    async def pay_at_locker(self, trade_number: str, secret: str) -> PaymentSession:
        """Verify and open a cash payment (kiosk.service.payment.start); the door opens when
        it is complete."""
        return await payment.start(self.site, trade_number, secret, online=self._online())

    async def cancel_payment(self, payment_id: str) -> PaymentSession:
        return await payment.cancel(self.site, payment_id)

    def status(self) -> dict:
        """``site_status`` as plain data (tests and scenarios read it like `kiosk status --json`)."""
        return dataclasses.asdict(self._site_status())

    # --- the service API: every screen ----------------------------------------------------

    def subscribe(self) -> Subscription:
        return self.bus.subscribe()

    def ui_settings(self) -> UiSettings:
        config = self.config
        return UiSettings(site_id=config.site_id, languages=config.ui_languages,
                          inactivity_s=config.ui_inactivity_s, reads_codes=bool(config.devices.get("scanner")),
                          counter_methods=counter.COUNTER_METHODS, staff_contact=dict(config.staff_contact),
                          pays_cash=bool(config.devices.get("cash")), reads_cards=bool(config.devices.get("card")),
                          reads_fingers=bool(config.devices.get("biometric")),
                          speaks=bool(config.devices.get("speech")))

    # --- recipient and courier -------------------------------------------------------------

    async def check_trade_number(self, trade_number: str) -> str:
        return pickup.check_trade_number(self.site, trade_number).method

    async def submit_code(self, trade_number: str, secret: str) -> DoorOpening:
        return await pickup.submit_code(self.site, trade_number, secret, online=self._online())

    async def drop_off(self, trade_number: str, code: str) -> DoorOpening:
        return await dropoff.drop_off(self.site, trade_number, code)

    async def collection_round(self, token: str) -> tuple[RoundItem, ...]:
        self.site.couriers.courier_of(token, self.site.now())
        return dropoff.round_items(self.site)

    async def open_for_round(self, token: str, locker: int) -> DoorOpening:
        courier = self.site.couriers.courier_of(token, self.site.now())
        return await dropoff.open_for_round(self.site, courier, locker)

    async def speak(self, text: str, language: str) -> None:
        await speech.speak(self.speaker, text, language)

    async def reopen(self, trade_number: str) -> DoorOpening:
        return await reopen.reopen(self.site, trade_number)

    async def submit_card(self, trade_number: str, pin: str) -> DoorOpening:
        """F3 at a locker: the parcel card in the reader, its PIN typed (kiosk.service.card_pickup).
        The card is reset afterwards whatever happened, so no verified PIN outlives the attempt."""
        reader = self.card_reader
        if reader is None:
            raise SeeStaff("there is no card reader here; please see staff")
        try:
            return await card_pickup.submit_card(self.site, registry.parcel_card(reader), trade_number, pin)
        finally:
            await asyncio.to_thread(reader.release)

    async def submit_finger(self, trade_number: str) -> DoorOpening:
        """F5 at a locker: the finger on the sensor, matched here or at the store
        (kiosk.service.finger_pickup)."""
        return await finger_pickup.submit_finger(self.site, self.fingerprint, self.sync.client if self.sync else None,
                                                 trade_number)

    async def counter_collect_card(self, clerk_id: str) -> CollectedCard:
        """The clerk takes a used parcel card back for the store (kiosk.service.card_return)."""
        reader = self.card_reader
        if reader is None:
            raise SeeStaff("there is no card reader here")
        try:
            return await card_return.collect(self.site, registry.parcel_card(reader), clerk_id)
        finally:
            await asyncio.to_thread(reader.release)

    async def courier_login(self, code: str) -> CourierSession:
        return await deposit.courier_login(self.site, code)

    async def deposit(self, token: str, trade_number: str) -> DoorOpening:
        return await deposit.deposit(self.site, token, trade_number)

    async def courier_logout(self, token: str) -> None:
        deposit.courier_logout(self.site, token)

    # --- the counter (F1/F2 tags, plain secret): see kiosk.service.counter ----------------

    async def counter_enter(self, text: str, *, field: CounterField, desk: str = DEFAULT_DESK) -> CounterAnswer:
        return await counter.enter(self.site, text, field=field, desk=desk, online=self._online())

    async def counter_verify(self, secret: str | None = None, *, trade_number: str | None = None,
                             desk: str = DEFAULT_DESK) -> CounterTicket:
        return await counter.verify(self.site, secret, trade_number=trade_number, desk=desk, online=self._online())

    async def counter_confirm(self, clerk_id: str, ticket: str, *, desk: str = DEFAULT_DESK,
                              cash_received: int | None = None) -> str:
        card = self._desk_cards.pop(desk, None)
        if card is None:
            return counter.confirm(self.site, clerk_id, ticket, desk=desk, cash_received=cash_received)
        try:   # an IC-card hand-over: the card signs now (kiosk.service.card_counter)
            return await card_counter.confirm_card(self.site, clerk_id, ticket, card, desk=desk,
                                                   cash_received=cash_received)
        finally:
            await self._release_card()

    async def counter_verify_card(self, pin: str, *, desk: str = DEFAULT_DESK) -> CounterTicket:
        """F3 at the counter: the card in the reader against the label the desk has read.
        The card stays connected (armed for one signature) until the clerk confirms."""
        reader = self.card_reader
        if reader is None:
            raise SeeStaff("there is no card reader here; please see staff")
        self._desk_cards.pop(desk, None)
        await self._release_card()
        card = registry.parcel_card(reader)
        try:
            ticket = await card_counter.verify_card(self.site, card, pin, desk=desk)
        except BaseException:
            await self._release_card()
            raise
        self._desk_cards[desk] = card
        return ticket

    async def counter_verify_finger(self, *, desk: str = DEFAULT_DESK) -> CounterTicket:
        """F5 at the counter: the finger on the sensor against the label the desk has read
        (kiosk.service.finger_counter)."""
        return await finger_counter.verify_finger(self.site, self.fingerprint, self.sync.client if self.sync else None,
                                                  desk=desk)

    async def _release_card(self) -> None:
        if self.card_reader is not None:
            await asyncio.to_thread(self.card_reader.release)

    async def counter_cancel(self, *, desk: str = DEFAULT_DESK) -> DeskState:
        if self._desk_cards.pop(desk, None) is not None:
            await self._release_card()
        return counter.cancel(self.site, desk)

    async def counter_desk(self, *, desk: str = DEFAULT_DESK) -> DeskState:
        return counter.desk_state(self.site, desk)

    async def counter_receive(self, clerk_id: str, trade_number: str) -> None:
        counter.receive(self.site, clerk_id, trade_number)

    # --- clerk ----------------------------------------------------------------------------

    async def clerk_open_locker(self, clerk_id: str, number: int) -> str:
        return await clerk.open_locker(self.site, clerk_id, number)

    async def clerk_reset_attempts(self, clerk_id: str, trade_number: str) -> None:
        clerk.reset_attempts(self.site, clerk_id, trade_number)

    async def clerk_hand_over(self, clerk_id: str, trade_number: str, reason: str, *,
                              payment_taken: bool = False) -> None:
        clerk.hand_over(self.site, clerk_id, trade_number, reason, payment_taken=payment_taken)

    async def clerk_set_in_service(self, clerk_id: str, number: int, in_service: bool, reason: str = "") -> None:
        clerk.set_in_service(self.site, clerk_id, number, in_service, reason)

    async def clerk_extend_hold(self, clerk_id: str, trade_number: str) -> float:
        return extension.extend(self.site, trade_number, f"clerk:{clerk_id}").hold_deadline or 0.0

    async def extend_hold(self, trade_number: str, secret: str) -> float:
        parcel, _ = await pickup.verify_recipient(self.site, trade_number, secret, online=self._online(),
                                                  allow_due=True)
        return extension.extend(self.site, parcel.trade_number, "recipient").hold_deadline or 0.0

    async def clerk_acknowledge_alarm(self, clerk_id: str, event_id: str) -> None:
        clerk_overview.acknowledge(self.site, clerk_id, event_id)

    async def clerk_overview(self) -> ClerkOverview:
        return clerk_overview.overview(self.site)

    async def clerk_mark_returned(self, clerk_id: str, trade_number: str) -> None:
        clerk.mark_returned(self.site, clerk_id, trade_number)

    async def returns(self) -> tuple[ReturnItem, ...]:
        return status.returns(self.site.db)

    # --- technician -----------------------------------------------------------------------

    async def site_status(self) -> SiteStatus:
        return self._site_status()

    def _site_status(self) -> SiteStatus:
        site = self.site
        storage = StorageStatus(site.db.failing is None, site.db.failing, site.db.failing_since,
                                self.storage.free_bytes, self.evidence.pending)
        tasks = tuple(TaskStatus(h.name, h.running, h.restarts, h.last_error, h.last_error_at)
                      for h in (self.tasks.health.values() if self.tasks else ()))
        return status.site_status(site.db, self.config, devices=self.device_statuses(), live=True, storage=storage,
                                  tasks=tasks)

    def configured_devices(self) -> list[tuple[str, str, object | None, str]]:
        """Every configured device as (role, url, the open device or None, why not open)."""
        site = self.site
        devices: list[tuple[str, str, object | None, str]] = [("locks", site.locks.url, site.locks, "")]
        scanner_url = self.config.devices.get("scanner")
        for role, url, scanner in ([("scanner", scanner_url, self.scanner)] if scanner_url else []) + \
                [("desk scanner", url, self.desk_scanners.get(url)) for url in self.config.desk_scanners
                 if url != scanner_url]:
            devices.append((role, url, scanner, self.scanner_errors.get(url, "not open")))
        optional: tuple[tuple[str, object], ...] = (("card", self.card_reader), ("token", self.token_reader),
                                                     ("biometric", self.fingerprint), ("cash", site.cash),
                                                     ("speech", self.speaker))
        for role, device in optional:
            if wanted := self.config.devices.get(role):
                devices.append((role, wanted, device, (self.cash_error if role == "cash" else None) or "not open"))
        return devices

    def device_statuses(self) -> tuple[DeviceStatus, ...]:
        """Every configured device, open or not (from memory only: the metrics thread asks too)."""
        return tuple(DeviceStatus(role, url, device is not None, repr(device) if device is not None else why)
                     for role, url, device, why in self.configured_devices())

    async def device_traffic(self, role: str, limit: int = 200) -> DeviceTraffic:
        found = [d for d in self.configured_devices() if d[0] == role]
        if not found:
            raise UnknownDevice(f"no device in the role {role!r} here")
        return traffic.of(*found[0], limit=limit)

    async def pull_manifest(self) -> ManifestPullResult:
        if not self.sync:
            raise ConfigError([("store.url", "no store is configured")], str(self.config.path))
        result = await self.sync.pull_now()
        return ManifestPullResult(result.pages, result.added, result.cancelled)
