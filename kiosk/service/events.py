"""The controller's event stream for screens: one ``EventKind`` and one typed event per kind.

Every screen (and test) subscribes and gets every event. Events are small, typed and never
carry a secret; they are not the outbox (which is durable and goes to the store backend).
A subscriber that falls behind by ``maxsize`` events loses the oldest, never blocks the
controller.

Each kind is a frozen dataclass below whose fields are its payload, registered under its
``EventKind``; ``EventBus.publish(kind, at, **fields)`` builds the right one and refuses
unknown kinds and fields, so a misspelt event cannot reach a screen. ``to_wire`` and
``from_wire`` turn an event into plain JSON-able data and back (the socket transport).
The same words are in docs/service-api.md; a test keeps the two in step.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar


class EventKind(enum.StrEnum):
    READY = "ready"
    PICKUP_STARTED = "pickup_started"
    DEPOSIT_STARTED = "deposit_started"
    DOOR_OPEN = "door_open"
    DOOR_CLOSED = "door_closed"
    PARCEL_ARRIVED = "parcel_arrived"
    PARCEL_COLLECTED = "parcel_collected"
    PARCEL_RETURNED = "parcel_returned"
    PICKUP_NOT_TAKEN = "pickup_not_taken"
    PARCEL_EXPIRED = "parcel_expired"
    FORGOTTEN_PICKUP = "forgotten_pickup"
    LOCKER_FAULT = "locker_fault"
    LOCKER_STATE = "locker_state"
    ALARM = "alarm"
    VERIFICATION_FAILED = "verification_failed"
    SCAN_REJECTED = "scan_rejected"
    MANIFEST_IMPORTED = "manifest_imported"
    MANIFEST_CANCELLED = "manifest_cancelled"
    CANCELLATION_NEEDS_STAFF = "cancellation_needs_staff"
    SYNC_STATUS = "sync_status"
    SERVICE_STATE = "service_state"
    COUNTER_READ = "counter_read"
    COUNTER_REJECTED = "counter_rejected"
    COUNTER_READY = "counter_ready"
    PAYMENT = "payment"


@dataclass(frozen=True)
class Event:
    """Base of every event: its kind (fixed per class) and when it happened (the
    controller's clock). ``event["locker"]`` reads a field; ``data`` is the payload as a dict."""

    kind: ClassVar[EventKind]
    at: float

    def __getitem__(self, key: str) -> Any:
        if key not in self._fields():
            raise KeyError(key)
        return getattr(self, key)

    @property
    def data(self) -> dict[str, Any]:
        """The payload (every field but ``at``) as a plain dict."""
        return {name: getattr(self, name) for name in self._fields()}

    @classmethod
    def _fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "at")


EVENT_TYPES: dict[EventKind, type[Event]] = {}
E = TypeVar("E", bound=type[Event])


def _kind(kind: EventKind):
    def register(cls: E) -> E:
        if kind in EVENT_TYPES:
            raise TypeError(f"two event classes for {kind}")
        cls.kind = kind
        EVENT_TYPES[kind] = cls
        return cls
    return register


# --- the events -------------------------------------------------------------------------------

@_kind(EventKind.READY)
@dataclass(frozen=True)
class Ready(Event):
    """The controller has started: devices open, books reconciled with the doors."""

    lockers: int


@_kind(EventKind.PICKUP_STARTED)
@dataclass(frozen=True)
class PickupStarted(Event):
    """A recipient was verified and the locker's unlock pulse is being sent. ``source`` is
    "typed" or "scan" (a phone code held to the camera), so a screen can tell a door it
    did not ask for. ``with_locker``: this door opened with that one, for the same visit
    (several parcels, one pickup code: kiosk.service.visits)."""

    locker: int
    trade_number: str
    source: str = "typed"
    with_locker: int | None = None


@_kind(EventKind.DEPOSIT_STARTED)
@dataclass(frozen=True)
class DepositStarted(Event):
    """A courier's drop-off: the chosen locker's unlock pulse is being sent."""

    locker: int
    trade_number: str


@_kind(EventKind.DOOR_OPEN)
@dataclass(frozen=True)
class DoorOpen(Event):
    """A door sensor shows the door open. ``op`` is the opening under way (deposit,
    pickup, service), None when there is none (then a ``locker_fault`` or ``alarm`` follows)."""

    locker: int
    op: str | None = None


@_kind(EventKind.DOOR_CLOSED)
@dataclass(frozen=True)
class DoorClosed(Event):
    """A door sensor shows the door closed."""

    locker: int
    op: str | None = None


@_kind(EventKind.PARCEL_ARRIVED)
@dataclass(frozen=True)
class ParcelArrived(Event):
    """A parcel is in: in ``locker`` (door evidence), or at the counter (``locker`` None)."""

    trade_number: str
    locker: int | None = None


@_kind(EventKind.PARCEL_COLLECTED)
@dataclass(frozen=True)
class ParcelCollected(Event):
    """A parcel was handed over: on door evidence (``by`` "door") or by a clerk (``by`` "clerk")."""

    trade_number: str
    locker: int | None = None
    by: str = "door"


@_kind(EventKind.PARCEL_RETURNED)
@dataclass(frozen=True)
class ParcelReturned(Event):
    """The courier's round took a parcel out on door evidence: one dropped off to be sent
    (``sent``), or one whose holding period ended (kiosk.service.dropoff)."""

    trade_number: str
    locker: int
    sent: bool = False


@_kind(EventKind.PICKUP_NOT_TAKEN)
@dataclass(frozen=True)
class PickupNotTaken(Event):
    """The pickup door was shut with the parcel still inside (the compartment's occupancy
    sensor says so): not collected; the parcel waits in ``locker`` and can be collected again:
    ``reopen()`` opens it without the secret until ``reopen_until`` (None: not offered)."""

    trade_number: str
    locker: int
    reopen_until: float | None = None


@_kind(EventKind.PARCEL_EXPIRED)
@dataclass(frozen=True)
class ParcelExpired(Event):
    """A parcel's holding period ended: it waits to go back to the store."""

    trade_number: str
    locker: int | None = None


@_kind(EventKind.FORGOTTEN_PICKUP)
@dataclass(frozen=True)
class ForgottenPickup(Event):
    """A forgotten-pickup warning was raised (and sent to the store)."""

    trade_number: str
    hours_left: float


@_kind(EventKind.LOCKER_FAULT)
@dataclass(frozen=True)
class LockerFault(Event):
    """An opening failed (jammed, unlock failed, interrupted by a restart): the locker
    needs a person; the parcel stays where the books say."""

    locker: int
    reason: str | None = None
    op: str | None = None


@_kind(EventKind.LOCKER_STATE)
@dataclass(frozen=True)
class LockerState(Event):
    """A clerk put a locker in or out of service; ``state`` is its new state."""

    locker: int
    state: str


@_kind(EventKind.ALARM)
@dataclass(frozen=True)
class Alarm(Event):
    """An alarm for staff: ``alarm`` is "left_open", "tamper" (a door opened with no
    command), "site_attempts" (a burst of wrong codes at this site), "courier_attempts"
    (courier sign-in closed after wrong courier codes), "storage_low" (the disk is
    nearly full) or "event_rejected" (the store refused an event on its own; it is
    quarantined: see ``StoreLinkStatus.quarantined``)."""

    alarm: str
    locker: int | None = None


@_kind(EventKind.VERIFICATION_FAILED)
@dataclass(frozen=True)
class VerificationFailed(Event):
    """A wrong code was entered; ``trade_number`` is None when the number is unknown here."""

    trade_number: str | None = None


@_kind(EventKind.SCAN_REJECTED)
@dataclass(frozen=True)
class ScanRejected(Event):
    """A recipient's phone code held to the camera was refused (there is no caller to
    raise it to). ``reason``: wrong_secret (``attempts_left``), locked_out, slow_down
    (``retry_after`` s), unknown_parcel, not_collectable (``detail``, ``message``; with
    ``amount_due`` when the detail is payment_due), door_fault, see_staff, unexpected."""

    trade_number: str
    reason: str
    code: str = "recipient"
    attempts_left: int | None = None
    retry_after: float | None = None
    detail: str | None = None
    message: str | None = None
    amount_due: int | None = None


@_kind(EventKind.PAYMENT)
@dataclass(frozen=True)
class PaymentProgress(Event):
    """A cash payment at a locker moved (kiosk.service.payment): ``state`` is collecting,
    changing, paid, refunding, refunded or refund_owed; ``credited`` counts up as money is
    taken; ``escrow`` is a note being checked; ``paid_back`` the change or refund paid, and
    ``owed`` what the machine could not pay back (a clerk must)."""

    payment_id: str
    trade_number: str
    state: str
    amount_due: int
    credited: int
    escrow: int | None = None
    paid_back: int = 0
    owed: int = 0


@_kind(EventKind.MANIFEST_IMPORTED)
@dataclass(frozen=True)
class ManifestImported(Event):
    """The store's manifest added ``added`` expected parcels."""

    added: int


@_kind(EventKind.MANIFEST_CANCELLED)
@dataclass(frozen=True)
class ManifestCancelled(Event):
    """The store cancelled expected parcels; ``removed`` of them were dropped here."""

    removed: int


@_kind(EventKind.CANCELLATION_NEEDS_STAFF)
@dataclass(frozen=True)
class CancellationNeedsStaff(Event):
    """The store cancelled a parcel that has already arrived: staff must take it out."""

    trade_number: str


@_kind(EventKind.SYNC_STATUS)
@dataclass(frozen=True)
class SyncStatus(Event):
    """The store link changed health on ``channel`` (events, manifest, verify)."""

    channel: str
    ok: bool
    error: str | None = None
    rejected: bool = False


@_kind(EventKind.SERVICE_STATE)
@dataclass(frozen=True)
class ServiceState(Event):
    """The pickup point went out of service (``in_service`` False: its storage cannot be
    written, so it refuses new hand-overs and drop-offs; ``reason`` says why) or came back."""

    in_service: bool
    reason: str | None = None


@dataclass(frozen=True)
class DeskState:
    """What a counter desk holds now, for the clerk's screen. Never a secret.

    ``tag_method`` ("f1_tag"/"f2_tag") once a tag is held, with the F1 tag's own signed
    ``tag_trade_number``; ``label`` once the parcel's label was read; ``phone_code`` when a
    recipient's code is held (used once by the next check); ``mismatch`` when tag and
    label name different parcels; ``missing`` what a check still needs ("label", "secret");
    ``verified`` the trade number verified and waiting for the clerk's confirmation;
    ``card`` when the label's parcel is an IC-card parcel (F3: its card in the desk's
    reader and the card's PIN, ``counter_verify_card``, instead of a secret); ``token``
    when a token has been read (F4; a token parcel's check also needs "token"); ``finger``
    when the label's parcel is a biometric one (F5: ``counter_verify_finger``, no secret)."""

    desk: str
    tag_method: str | None = None
    tag_trade_number: str | None = None
    label: str | None = None
    phone_code: bool = False
    mismatch: bool = False
    missing: tuple[str, ...] = ("label", "secret")
    verified: str | None = None
    card: bool = False
    token: bool = False
    finger: bool = False


@_kind(EventKind.COUNTER_READ)
@dataclass(frozen=True)
class CounterRead(Event):
    """A read at a counter desk was accepted: ``read`` is "tag", "label" or "secret" (a
    phone code); ``state`` is the desk after it."""

    desk: str
    read: str
    state: DeskState


@_kind(EventKind.COUNTER_REJECTED)
@dataclass(frozen=True)
class CounterRejected(Event):
    """A read or a check at a desk was refused. ``reason``: unreadable, forged,
    other_site, swapped, wrong_secret, locked_out, slow_down, incomplete, unknown_parcel,
    not_collectable, see_staff, unexpected (kiosk.service.counter.REASONS); ``source`` is
    "scan" (the desk's scanner: nobody else hears of it) or "typed" (the caller got the
    error too); ``tag_dropped`` when the refused read was a tag (the desk holds none now);
    ``state`` is the desk after it."""

    desk: str
    reason: str
    state: DeskState
    source: str = "scan"
    tag_dropped: bool = False


@_kind(EventKind.COUNTER_READY)
@dataclass(frozen=True)
class CounterReady(Event):
    """A recipient was verified at a desk: the parcel may be handed over once the clerk
    confirms (the ticket goes only to the caller of ``counter_verify``)."""

    desk: str
    trade_number: str
    method: str
    state: DeskState


# --- wire form ------------------------------------------------------------------------------

_NESTED: dict[str, type] = {"state": DeskState}


def to_wire(event: Event) -> dict[str, Any]:
    """The event as plain JSON-able data: ``{"kind": ..., "at": ..., **fields}``."""
    return {"kind": event.kind.value, **dataclasses.asdict(event)}


def from_wire(data: dict[str, Any]) -> Event:
    """An event from ``to_wire``'s form. Raises ValueError for an unknown kind or field."""
    fields = dict(data)
    kind = EventKind(fields.pop("kind"))
    for name, cls in _NESTED.items():
        if isinstance(fields.get(name), dict):
            nested = dict(fields[name])
            if "missing" in nested:
                nested["missing"] = tuple(nested["missing"])
            fields[name] = cls(**nested)
    try:
        return EVENT_TYPES[kind](**fields)
    except TypeError as err:
        raise ValueError(f"{kind}: {err}") from None


# --- the bus --------------------------------------------------------------------------------

class EventBus:
    def __init__(self, maxsize: int = 1000):
        self._queues: set[asyncio.Queue[Event]] = set()
        self._maxsize = maxsize
        self.published = 0

    def publish(self, kind: EventKind | str, at: float, **fields: Any) -> Event:
        """Build the event of ``kind`` from ``fields`` and give it to every subscriber.
        Raises ValueError for an unknown kind, TypeError for a missing or unknown field."""
        return self.deliver(EVENT_TYPES[EventKind(kind)](at=at, **fields))

    def deliver(self, event: Event) -> Event:
        """Give an event already built (e.g. received over the service socket) to every subscriber."""
        self.published += 1
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # drop the oldest: a slow screen must not stall the doors
            queue.put_nowait(event)
        return event

    def subscribe(self) -> Subscription:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._maxsize)
        self._queues.add(queue)
        return Subscription(self, queue)

    def _drop(self, queue: asyncio.Queue[Event]) -> None:
        self._queues.discard(queue)


class Subscription:
    """An async iterator of events; also ``await sub.next(kind, timeout)`` for tests and scenarios."""

    def __init__(self, bus: EventBus, queue: asyncio.Queue[Event]):
        self._bus = bus
        self._queue = queue

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    async def next(self, *kinds: str, timeout: float = 10.0, where=None) -> Event:
        """The next event of one of ``kinds`` (any kind if none given) matching ``where``."""
        async def wait() -> Event:
            while True:
                event = await self._queue.get()
                if (not kinds or event.kind in kinds) and (where is None or where(event)):
                    return event
        async with asyncio.timeout(timeout):   # not wait_for: it can swallow a cancellation on 3.11
            return await wait()

    def drain(self) -> list[Event]:
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    def close(self) -> None:
        self._bus._drop(self._queue)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
