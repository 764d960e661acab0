"""Device roles: one interface per role. The controller knows only these.

Drivers (``drivers/``) and emulated devices (``hwsim/``) implement them; the registry
(``kiosk.devices.registry``) picks one by URL scheme. Nothing here imports a driver.

Threading contract shared by every role: blocking I/O runs in threads the driver owns;
callbacks given to ``subscribe`` are called from those threads, so the controller hops
them onto its event loop with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from collections.abc import Callable

from kiosk.security.card_receipt import CardReceipt


class DoorState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # the sensor or the board cannot be read


@dataclass(frozen=True)
class DoorChange:
    """Evidence from a door sensor: door ``door`` (1-based within the bank) is now ``state``."""

    door: int
    state: DoorState
    monotonic: float  # time.monotonic() when the driver saw it
    detail: str = ""  # e.g. "board 1 not answering"


@runtime_checkable
class Device(Protocol):
    """What every device offers: explicit, idempotent open/close and a repr saying what and where."""

    url: str

    def open(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class LockBank(Device, Protocol):
    """A bank of locker doors: solenoid locks driven by pulses, and a sensor per door.

    ``open()`` drives every lock safe (de-energised) and reads every door before it
    returns. ``unlock(door)`` sends one pulse whose length the hardware (or the driver's
    own timer, for GPIO) bounds; it says nothing about whether the door moved: that
    evidence arrives only through ``subscribe``.
    """

    @property
    def door_count(self) -> int: ...

    def unlock(self, door: int) -> None:
        """Pulse the lock of ``door``. Raises DeviceClosed, DeviceTimeout, DeviceOperationError,
        ValueError for a door number outside 1..door_count."""

    def door_states(self) -> dict[int, DoorState]:
        """The last known state of every door (UNKNOWN where it cannot be read)."""

    def occupancy(self) -> dict[int, bool | None]:
        """What each compartment's occupancy sensor says: True a parcel is inside, False
        empty, None where the bank has no such sensor or cannot read it."""

    def make_safe(self) -> None:
        """De-energise every lock now."""

    def subscribe(self, callback: Callable[[DoorChange], None]) -> None:
        """Call ``callback`` (from a driver thread) on every change of a door's state."""


@dataclass(frozen=True)
class Scan:
    """One code read by a scanner: the payload exactly as read (bytes), what kind of code,
    which device read it and when (time.monotonic())."""

    data: bytes
    symbology: str          # "qr", "datamatrix", "code128", "ean13", ... or "unknown"
    source: str             # the device's URL
    monotonic: float


@runtime_checkable
class Scanner(Device, Protocol):
    """A barcode scanner: serial, USB keyboard-wedge, or a camera with a decoder.

    ``open()`` starts reading (in a driver-owned thread); every complete, well-framed
    code is delivered once to each subscriber. Garbage, partial frames and repeats of the
    same code within the driver's suppression window are dropped (and counted), never
    delivered. A device that goes away is reopened by the driver; while it is away the
    driver reports it through ``health()``."""

    def subscribe(self, callback: Callable[[Scan], None]) -> None: ...

    def health(self) -> dict: ...


@runtime_checkable
class BiometricMatcher(Device, Protocol):
    """A fingerprint module (F5). Blocking calls: the service runs them in a thread.

    ``verify(reference)`` matches the finger on the sensor against the store's reference
    template and returns a result with ``matched``, ``outcome`` (matched, no_match,
    no_finger, poor_image) and ``score``; ``capture()`` gives a finger's template for the
    store to match (or the result saying why there is none). Both wait ``timeout_s`` for a
    finger (None: the device's configured wait) and leave no template in the module."""

    def verify(self, reference: bytes, *, timeout_s: float | None = None) -> Any: ...

    def capture(self, *, timeout_s: float | None = None) -> Any: ...

    def wipe(self) -> None: ...


# A token reader (125 kHz RFID, NFC) delivers each tag's id as a Scan: the Scanner role.
TokenReader = Scanner


class CardPresence(enum.StrEnum):
    INSERTED = "inserted"
    REMOVED = "removed"


@dataclass(frozen=True)
class CardEvent:
    """A card was put into the reader (``atr`` is its Answer To Reset) or taken out."""

    presence: CardPresence
    reader: str             # the reader's name as PC/SC gives it
    atr: bytes
    monotonic: float


@runtime_checkable
class CardReader(Device, Protocol):
    """A contact (or contactless) IC card reader, e.g. over PC/SC.

    ``open()`` finds the reader by name and starts watching it (in a driver thread);
    every insertion and removal is delivered to each subscriber. ``transmit`` sends one
    command APDU and returns the complete response APDU (data + SW1 SW2): the transport
    rules (T=0 case 4, ``61xx`` GET RESPONSE, ``6Cxx`` re-send) are the driver's, so the
    caller sees one response per command whatever the protocol. The card is connected
    on the first ``transmit`` after it was inserted and released by ``release()`` or
    by its removal."""

    def subscribe(self, callback: Callable[[CardEvent], None]) -> None: ...

    @property
    def card_present(self) -> bool: ...

    def transmit(self, apdu: bytes) -> bytes:
        """Send ``apdu``; returns the response's data followed by SW1 SW2. Raises
        CardRemoved (no card, or pulled out meanwhile), DeviceClosed, DeviceOperationError."""

    def release(self) -> None:
        """Disconnect from the card (resetting it, so no PIN stays verified). Idempotent."""


    def health(self) -> dict: ...


class CashEventKind(enum.StrEnum):
    CREDIT = "credit"      # money taken: a coin accepted, a note stacked. Counted exactly once.
    ESCROW = "escrow"      # a note is held: the controller must accept_escrow() or return_escrow()
    RETURNED = "returned"  # the note in escrow went back to the customer
    REJECTED = "rejected"  # a coin or note refused (counterfeit, inhibited): nothing taken
    FRAUD = "fraud"        # the device saw a fraud pattern (coin on a string, note pulled back)
    FAULT = "fault"        # jam, cash box full or removed, a device not answering
    MISSED = "missed"      # events lost (the buffer overflowed between polls): count ``missed``
    RESET = "reset"        # the device was reset (power cut): its event counter started again


@dataclass(frozen=True)
class CashEvent:
    """One event from a cash device. ``counter`` is the device's event counter with this
    event; storing it with whatever the event caused (in one transaction) and passing the
    stored counters to ``resume()`` after a restart is what makes every credit count once."""

    kind: CashEventKind
    device: str             # "acceptor", "validator" or "hopper"
    amount: int = 0         # minor units: the coin or note, for credit and escrow
    denomination: str = ""  # the device's id for it, e.g. "JP100A"
    counter: int = 0
    code: int = 0           # the device's status/error code for the other kinds
    detail: str = ""
    missed: int = 0
    monotonic: float = 0.0


class PayoutStatus(enum.StrEnum):
    PAID = "paid"        # all of it
    SHORT = "short"      # some of it; the hopper stopped for another reason
    EMPTY = "empty"      # the hopper ran out: ``unpaid`` is owed
    JAMMED = "jammed"    # the hopper jammed: ``unpaid`` is owed
    CANNOT = "cannot"    # nothing paid: no hopper can make this amount, or none answers


@dataclass(frozen=True)
class PayoutResult:
    """How a payout ended. ``paid + unpaid == asked``, in minor units; ``coins`` maps each
    coin value to how many of it left the machine."""

    status: PayoutStatus
    asked: int
    paid: int
    unpaid: int
    coins: dict[int, int]
    detail: str = ""


@dataclass(frozen=True)
class HopperState:
    """One hopper as it reads now: the coin it pays, its dispense counter (one more per
    dispense obeyed; 0 after a reset) and the current or last dispense's coins."""

    address: int
    value: int
    counter: int
    remaining: int
    paid: int
    unpaid: int

    def paid_since(self, mark: int) -> int | None:
        """Coins paid by the one dispense started after the counter read ``mark`` (0 when none
        started); None when it cannot be told (several dispenses since, or a reset). The
        counter runs 1..255 and wraps to 1."""
        if self.counter == mark:
            return 0
        if self.counter == mark % 255 + 1:
            return self.paid
        return None


@runtime_checkable
class CashDevices(Device, Protocol):
    """The cash at a payment point: coin acceptor and note validator (with escrow) taking
    money, hoppers paying change. Money is refused (inhibited) except between
    ``accept(True)`` and ``accept(False)``; ``open()`` leaves it inhibited."""

    def subscribe(self, callback: Callable[[CashEvent], None]) -> None:
        """Call ``callback`` (from the driver's thread) for every event, in order."""

    def accept(self, on: bool) -> None:
        """Take coins and notes (True) or refuse them all (False). Raises DeviceClosed,
        DeviceTimeout, DeviceOperationError."""

    def accept_escrow(self) -> None:
        """Stack the note held in escrow; its CREDIT event follows. Raises DeviceOperationError
        when the validator cannot (jam, cash box full), DeviceClosed, DeviceTimeout."""

    def return_escrow(self) -> None:
        """Give the note in escrow back; a RETURNED event follows. Raises as accept_escrow."""

    def payout(self, amount: int) -> PayoutResult:
        """Pay ``amount`` (minor units) in coins from the hoppers; blocks until they stop.
        Raises DeviceClosed, ValueError for a negative amount."""

    def hoppers(self) -> list[HopperState]:
        """Read every hopper now (after a restart: what did the dispense under way pay?).
        Raises DeviceClosed, DeviceTimeout."""

    def counters(self) -> dict[str, int]:
        """The last event counter seen per device ("acceptor", "validator")."""

    def accepted(self) -> tuple[int, ...]:
        """The coin and note values taken (minor units, ascending), once open."""

    def resume(self, counters: dict[str, int]) -> None:
        """Before ``open()``: the counters stored with the last events acted on, so that events
        that happened while the controller was down are delivered, and none twice."""

    def health(self) -> dict: ...


@runtime_checkable
class ParcelCard(Protocol):
    """One parcel card (docs/cards.md) in a CardReader, for one hand-over; built by
    ``registry.parcel_card(reader)``. Blocking: call it off the event loop. Every method
    raises CardRemoved, CardStatusError, CardNotSupported as the card answers."""

    def open(self) -> object:
        """Select the application and check the card fits the profile."""

    def card_id(self) -> str:
        """The card's id as the store knows it (after ``open``), e.g. ``openpgp-FF00-0BADCAFE``."""

    def unlock(self, pin: str) -> None:
        """Present the PIN once. Raises CardPinWrong (tries left), CardPinBlocked."""

    def trade_number(self) -> str: ...

    def arm(self) -> None:
        """Present the PIN for one signature now and forget it (a hand-over that signs later)."""

    def sign_receipt(self, make: Callable[[int], CardReceipt]) -> tuple[CardReceipt, bytes, int]:
        """Sign ``make(signature_number)`` and write it back; (receipt, signature, counter)."""

    def stored_receipt(self) -> tuple[CardReceipt, bytes] | None:
        """The receipt the card holds (no PIN needed), with its signature; None if none."""


@runtime_checkable
class Speaker(Device, Protocol):
    """Spoken guidance (issue 15 §6): the kiosk reads a screen aloud in the recipient's
    language through a local speech engine. ``say`` returns at once and plays in the
    background; a new ``say`` cuts the one still playing. ``render`` gives the speech as a
    WAV file's bytes (blocking: call it off the event loop). Both raise DeviceOperationError
    when the engine fails, DeviceUnavailable for a language it cannot speak."""

    def say(self, text: str, language: str) -> None: ...

    def render(self, text: str, language: str) -> bytes: ...


# Roles the later issues fill in; named here so the registry and config know them.
ROLES = ("scanner", "card", "token", "biometric", "locks", "cash", "speech")
