"""The service API: what a screen (recipient kiosk, counter terminal, technician panel)
may ask of the controller, and the event stream it may listen to. Nothing else.

``KioskService`` is the contract. The in-process transport is the ``Controller`` itself
(tests, ``kiosk demo``); the local-socket transport (several screens, textual-serve)
implements the same Protocol, and one contract test suite runs against both.

Commands raise the domain errors of ``kiosk.errors`` (CodeInvalid, LockedOut, SlowDown,
UnknownParcel, NotCollectable, SeeStaff, DoorFault, NoLockerFree); a screen maps each to
words for the person in front of it.

Events (``Event.kind`` → data): ready, pickup_started {locker, trade_number, source: "typed" | "scan"},
deposit_started {locker, trade_number}, door_open / door_closed {locker, op},
parcel_collected {locker, trade_number}, parcel_arrived {locker, trade_number},
locker_fault {locker, reason, op}, alarm {alarm, locker?}, verification_failed,
manifest_imported {added}, locker_state {locker, state},
scan_rejected {code: "recipient", trade_number, reason, attempts_left?, retry_after?, detail?, message?}
(a recipient's phone code refused; ``reason`` as kiosk.service.controller.scan_rejection).
"""

from __future__ import annotations

from typing import Protocol

from kiosk.config import Config
from kiosk.service.deposit import DepositStarted
from kiosk.service.events import Event, Subscription
from kiosk.service.pickup import PickupStarted

__all__ = ["KioskService", "Event", "Subscription", "PickupStarted", "DepositStarted"]


class KioskService(Protocol):
    config: Config

    def subscribe(self) -> Subscription: ...

    async def submit_code(self, trade_number: str, secret: str) -> PickupStarted: ...

    async def courier_login(self, code: str) -> str: ...

    async def deposit(self, token: str, trade_number: str) -> DepositStarted: ...

    def courier_logout(self, token: str) -> None: ...

    def status(self) -> dict: ...
