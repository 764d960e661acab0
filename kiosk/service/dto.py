"""What the service API's calls return: small frozen dataclasses, never a secret, never a
database row or a device. The socket transport sends them as plain JSON-able data
(``dataclasses.asdict``); kiosk/service/api.py lists which call returns which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kiosk.service.events import DeskState

OpeningKind = Literal["pickup", "deposit", "service"]


@dataclass(frozen=True)
class DoorOpening:
    """A door is being unlocked for ``trade_number``: the opening ``op_id`` of ``kind`` at
    ``locker``. The outcome (collected, arrived, fault) arrives as events."""

    kind: OpeningKind
    trade_number: str
    locker: int
    op_id: str
    # Several parcels, one visit (the store's group): the group's other doors opened with it,
    # in the order they were pulsed; each parcel is collected on its own door's evidence.
    others: tuple["OtherDoor", ...] = ()


@dataclass(frozen=True)
class RoundItem:
    """A door the courier's round empties (kiosk.service.dropoff): ``why`` is "send" (a
    parcel dropped off to be sent) or "expired" (its holding period ended)."""

    locker: int
    trade_number: str
    why: str


@dataclass(frozen=True)
class OtherDoor:
    trade_number: str
    locker: int
    op_id: str


@dataclass(frozen=True)
class PaymentSession:
    """A cash payment for ``trade_number`` is open at this site's payment slot: insert
    ``amount_due`` (minor units). Progress and the outcome arrive as ``payment`` events; the
    door opens (``pickup_started``) only once the payment and its change are complete."""

    payment_id: str
    trade_number: str
    amount_due: int
    credited: int
    state: str
    accepts: tuple[int, ...] = ()       # the coin and note values the slot takes (minor units)


@dataclass(frozen=True)
class UiSettings:
    """What a screen needs to know about the site: never the config itself (which holds
    courier code hashes and key paths)."""

    site_id: str
    languages: tuple[str, ...]          # offered in this order; the first is the default
    inactivity_s: float                 # back to the start after this long untouched
    reads_codes: bool                   # a code reader is configured (phone codes, tags)
    counter_methods: tuple[str, ...] = ()   # methods a counter desk here can verify
    staff_contact: dict[str, str] = field(default_factory=dict)   # language -> where and how to reach staff
    pays_cash: bool = False             # a payment slot takes cash here (money due is paid at the locker)
    reads_cards: bool = False           # an IC card reader is configured (F3 parcels, used cards taken back)
    reads_fingers: bool = False         # a fingerprint sensor is configured (F5 parcels)
    speaks: bool = False                # spoken guidance: the screens can be read aloud (speak)


@dataclass(frozen=True)
class CourierSession:
    """A signed-in courier: the ``token`` to pass to ``deposit``; valid ``valid_s`` from
    its last use."""

    token: str
    courier_id: str
    valid_s: float


@dataclass(frozen=True)
class CounterTicket:
    """A verified hand-over waiting for the clerk: "hand over parcel <trade_number>".
    ``checked`` is "local", "online" or "local_fallback"."""

    ticket: str
    trade_number: str
    method: str
    checked: str
    at: float
    amount_due: int = 0   # still to pay (minor units): the clerk takes it before confirming


@dataclass(frozen=True)
class CounterAnswer:
    """The answer to a line entered at a counter desk: the desk after it, what it was read
    as ("tag", "label", "secret" — or None when it was a check), and the ticket when the
    line was the secret and it matched."""

    state: DeskState
    read: str | None = None
    ticket: CounterTicket | None = None


@dataclass(frozen=True)
class ManifestPullResult:
    """What one manifest pull did: pages read, parcels added, cancellations applied."""

    pages: int
    added: int
    cancelled: int


@dataclass(frozen=True)
class ReturnItem:
    """An expired parcel waiting to go back to the store, and where it is."""

    trade_number: str
    locker: int | None
    deadline: float | None


@dataclass(frozen=True)
class LockerStatus:
    number: int
    state: str
    door: str
    fault: str | None = None
    parcel: str | None = None           # the trade number inside (staff screens only)
    busy: bool = False                  # an opening is under way


@dataclass(frozen=True)
class ChannelStatus:
    """One channel of the store link (events, manifest, verify)."""

    last_attempt_at: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    failures: int = 0
    next_attempt_at: float | None = None


@dataclass(frozen=True)
class StoreLinkStatus:
    enabled: bool
    store: str | None
    pending: int
    oldest_pending: float | None
    channels: dict[str, ChannelStatus] = field(default_factory=dict)
    quarantined: int = 0                # events the store refused on their own: kept, not retried


@dataclass(frozen=True)
class DeviceStatus:
    role: str
    url: str
    ok: bool
    detail: str = ""                    # the device's repr, or why it is unavailable


@dataclass(frozen=True)
class StorageStatus:
    """The database: writable or not (and since when), free space, door readings waiting."""

    writable: bool = True
    failing: str | None = None
    failing_since: float | None = None
    free_bytes: int | None = None
    evidence_waiting: int = 0


@dataclass(frozen=True)
class TaskStatus:
    """One of the controller's background tasks: restarted after every failure."""

    name: str
    running: bool
    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None


@dataclass(frozen=True)
class WireLine:
    """One frame on a device's line: "tx" host -> device, "rx" device -> host, "noise"
    bytes thrown away. ``hex`` leaves out what is secret or personal (and says so)."""

    at: float
    direction: str
    hex: str
    meaning: str


@dataclass(frozen=True)
class DeviceTraffic:
    """A device's wire, for the technician (kiosk.devices.wire): its last frames, oldest
    first, its counters and round-trip times. ``kept`` False: this device keeps no wire log
    (GPIO pins, or not open) — ``why`` says which."""

    role: str
    url: str
    kept: bool
    why: str = ""
    lines: tuple[WireLine, ...] = ()
    sent: int = 0
    received: int = 0
    noise_bytes: int = 0
    rtt_last_ms: float | None = None
    rtt_p50_ms: float | None = None
    rtt_max_ms: float | None = None
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteStatus:
    """The site at a glance: the same for the controller, ``kiosk status`` and scenarios."""

    site_id: str
    lockers: tuple[LockerStatus, ...]
    parcels: dict[str, int]             # parcel state -> how many
    to_return: tuple[ReturnItem, ...]
    store_link: StoreLinkStatus
    devices: tuple[DeviceStatus, ...] = ()
    live: bool = False                  # from the running controller (else read from its database)
    storage: StorageStatus = field(default_factory=StorageStatus)
    tasks: tuple[TaskStatus, ...] = ()


@dataclass(frozen=True)
class ParcelRow:
    """One parcel on the clerk's lists (kiosk.service.clerk_overview). ``list``: locked_out,
    expired, forgotten (warnings sent), nearing_expiry (within a day), waiting; ``actions``
    the clerk's actions that apply to it (receive, reset_attempts, hand_over, mark_returned)."""

    trade_number: str
    list: str
    state: str
    method: str
    locker: int | None
    deadline: float | None
    reminders_sent: int = 0
    failed_attempts: int = 0
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DayReport:
    """Parcels in and out between ``since`` and ``until`` (the site's local day)."""

    since: float
    until: float
    arrived: int = 0
    collected: dict[str, int] = field(default_factory=dict)   # by method
    expired: int = 0
    returned: int = 0


@dataclass(frozen=True)
class Alarm:
    """Something staff must see (kiosk.service.clerk_overview.ALARM_KINDS), until a clerk
    acknowledges it. ``what``: the event's own detail (why a door faulted, what was forged)."""

    event_id: str
    kind: str
    at: float
    trade_number: str | None = None
    locker: int | None = None
    what: str = ""


@dataclass(frozen=True)
class ClerkOverview:
    """What the clerk's "Parcels and lockers" screen shows: every parcel still here with its
    list and actions, the lockers, the store link, and today's figures."""

    parcels: tuple[ParcelRow, ...]
    lockers: tuple[LockerStatus, ...]
    store_link: StoreLinkStatus
    today: DayReport
    alarms: tuple[Alarm, ...] = ()


@dataclass(frozen=True)
class CollectedCard:
    """A used IC parcel card the counter took back for the store (kiosk.service.card_return)."""

    card_id: str
    trade_number: str | None      # from the receipt on the card; None: it holds none
    signature_number: int | None
