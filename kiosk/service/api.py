"""The service API: every call a screen (recipient kiosk, courier flow, counter terminal,
technician panel) can make of the controller, and the event stream it can listen to.
Nothing else: a screen imports this module (and kiosk.errors), never the controller,
the config, the database or a device.

One Protocol per role; ``KioskService`` is all of them, and is what the controller
implements. The in-process transport is the ``Controller`` itself (tests, the demo);
the local-socket transport implements the same Protocols, and one contract test suite
runs against both. Every command is a coroutine (a call may cross a socket); only
``subscribe`` and ``ui_settings`` are plain calls (a remote client fetches the settings
once, when it connects, and reads its event stream from a local queue).

Errors: commands raise the domain errors of ``kiosk.errors`` — CodeInvalid (with
``attempts_left``), LockedOut, SlowDown (with ``retry_after``), OutOfService, UnknownParcel,
NotCollectable (with ``reason``; PaymentDue with ``amount_due``), SeeStaff, DoorFault, NoLockerFree, CounterIncomplete,
TagMalformed, TagForged, TagNotForThisSite, TagSwapped, InvalidTransition; a screen maps
each to words for the person in front of it. Returns: the DTOs of kiosk.service.dto.
Events: the typed events of kiosk.service.events (docs/service-api.md lists them).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, Protocol, runtime_checkable

from kiosk.service.dto import (ClerkOverview, CollectedCard, CounterAnswer, PaymentSession, CounterTicket, CourierSession, DoorOpening, ManifestPullResult,
                               ReturnItem, RoundItem, SiteStatus, UiSettings, DeviceTraffic)

from kiosk.service.events import (DeskState, Event, EventKind, Subscription, Alarm, CancellationNeedsStaff,
                                  CounterRead, CounterReady, CounterRejected, DepositStarted, DoorClosed, DoorOpen,
                                  ForgottenPickup, LockerFault, LockerState, ManifestCancelled, ManifestImported,
                                  ParcelArrived, ParcelCollected, ParcelExpired, PickupNotTaken, PickupStarted, Ready, ScanRejected,
                                  SyncStatus, VerificationFailed)

DEFAULT_DESK = "counter"
CounterField = Literal["secret", "label"]


@runtime_checkable
class EventSource(Protocol):
    """What every screen has: the event stream and the site's settings for screens."""

    def subscribe(self) -> Subscription:
        """Every event from now on, in order (a slow reader loses the oldest)."""

    def ui_settings(self) -> UiSettings:
        """Languages, inactivity timeout, which readers exist: what a screen needs to know."""


@runtime_checkable
class RecipientService(EventSource, Protocol):
    """The recipient at a locker bank (F6): trade number + secret, a door opens."""

    async def check_trade_number(self, trade_number: str) -> str:
        """Before the secret is asked: can this parcel be collected here now? Returns how
        the recipient proves it (the parcel's method: ``ic_card`` means its card and the
        card's PIN, ``submit_card``; anything else a secret, ``submit_code``). An unknown
        number counts as a failed attempt, as a typed code would. Raises OutOfService,
        SlowDown, UnknownParcel, LockedOut, NotCollectable (PaymentDue), SeeStaff."""

    async def submit_code(self, trade_number: str, secret: str) -> DoorOpening:
        """Check the code; on success the parcel's locker is unlocked (its outcome arrives
        as events: door_open, parcel_collected or locker_fault). Raises SlowDown,
        UnknownParcel, LockedOut, NotCollectable, SeeStaff, CodeInvalid, DoorFault."""

    async def submit_card(self, trade_number: str, pin: str) -> DoorOpening:
        """An IC-card parcel (F3): its card in the reader checks the PIN, signs the receipt,
        then the locker is unlocked. Raises what ``submit_code`` raises, CodeInvalid for a
        wrong PIN (tries left) or another parcel's card, and CardProblem (``reason``:
        removed — put it back and try again; blocked, unsupported, failed — staff)."""

    async def submit_finger(self, trade_number: str) -> DoorOpening:
        """A biometric parcel (F5): the finger on the sensor is matched against the store's
        reference (here or at the store, as ``[verification] biometric`` says), then the
        locker is unlocked. Raises what ``submit_code`` raises, CodeInvalid for another
        finger (attempts left), and FingerProblem (``reason``: no_finger, poor_image —
        place it again, no attempt counted; unavailable — staff)."""

    async def extend_hold(self, trade_number: str, secret: str) -> float:
        """The recipient keeps the parcel longer: the secret is checked as for ``submit_code``
        (same attempt limits), then the deadline moves by ``[holding] extend_hours`` (at most
        ``extensions_max`` times). Returns the new deadline. Raises what ``submit_code``
        raises before the door, and NotCollectable ("not_extendable")."""

    async def pay_at_locker(self, trade_number: str, secret: str) -> PaymentSession:
        """A parcel with money due, at a site whose payment slot takes cash
        (``ui_settings().pays_cash``): the secret is checked as for ``submit_code``, then money
        is taken; ``payment`` events count it up, and the door opens (``pickup_started``) only
        once it is paid and the change given. Raises what ``submit_code`` raises, SeeStaff
        (the cash devices are out of order)."""

    async def cancel_payment(self, payment_id: str) -> PaymentSession:
        """The recipient gives up: every note in escrow and every coin taken is paid back
        (``payment`` events: refunding, then refunded or refund_owed). Raises
        InvalidTransition (already paid)."""

    async def drop_off(self, trade_number: str, code: str) -> DoorOpening:
        """Someone sends a parcel: the drop-off code the store gave them is checked (the same
        attempt limits as a pickup), then a free door of the right size opens; the parcel
        put in and the door shut is its arrival. Raises SlowDown, UnknownParcel, NotCollectable
        (``not_dropoff``, ``dropped_off``), LockedOut, CodeInvalid, NoLockerFree, DoorFault."""

    async def speak(self, text: str, language: str) -> None:
        """Read ``text`` (what the screen shows, never a secret) aloud in ``language`` through
        the kiosk's speech device (``ui_settings().speaks``); a new call cuts the one still
        playing. Raises SeeStaff (no speech here, or it failed), InvalidTransition (too long)."""

    async def reopen(self, trade_number: str) -> DoorOpening:
        """Open the door again after a ``pickup_not_taken`` (the door shut on the parcel),
        without the secret, within ``reopen_until`` of that event. Raises NotCollectable
        (``reopen_expired``: type the secret again), SeeStaff, DoorFault."""


@runtime_checkable
class CourierService(EventSource, Protocol):
    """A courier loading lockers: sign in with the courier code, then one parcel at a time."""

    async def courier_login(self, code: str) -> CourierSession:
        """Raises SlowDown, CodeInvalid."""

    async def deposit(self, token: str, trade_number: str) -> DoorOpening:
        """Open a free locker for an expected parcel (its arrival is recorded on door
        evidence). Raises CodeInvalid (session expired), UnknownParcel, NotCollectable,
        NoLockerFree, SeeStaff, DoorFault."""

    async def courier_logout(self, token: str) -> None:
        """End the session (idempotent)."""

    async def collection_round(self, token: str) -> tuple[RoundItem, ...]:
        """The doors this courier's round empties: parcels dropped off to be sent, and parcels
        whose holding period ended. Raises CodeInvalid (session expired)."""

    async def open_for_round(self, token: str, locker: int) -> DoorOpening:
        """Open one door of the round; the parcel taken and the door shut is it ``returned``
        (``parcel_returned``). Raises CodeInvalid, InvalidTransition (nothing to take there), DoorFault."""


@runtime_checkable
class CounterService(EventSource, Protocol):
    """A clerk's counter desk (F1/F2 tags, plain secret): reads, a check, a hand-over."""

    async def counter_enter(self, text: str, *, field: CounterField,
                            desk: str = DEFAULT_DESK) -> CounterAnswer:
        """A line typed (or typed by a keyboard-wedge scanner) into the desk's ``field``.
        The service decides what it is: a tag or a recipient's phone code whatever the
        field, else a label's trade number (label field) or the secret to check (secret
        field; empty means "check the phone code held"). Raises what ``counter_verify``
        raises, and TagMalformed, TagForged, TagNotForThisSite."""

    async def counter_verify(self, secret: str | None = None, *, trade_number: str | None = None,
                             desk: str = DEFAULT_DESK) -> CounterTicket:
        """Check the recipient against the desk's reads (``secret`` None: the phone code
        held). Raises SlowDown, CounterIncomplete, TagSwapped, UnknownParcel, SeeStaff,
        LockedOut, NotCollectable, CodeInvalid."""

    async def counter_confirm(self, clerk_id: str, ticket: str, *, desk: str = DEFAULT_DESK,
                              cash_received: int | None = None) -> str:
        """The clerk hands the verified parcel over; returns its trade number. With money
        due (the ticket's ``amount_due``), ``cash_received`` is the cash taken (minor units).
        Raises CounterIncomplete, LockedOut, NotCollectable (PaymentDue), UnknownParcel."""

    async def counter_verify_finger(self, *, desk: str = DEFAULT_DESK) -> CounterTicket:
        """F5 at the counter (``DeskState.finger``): the recipient's finger on the desk's sensor
        is matched for the label the desk has read; the clerk then confirms the ticket.
        Raises CounterIncomplete, SeeStaff, NotCollectable, LockedOut, CodeInvalid (another
        finger), FingerProblem (``reason`` no_finger / poor_image / unavailable)."""

    async def counter_verify_card(self, pin: str, *, desk: str = DEFAULT_DESK) -> CounterTicket:
        """F3 at the counter (the desk's state says ``card``): the parcel's card in the desk's
        reader checks the PIN typed and must carry the label's trade number; the ticket is
        confirmed like any other (the card signs then). Raises CodeInvalid (tries left, or
        another parcel's card), CardProblem (``reason``), CounterIncomplete, LockedOut,
        NotCollectable, SeeStaff."""

    async def counter_collect_card(self, clerk_id: str) -> CollectedCard:
        """A used parcel card in the desk's reader is taken back for the store: its id and
        the receipt it holds are recorded (``card_collected`` event, audit). Raises SeeStaff
        (no card, not a parcel card, an unreadable receipt)."""

    async def counter_cancel(self, *, desk: str = DEFAULT_DESK) -> DeskState:
        """Forget the desk's reads (next customer); returns the empty desk."""

    async def counter_desk(self, *, desk: str = DEFAULT_DESK) -> DeskState:
        """What the desk holds now."""

    async def counter_receive(self, clerk_id: str, trade_number: str) -> None:
        """A parcel for the counter came in from the courier: it is now arrived.
        Raises UnknownParcel, NotCollectable, SeeStaff."""


@runtime_checkable
class ClerkService(Protocol):
    """Staff actions, each audited under the clerk's id."""

    async def clerk_open_locker(self, clerk_id: str, number: int) -> str:
        """Open a locker for inspection; returns the opening's id. Raises InvalidTransition, DoorFault."""

    async def clerk_reset_attempts(self, clerk_id: str, trade_number: str) -> None:
        """Unlock a locked-out parcel. Raises UnknownParcel."""

    async def clerk_hand_over(self, clerk_id: str, trade_number: str, reason: str, *,
                              payment_taken: bool = False) -> None:
        """Hand a parcel over in person (after checking the recipient's proof). A parcel with
        money due needs ``payment_taken`` (the clerk confirms the money was taken; audited).
        Raises UnknownParcel, InvalidTransition, PaymentDue."""

    async def clerk_set_in_service(self, clerk_id: str, number: int, in_service: bool, reason: str = "") -> None:
        """Put a locker back in service, or take it out. Raises InvalidTransition."""

    async def clerk_mark_returned(self, clerk_id: str, trade_number: str) -> None:
        """An expired parcel was taken out to go back to the store. Raises UnknownParcel, InvalidTransition."""

    async def returns(self) -> tuple[ReturnItem, ...]:
        """Expired parcels waiting to go back to the store."""

    async def clerk_extend_hold(self, clerk_id: str, trade_number: str) -> float:
        """Extend a parcel's hold (``ParcelRow.actions`` has ``extend``); returns the new
        deadline. Raises UnknownParcel, LockedOut, NotCollectable ("not_extendable")."""

    async def clerk_acknowledge_alarm(self, clerk_id: str, event_id: str) -> None:
        """The clerk has seen an alarm (``ClerkOverview.alarms``) and dealt with it: audited,
        and off the list. Raises UnknownAlarm."""

    async def clerk_overview(self) -> ClerkOverview:
        """Every parcel still here on its list (locked out, expired, forgotten, nearing
        expiry, waiting) with the actions that apply, the lockers, the store link, and
        today's figures (kiosk.service.clerk_overview)."""


@runtime_checkable
class TechnicianService(Protocol):
    """Looking at the site and nudging its store link."""

    async def site_status(self) -> SiteStatus:
        """Lockers, parcels, the store link and the devices."""

    async def pull_manifest(self) -> ManifestPullResult:
        """Pull the store's manifest now. Raises
        ConfigError (no store configured), StoreUnreachable, StoreRejected, BadStoreReply."""

    async def device_traffic(self, role: str, limit: int = 200) -> DeviceTraffic:
        """The last ``limit`` frames on the line of the device in ``role`` (as named in
        ``site_status().devices``), with its counters and round-trip times. Raises
        UnknownDevice (no device in that role)."""


@runtime_checkable
class LockerScreenService(RecipientService, CourierService, Protocol):
    """What the screen at a locker bank uses: recipients collect, couriers load."""


@runtime_checkable
class KioskService(RecipientService, CourierService, CounterService, ClerkService, TechnicianService, Protocol):
    """Every role's calls: what the controller offers (in process, or over the socket)."""


def calls(protocol: type) -> dict[str, Any]:
    """Every call ``protocol`` declares, its bases' included (name -> the declared function)."""
    members: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, Protocol, Generic) or not getattr(klass, "_is_protocol", False):
            continue
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("_"):
                members[name] = value
    return members


ROLE_PROTOCOLS: dict[str, type] = {
    "recipient": RecipientService,
    "courier": CourierService,
    "counter": CounterService,
    "clerk": ClerkService,
    "technician": TechnicianService,
}

__all__ = ["calls", "Alarm", "CancellationNeedsStaff", "ClerkService", "CollectedCard", "CounterAnswer", "PaymentSession", "CounterField", "CounterRead",
           "CounterReady", "CounterRejected", "CounterService", "CounterTicket", "CourierService", "CourierSession",
           "DEFAULT_DESK", "DepositStarted", "DeskState", "DoorClosed", "DoorOpen", "DoorOpening", "Event",
           "EventKind", "EventSource", "ForgottenPickup", "KioskService", "LockerFault", "LockerScreenService",
           "LockerState", "ManifestCancelled", "ManifestImported", "ManifestPullResult", "ParcelArrived",
           "ParcelCollected", "ParcelExpired", "PickupNotTaken", "PickupStarted", "ROLE_PROTOCOLS", "Ready", "RecipientService",
           "ReturnItem", "ScanRejected", "SiteStatus", "Subscription", "SyncStatus", "TechnicianService",
           "UiSettings", "VerificationFailed"]
