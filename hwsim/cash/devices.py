"""Emulated ccTalk cash devices: a coin acceptor, a bill validator with escrow, a hopper.

Each answers ccTalk headers as the real device does (``handle``) and has the controls a
test or a technician needs to play the customer and the faults: insert a coin or a note,
a counterfeit, a note jammed in escrow, a full or removed cash box, an empty or jammed
hopper, a power cut (the event counter goes back to 0 and the buffer is lost), a coin on
a string or a note pulled back after credit (the fraud shows in the event log only).

Nothing here does I/O: ``hwsim.cash.bus`` carries the frames over a pty.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque

from drivers.cash import cctalk_codec as codec

Reply = tuple[int, bytes] | None  # (reply header, data); None: the device stays silent

YEN_COINS = {1: "JP010A", 2: "JP050A", 3: "JP100A", 4: "JP500A"}
YEN_BILLS = {1: "JP0100A", 2: "JP0200A", 3: "JP0500A", 4: "JP1000A"}  # × scaling 10
YEN_SCALING = 10


class CcTalkDeviceSim:
    """What every ccTalk device answers: poll, identification, serial, reset."""

    category = "Unknown"

    def __init__(self, address: int, *, serial: int, manufacturer: str = "HWS", product: str = "SIM",
                 crc: bool = False):
        self.address = address
        self.serial = serial
        self.manufacturer = manufacturer
        self.product = product
        self.crc = crc
        self.lock = threading.RLock()  # the bus thread and the console both touch a device
        self.counts: Counter[str] = Counter()

    def handle(self, header: int, data: bytes) -> Reply:
        with self.lock:
            self.counts[codec.HEADER_NAMES.get(header, str(header))] += 1
            if header == codec.H_SIMPLE_POLL:
                return codec.ACK, b""
            if header == codec.H_EQUIPMENT_CATEGORY:
                return codec.ACK, self.category.encode()
            if header == codec.H_MANUFACTURER:
                return codec.ACK, self.manufacturer.encode()
            if header == codec.H_PRODUCT_CODE:
                return codec.ACK, self.product.encode()
            if header == codec.H_SERIAL_NUMBER:
                return codec.ACK, self.serial.to_bytes(3, "little")
            if header == codec.H_SOFTWARE_REVISION:
                return codec.ACK, b"hwsim-1"
            if header == codec.H_RESET_DEVICE:
                self.power_cut()
                return codec.ACK, b""
            return self._handle(header, data)

    def _handle(self, header: int, data: bytes) -> Reply:
        return codec.NAK, b""  # a header this device does not implement

    def power_cut(self) -> None:
        """Power off and on: volatile state is lost."""


class _EventDevice(CcTalkDeviceSim, ABC):
    """A device with an event buffer (229 or 159), inhibits and a master inhibit."""

    def __init__(self, address: int, positions: dict[int, str], **kw):
        super().__init__(address, **kw)
        self.positions = dict(positions)
        self.log: list[tuple[int, int, int]] = []  # (counter, A, B): every event ever, power cuts too
        self.power_cut()

    def power_cut(self) -> None:
        with self.lock:
            self.counter = 0
            self.buffer: deque[tuple[int, int]] = deque(maxlen=codec.EVENT_SLOTS)  # newest first
            self.enabled: set[int] = set()
            self.master = False  # master inhibit active: nothing accepted (ccTalk's power-up default)

    def push(self, a: int, b: int) -> int:
        """Record one event; return its counter value."""
        with self.lock:
            self.counter = codec.next_counter(self.counter)
            self.buffer.appendleft((a, b))
            self.log.append((self.counter, a, b))
            return self.counter

    def position_of(self, value: int) -> int | None:
        return next((p for p, ident in self.positions.items() if self.value_of(ident) == value), None)

    @abstractmethod
    def value_of(self, ident: str) -> int | None:
        """The value (minor units) of the coin or note ``ident`` (the acceptor's or the validator's codec)."""

    def accepting(self, position: int) -> bool:
        return self.master and position in self.enabled

    def _common(self, header: int, data: bytes) -> Reply:
        if header == codec.H_MODIFY_INHIBIT and len(data) == 2:
            self.enabled = codec.enabled_positions(data)
            return codec.ACK, b""
        if header == codec.H_REQUEST_INHIBIT:
            return codec.ACK, codec.inhibit_mask(self.enabled)
        if header == codec.H_MODIFY_MASTER_INHIBIT and len(data) == 1:
            self.master = bool(data[0] & 1)
            return codec.ACK, b""
        if header == codec.H_REQUEST_MASTER_INHIBIT:
            return codec.ACK, bytes([int(self.master)])
        return codec.NAK, b""


class CoinAcceptorSim(_EventDevice):
    category = "Coin Acceptor"

    def __init__(self, address: int = codec.ADDR_COIN_ACCEPTOR, coins: dict[int, str] | None = None, **kw):
        kw.setdefault("serial", 0x0A0B0C)
        super().__init__(address, coins or YEN_COINS, **kw)

    def value_of(self, ident: str) -> int | None:
        return codec.coin_value(ident)

    def insert(self, value: int) -> str:
        """A customer drops a coin of ``value``; return what the acceptor did."""
        with self.lock:
            position = self.position_of(value)
            if position is None:
                self.push(0, 1)  # reject coin: not a coin this acceptor knows
                return "rejected"
            if not self.accepting(position):
                self.push(0, 2)  # inhibited coin
                return "inhibited"
            self.push(position, 1)  # sorter path 1
            return "accepted"

    def counterfeit(self) -> None:
        self.push(0, 1)

    def coin_on_string(self, value: int) -> str:
        """A coin is credited, then pulled back up the chute: the credit stands (the acceptor
        saw it pass the credit sensor) and the alarm follows. The host must count one coin."""
        outcome = self.insert(value)
        if outcome == "accepted":
            self.push(0, 20)
        return outcome

    def _handle(self, header: int, data: bytes) -> Reply:
        if header == codec.H_READ_BUFFERED_CREDIT:
            return codec.ACK, codec.encode_event_buffer(self.counter, list(self.buffer))
        if header == codec.H_REQUEST_COIN_ID and len(data) == 1:
            return codec.ACK, self.positions.get(data[0], "......").encode()
        return self._common(header, data)


class BillValidatorSim(_EventDevice):
    category = "Bill Validator"

    def __init__(self, address: int = codec.ADDR_BILL_VALIDATOR, bills: dict[int, str] | None = None,
                 scaling: int = YEN_SCALING, country: str = "JP", **kw):
        kw.setdefault("serial", 0x123456)
        self.scaling, self.country = scaling, country
        super().__init__(address, bills or YEN_BILLS, **kw)
        self.jam_in_escrow = False
        self.stacker = "ok"  # ok | full | removed
        self.stacked: list[int] = []  # bill values in the cash box

    def power_cut(self) -> None:
        with self.lock:
            super().power_cut()
            self.escrow_mode = False
            # A note held in escrow when the power goes is pushed back out to the customer
            # by the validator's own start-up, as real validators do.
            self.escrow: int | None = None

    def value_of(self, ident: str) -> int | None:
        return codec.bill_value(ident, self.scaling)

    def insert(self, value: int) -> str:
        """A customer feeds a note of ``value``; return what the validator did."""
        with self.lock:
            if self.stacker != "ok":
                self.push(0, 11 if self.stacker == "removed" else 14)
                return f"refused: stacker {self.stacker}"
            if self.escrow is not None:
                return "refused: a note is already in escrow"
            position = self.position_of(value)
            if position is None:
                self.push(0, 2)  # invalid bill
                return "rejected"
            if not self.master:
                self.push(0, 0)  # master inhibit active
                return "inhibited"
            if position not in self.enabled:
                self.push(0, 4)
                return "inhibited"
            if self.escrow_mode:
                self.escrow = position
                self.push(position, codec.BILL_ESCROW)
                return "escrow"
            self._stack(position)
            return "stacked"

    def counterfeit(self) -> None:
        self.push(0, 2)

    def pull_back(self) -> None:
        """The fraud of a note on a string: pulled back after it was stacked and credited.
        The validator reports it; the credit already given must not be repeated."""
        self.push(0, 8)

    def set_stacker(self, state: str) -> None:
        if state not in ("ok", "full", "removed"):
            raise ValueError("stacker state is ok, full or removed")
        with self.lock:
            before, self.stacker = self.stacker, state
            if state != before:
                self.push(0, {"ok": 12 if before == "removed" else 10, "full": 14, "removed": 11}[state])

    def _stack(self, position: int) -> None:
        self.push(position, codec.BILL_STACKED)
        self.stacked.append(self.value_of(self.positions[position]) or 0)

    def _handle(self, header: int, data: bytes) -> Reply:
        if header == codec.H_READ_BUFFERED_BILL_EVENTS:
            return codec.ACK, codec.encode_event_buffer(self.counter, list(self.buffer))
        if header == codec.H_REQUEST_BILL_ID and len(data) == 1:
            return codec.ACK, self.positions.get(data[0], ".......").encode()
        if header == codec.H_REQUEST_COUNTRY_SCALING and len(data) == 2:
            if data.decode("ascii", "replace") != self.country:
                return codec.ACK, b"\x00\x00\x00"
            return codec.ACK, self.scaling.to_bytes(2, "little") + b"\x00"
        if header == codec.H_MODIFY_BILL_OPERATING_MODE and len(data) == 1:
            self.escrow_mode = bool(data[0] & 0x02)
            return codec.ACK, b""
        if header == codec.H_ROUTE_BILL and len(data) == 1:
            return self._route(data[0])
        return self._common(header, data)

    def _route(self, code: int) -> Reply:
        if self.escrow is None:
            return codec.ACK, bytes([codec.ROUTE_ESCROW_EMPTY])
        if code == codec.ROUTE_EXTEND:
            return codec.ACK, b""
        if self.jam_in_escrow:
            self.push(0, 16)  # jammed in transport (safe mode): the note is neither stacked nor out
            return codec.ACK, bytes([codec.ROUTE_FAILED])
        if code == codec.ROUTE_STACK:
            if self.stacker != "ok":
                return codec.ACK, bytes([codec.ROUTE_FAILED])
            position, self.escrow = self.escrow, None
            self._stack(position)
            return codec.ACK, b""
        if code == codec.ROUTE_RETURN:
            self.escrow = None
            self.push(0, codec.BILL_RETURNED)
            return codec.ACK, b""
        return codec.NAK, b""


class HopperSim(CcTalkDeviceSim):
    """A single-coin hopper with serial-number dispense security (167 = [serial × 3][N]).

    A payout runs at ``coins_per_s`` of emulated time, computed when the hopper is asked
    (no thread): each 166 reading shows how far it got. ``jam_after(n)`` jams the exit after
    ``n`` more coins; running out of coins ends the payout with a timeout, as a real hopper's
    exit opto sees nothing more."""

    category = "Payout"

    def __init__(self, address: int = codec.ADDR_HOPPER, coin: str = "JP100A", coins: int = 50,
                 coins_per_s: float = 400.0, clock=time.monotonic, **kw):
        kw.setdefault("serial", 0x00C0FE)
        super().__init__(address, **kw)
        self.coin = coin
        self.coins = coins  # in the hopper's bowl
        self.coins_per_s = coins_per_s
        self.clock = clock
        self.jam_in: int | None = None
        self.paid_out = 0  # every coin that ever left, for tests
        self.power_cut()

    @property
    def value(self) -> int:
        return codec.coin_value(self.coin) or 0

    def power_cut(self) -> None:
        with self.lock:
            self.counter = 0
            self.remaining = self.paid = self.unpaid = 0
            self.enabled = False
            self.register1 = codec.HOPPER_POWER_UP | codec.HOPPER_DISABLED
            self._started: float | None = None

    def jam_after(self, n: int | None) -> None:
        """Jam the exit after ``n`` more coins (None: clear the jam)."""
        with self.lock:
            self.advance()
            self.jam_in = n
            if n is None:
                self.register1 &= ~codec.HOPPER_OPTO_BLOCKED

    def advance(self) -> None:
        """Move the payout on to now."""
        with self.lock:
            if not self.remaining or self._started is None:
                return
            due = int((self.clock() - self._started) * self.coins_per_s) - self.paid
            for _ in range(max(0, due)):
                if self.jam_in == 0:
                    self._stop(codec.HOPPER_OPTO_BLOCKED)
                    return
                if self.coins == 0:
                    self._stop(codec.HOPPER_PAYOUT_TIMEOUT)
                    return
                self.coins -= 1
                self.paid += 1
                self.paid_out += 1
                self.remaining -= 1
                if self.jam_in is not None:
                    self.jam_in -= 1
                if not self.remaining:
                    self._started = None
                    return

    def _stop(self, flag: int) -> None:
        self.register1 |= flag
        self.unpaid, self.remaining, self._started = self.remaining, 0, None

    def _handle(self, header: int, data: bytes) -> Reply:
        self.advance()
        if header == codec.H_REQUEST_HOPPER_COIN:
            return codec.ACK, self.coin.encode()
        if header == codec.H_ENABLE_HOPPER and len(data) == 1:
            self.enabled = data[0] == codec.ENABLE_HOPPER
            self.register1 = (self.register1 & ~codec.HOPPER_DISABLED) | (0 if self.enabled else codec.HOPPER_DISABLED)
            return codec.ACK, b""
        if header == codec.H_REQUEST_HOPPER_STATUS:
            return codec.ACK, bytes([self.counter, self.remaining, self.paid, self.unpaid])
        if header == codec.H_TEST_HOPPER:
            return codec.ACK, bytes([self.register1 & 0xFF, 0, 0])
        if header == codec.H_DISPENSE_HOPPER_COINS and len(data) == 4:
            if not self.enabled or data[:3] != self.serial.to_bytes(3, "little") or self.remaining:
                return codec.NAK, b""
            self.counter = codec.next_counter(self.counter)
            self.register1 &= ~(codec.HOPPER_PAYOUT_TIMEOUT | codec.HOPPER_OPTO_BLOCKED | codec.HOPPER_POWER_UP)
            self.remaining, self.paid, self.unpaid = data[3], 0, 0
            self._started = self.clock()
            self.advance()
            return codec.ACK, bytes([self.counter])
        return codec.NAK, b""
