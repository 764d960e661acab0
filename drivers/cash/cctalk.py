"""CashDevices driver for ccTalk coin acceptors, bill validators and hoppers on one bus.

The URL and what each of its parameters means: drivers/cash/cctalk_url.py.

The path goes to ``serial.serial_for_url``, so a pty (the emulator) works too.

One thread polls the event buffers (229, 159) and reports events in order; commands from
callers (accept, escrow, payout) share the bus with it one exchange at a time. A credit is
reported when its event first appears behind the last counter seen, and never again: see
docs/cash.md for the counting rule and how ``resume()`` carries it across a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import serial

from drivers.cash import cctalk_codec as codec
from drivers.cash import cctalk_events, cctalk_payout, cctalk_units, cctalk_url
from drivers.cash.cctalk_units import Unit
from drivers.cash.cctalk_link import CcTalkLink
from kiosk.devices.wire import WireLog
from drivers.cash.cctalk_payout import Hopper
from kiosk.devices.roles import CashEvent, CashEventKind, HopperState, PayoutResult
from kiosk.devices.url import DeviceURL
from kiosk.errors import (CashDeviceError, DeviceClosed, DeviceError, DeviceInitError, DeviceOperationError,
                          EscrowEmpty)

log = logging.getLogger(__name__)

OFFLINE_AFTER = 3              # failed polls in a row before a device is reported not answering


class CashDevicesCcTalk:
    """Coin acceptor, bill validator and hoppers on one ccTalk bus. See the module docstring.

    ``open()`` raises DeviceUnavailable, DeviceInitError; the commands raise DeviceClosed,
    DeviceTimeout, CashDeviceError (the device refused), EscrowEmpty."""

    def __init__(self, port: str, *, acceptor: int | None = codec.ADDR_COIN_ACCEPTOR,
                 validator: int | None = codec.ADDR_BILL_VALIDATOR, hoppers: tuple[int, ...] = (codec.ADDR_HOPPER,),
                 baud: int = 9600, echo: bool = True, crc: tuple[int, ...] = (), country: str = "JP",
                 coins: tuple[int, ...] | None = None, notes: tuple[int, ...] | None = None,
                 poll_ms: int = 200, timeout_ms: int = 100, retries: int = 2, url: str | None = None):
        addresses = [a for a in (acceptor, validator, *hoppers) if a is not None]
        if len(set(addresses)) != len(addresses) or any(not 2 <= a <= 255 for a in addresses):
            raise ValueError(f"device addresses must be distinct and in 2..255: {addresses}")
        if not addresses:
            raise ValueError("no cash device configured")
        self.url = url or f"cctalk+serial://{port}"
        self.port = port
        self.country = country
        self._taken = {"acceptor": coins, "validator": notes}  # values accepted (None: every one known)
        self._link = CcTalkLink(port, baud=baud, echo=echo, timeout_s=timeout_ms / 1000, retries=retries)
        self._poll_s = poll_ms / 1000
        units = [("acceptor", acceptor), ("validator", validator)] + [("hopper", h) for h in hoppers]
        self._units = [Unit(role, a, a in crc) for role, a in units if a is not None]
        self._subscribers: list[Callable[[CashEvent], None]] = []
        self._resume: dict[str, int] = {}
        self._accepting = False
        self._escrow: tuple[str, int] | None = None
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._is_open = False
        self._open_lock = threading.Lock()

    # --- URL --------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        """The keyword arguments the URL's query asks for. Raises DeviceURLError."""
        return cctalk_url.options(url)

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "CashDevicesCcTalk":
        """Build (not open) the devices a ``cctalk+serial://`` URL describes. Raises DeviceURLError."""
        url.require_port("cctalk+serial:///dev/ttyUSB1", "cctalk+serial")
        return cls(url.path, url=url.raw, **cls.options_from_url(url))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a cctalk+serial:// URL without opening anything. Raises DeviceURLError."""
        url.require_port("cctalk+serial:///dev/ttyUSB1", "cctalk+serial")
        cls.options_from_url(url)

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._is_open

    def resume(self, counters: dict[str, int]) -> None:
        """Before open(): the event counters stored with the last events acted on."""
        if self._is_open:
            raise DeviceOperationError("resume() must come before open()")
        self._resume = {k: int(v) for k, v in counters.items() if 0 <= int(v) <= 255}

    def open(self) -> None:
        """Open the port, identify and configure every device, money refused; start polling.
        Raises DeviceUnavailable, DeviceInitError."""
        with self._open_lock:
            if self._is_open:
                return
            self._link.open()
            try:
                for unit in self._units:
                    self._identify(unit)
                    self._configure(unit)
                    if unit.role in ("acceptor", "validator"):
                        unit.last = self._resume.get(unit.role)
                        if unit.last is None:  # no stored counter: what is in the buffer is history
                            unit.last = self._read_buffer(unit).counter
            except (DeviceError, serial.SerialException, OSError, codec.FrameError) as err:
                self._link.close()
                raise DeviceInitError(f"ccTalk bus on {self.port!r}: {err}") from err
            self._stop.clear()
            self._accepting = False
            self._thread = threading.Thread(target=self._run, name=f"cctalk-poll {self.port}", daemon=True)
            self._is_open = True
            self._thread.start()

    def close(self) -> None:
        with self._open_lock:
            if not self._is_open:
                return
            self._is_open = False
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            try:
                for unit in self._units:  # leave nothing able to take money
                    if unit.role != "hopper":
                        self._inhibit(unit, False)
            except (DeviceError, serial.SerialException, OSError) as err:
                log.warning("%s: could not inhibit on close: %s", self.port, err)
            finally:
                self._link.close()

    def __enter__(self) -> "CashDevicesCcTalk":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        devices = " ".join(f"{u.role}@{u.address}" for u in self._units)
        return f"<{type(self).__name__} {self.port!r} {devices} {'open' if self._is_open else 'closed'}>"

    # --- the role ---------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[CashEvent], None]) -> None:
        self._subscribers.append(callback)

    def accept(self, on: bool) -> None:
        self._check_open()
        self._accepting = on
        for unit in self._units:
            if unit.role != "hopper":
                self._inhibit(unit, on)

    def accept_escrow(self) -> None:
        self._route(codec.ROUTE_STACK)

    def return_escrow(self) -> None:
        self._route(codec.ROUTE_RETURN)

    def hoppers(self) -> list[HopperState]:
        self._check_open()
        states = []
        for unit in self._units:
            if unit.role == "hopper" and unit.values:
                status = codec.parse_hopper_status(self._ask(unit, codec.H_REQUEST_HOPPER_STATUS))
                states.append(HopperState(unit.address, unit.values[0][1], status.counter, status.remaining,
                                          status.paid, status.unpaid))
        return states

    def counters(self) -> dict[str, int]:
        with self._state:
            return {u.role: u.last for u in self._units if u.role != "hopper" and u.last is not None}

    @property
    def wire(self) -> WireLog:
        """The bus's last frames both ways and its round-trip times (the technician's view)."""
        return self._link.wire

    @property
    def stats(self) -> dict[str, int]:
        return self._link.stats

    def health(self) -> dict:
        with self._state:
            devices = {f"{u.role}@{u.address}": {"serial": u.serial, "manufacturer": u.manufacturer,
                                                "product": u.product, "answering": u.failures < OFFLINE_AFTER}
                       for u in self._units}
        return {"open": self._is_open, "accepting": self._accepting, "devices": devices, "link": self._link.stats}

    @property
    def escrow(self) -> int | None:
        """The value of the note held in escrow, if any."""
        with self._state:
            return self._escrow[1] if self._escrow else None

    def accepted(self) -> tuple[int, ...]:
        """The values taken (minor units, ascending): what the acceptor and validator reported
        at open, less what the URL's ``coins``/``notes`` leave out."""
        values = set()
        for unit in self._units:
            if unit.role in ("acceptor", "validator"):
                taken = self._taken.get(unit.role)
                values |= {value for _, value in unit.values.values() if taken is None or value in taken}
        return tuple(sorted(values))

    @property
    def coin_values(self) -> dict[int, int]:
        """Hopper address -> the value of the coin it pays."""
        return {u.address: u.values[0][1] for u in self._units if u.role == "hopper" and u.values}

    def payout(self, amount: int) -> PayoutResult:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise ValueError(f"cannot pay out {amount!r}")
        self._check_open()
        hoppers = [Hopper(u.address, u.serial, u.values[0][1]) for u in self._units if u.role == "hopper" and u.values]
        return cctalk_payout.payout(self._ask_at, hoppers, amount)

    # --- configuration ----------------------------------------------------------------------

    def _ask(self, unit: Unit, header: int, data: bytes = b"", repeat: bool = True) -> bytes:
        return self._link.exchange(unit.address, header, data, crc=unit.crc, repeat=repeat)

    def _ask_at(self, address: int, header: int, data: bytes = b"", repeat: bool = True) -> bytes:
        unit = next(u for u in self._units if u.address == address)
        return self._ask(unit, header, data, repeat)

    def _identify(self, unit: Unit) -> None:
        cctalk_units.identify(unit, self._ask)

    def _configure(self, unit: Unit) -> None:
        """Learn what the device takes or pays, and leave it refusing money."""
        cctalk_units.configure(unit, self._ask, self.country)
        if unit.role != "hopper":     # a hopper pays out; it has no coins to refuse
            self._inhibit(unit, False)

    def _inhibit(self, unit: Unit, on: bool) -> None:
        """Accept every known coin or note (on), or nothing: master inhibit and the mask both."""
        if on:
            taken = self._taken.get(unit.role)
            positions = {p for p, (_, value) in unit.values.items() if taken is None or value in taken}
            self._ask(unit, codec.H_MODIFY_INHIBIT, codec.inhibit_mask(positions))
            self._ask(unit, codec.H_MODIFY_MASTER_INHIBIT, b"\x01")
        else:
            self._ask(unit, codec.H_MODIFY_MASTER_INHIBIT, b"\x00")
            self._ask(unit, codec.H_MODIFY_INHIBIT, codec.inhibit_mask(set()))

    def _check_open(self) -> None:
        if not self._is_open:
            raise DeviceClosed(f"{self!r} is not open")

    def _unit(self, role: str) -> Unit | None:
        return next((u for u in self._units if u.role == role), None)

    # --- escrow -----------------------------------------------------------------------------

    def _route(self, code: int) -> None:
        self._check_open()
        unit = self._unit("validator")
        if unit is None:
            raise CashDeviceError("no bill validator on this bus", device="validator")
        # Repeating a route is harmless: a second one finds the escrow empty.
        answer = self._ask(unit, codec.H_ROUTE_BILL, bytes([code]))
        if answer[:1] == bytes([codec.ROUTE_ESCROW_EMPTY]):
            with self._state:
                held, self._escrow = self._escrow, None
            if held is None:
                raise EscrowEmpty("no note in escrow", device="validator")
            return  # an earlier attempt whose reply was lost did it
        if answer[:1] == bytes([codec.ROUTE_FAILED]):
            what = "stack" if code == codec.ROUTE_STACK else "return"
            raise CashDeviceError(f"the validator could not {what} the note in escrow", device="validator")
        with self._state:
            self._escrow = None

    # --- polling ----------------------------------------------------------------------------

    def _read_buffer(self, unit: Unit) -> codec.EventBuffer:
        header = codec.H_READ_BUFFERED_CREDIT if unit.role == "acceptor" else codec.H_READ_BUFFERED_BILL_EVENTS
        return codec.parse_event_buffer(self._ask(unit, header))

    def _run(self) -> None:
        pollable = [u for u in self._units if u.role != "hopper"]
        while not self._stop.is_set():
            for unit in pollable:
                if self._stop.is_set():
                    return
                try:
                    self._poll(unit)
                except (DeviceError, codec.FrameError, serial.SerialException, OSError) as err:
                    log.error("%s: polling %s failed: %s", self.port, unit.role, err)
                    self._emit(CashEvent(CashEventKind.FAULT, unit.role, detail=f"polling failed: {err}",
                                         monotonic=time.monotonic()))
                    self._stop.wait(1.0)
            self._stop.wait(self._poll_s)

    def _poll(self, unit: Unit) -> None:
        try:
            buffer = self._read_buffer(unit)
        except (DeviceError, codec.FrameError) as err:
            unit.failures += 1
            if unit.failures == OFFLINE_AFTER:
                self._emit(CashEvent(CashEventKind.FAULT, unit.role, detail=f"not answering: {err}",
                                     monotonic=time.monotonic()))
            return
        unit.failures = 0
        fresh = codec.new_events(unit.last, buffer)
        now = time.monotonic()
        events: list[CashEvent] = []
        if fresh.reset:
            events.append(CashEvent(CashEventKind.RESET, unit.role, counter=0, detail="device reset (power cut?)",
                                    monotonic=now))
            self._configure(unit)  # a reset device forgets its inhibits and escrow mode
            if self._accepting:
                self._inhibit(unit, True)
            with self._state:
                if unit.role == "validator":
                    self._escrow = None  # validators return a held note when they start
        if fresh.missed:
            events.append(CashEvent(CashEventKind.MISSED, unit.role, counter=buffer.counter, missed=fresh.missed,
                                    detail=f"{fresh.missed} event(s) lost between polls", monotonic=now))
        for age, (a, b) in zip(range(len(fresh.results) - 1, -1, -1), fresh.results, strict=True):
            event = cctalk_events.to_event(unit.role, unit.values, a, b, codec.counter_back(buffer.counter, age), now)
            if event is None:
                continue
            events.append(event)
            if unit.role == "validator" and event.kind in (CashEventKind.ESCROW, CashEventKind.CREDIT,
                                                           CashEventKind.RETURNED):
                with self._state:  # what the validator holds now
                    self._escrow = (event.denomination, event.amount) if event.kind is CashEventKind.ESCROW else None
        if self._accepting and any(cctalk_events.refused_as_inhibited(e) for e in events):
            # A device that lost power with its counter still at 0 gives no reset to see, but it
            # comes back inhibited: the first coin or note it refuses as such says so.
            log.warning("%s: %s refuses money while it should take it: enabling it again", self.port, unit.role)
            self._inhibit(unit, True)
        # The counter a subscriber stores with an event is that event's own, so a crash
        # between two of them resumes after the last one acted on.
        with self._state:
            unit.last = buffer.counter
        for event in events:
            self._emit(event)

    def _emit(self, event: CashEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a subscriber's bug must not stop the polling
                log.exception("cash-event subscriber failed on %s", event)
