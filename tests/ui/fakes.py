"""Scripted services for the screens' snapshot and unit tests (tests/test_service_api.py
checks that they satisfy the service API's Protocols, as the controller does).

The flow tests drive the real controller on a simulated site; the snapshots use this so
that every pixel is decided by the test (no Argon2 timing, no emulator threads, no random
trade numbers). Each command answers with what the test put in ``answers`` (a value, or an
exception to raise); events are published on a real ``EventBus``.
"""

from __future__ import annotations

import asyncio
import dataclasses

from kiosk.service.api import (CounterAnswer, CounterField, CounterTicket, CourierSession, DeskState, DoorOpening,
                               UiSettings)
from kiosk.service.events import EventBus


class FakeService:
    """A scripted LockerScreenService: recipients and couriers at a locker bank."""

    def __init__(self, *, languages=("en", "ja"), inactivity_s: float = 45.0, reads_codes: bool = True,
                 staff_contact: dict[str, str] | None = None, pays_cash: bool = False):
        self.settings = UiSettings("sim-site", tuple(languages), inactivity_s, reads_codes,
                                   staff_contact=dict(staff_contact or {}), pays_cash=pays_cash)
        self.bus = EventBus()
        self.calls: list[tuple] = []
        self.logged_out: list[str] = []
        self.gate: asyncio.Event | None = None  # when set, commands wait for it (a slow service)
        self.answers: dict[str, object] = {
            "submit_code": DoorOpening("pickup", "1234-5678", 3, "op-1"),
            "courier_login": CourierSession("token-1", "courier-sim", 300.0),
            "deposit": DoorOpening("deposit", "1234-5678", 5, "op-2"),
        }

    async def _answer(self, command: str):
        if self.gate is not None:
            await self.gate.wait()
        answer = self.answers[command]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def subscribe(self):
        return self.bus.subscribe()

    def ui_settings(self) -> UiSettings:
        return self.settings

    async def check_trade_number(self, trade_number: str) -> str:
        self.calls.append(("check_trade_number", trade_number))
        answer = self.answers.get("check_trade_number", "locker")
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)

    async def submit_card(self, trade_number: str, pin: str) -> DoorOpening:
        self.calls.append(("submit_card", trade_number))  # never the PIN
        return await self._answer("submit_card" if "submit_card" in self.answers else "submit_code")

    async def extend_hold(self, trade_number: str, secret: str) -> float:
        self.calls.append(("extend_hold", trade_number))  # never the secret
        return await self._answer("extend_hold")

    async def submit_finger(self, trade_number: str) -> DoorOpening:
        self.calls.append(("submit_finger", trade_number))
        return await self._answer("submit_finger" if "submit_finger" in self.answers else "submit_code")

    async def submit_code(self, trade_number: str, secret: str) -> DoorOpening:
        self.calls.append(("submit_code", trade_number))  # never the secret
        return await self._answer("submit_code")

    async def pay_at_locker(self, trade_number: str, secret: str):
        self.calls.append(("pay_at_locker", trade_number))  # never the secret
        return await self._answer("pay_at_locker")

    async def cancel_payment(self, payment_id: str):
        self.calls.append(("cancel_payment", payment_id))
        return await self._answer("cancel_payment")

    async def reopen(self, trade_number: str) -> DoorOpening:
        self.calls.append(("reopen", trade_number))
        return await self._answer("submit_code")

    async def speak(self, text: str, language: str) -> None:
        self.calls.append(("speak", language))

    async def courier_login(self, code: str) -> CourierSession:
        self.calls.append(("courier_login",))
        return await self._answer("courier_login")

    async def deposit(self, token: str, trade_number: str) -> DoorOpening:
        self.calls.append(("deposit", token, trade_number))
        return await self._answer("deposit")

    async def courier_logout(self, token: str) -> None:
        self.logged_out.append(token)

    async def collection_round(self, token: str):
        self.calls.append(("collection_round",))
        return await self._answer("collection_round")

    async def open_for_round(self, token: str, locker: int) -> DoorOpening:
        self.calls.append(("open_for_round", locker))
        return await self._answer("open_for_round")

    async def drop_off(self, trade_number: str, code: str) -> DoorOpening:
        self.calls.append(("drop_off", trade_number))
        return await self._answer("drop_off")

    def publish(self, kind: str, **data) -> None:
        self.bus.publish(kind, 0.0, **data)


class FakeCounterService:
    """A scripted CounterService (the part of the service the counter terminal uses), for snapshots.

    ``read`` publishes a ``counter_read`` as the desk's scanner would; commands answer with
    what the test put in ``answers`` (a value, or an exception to raise)."""

    def __init__(self, *, languages=("en", "ja")):
        self.settings = UiSettings("sim-site", tuple(languages), 45.0, True, ("secret", "f1_tag", "f2_tag"), reads_cards=True)
        self.bus = EventBus()
        self.calls: list[tuple] = []
        self.state = DeskState("counter")
        label = DeskState("counter", label="1234-5678", missing=("secret",))
        self.answers: dict[str, object] = {
            "counter_enter": CounterAnswer(label, "label"),
            "counter_verify": CounterTicket("ticket-1", "1234-5678", "f2_tag", "local", 0.0),
            "counter_confirm": "1234-5678",
        }

    def _answer(self, command: str):
        answer = self.answers[command]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def subscribe(self):
        return self.bus.subscribe()

    def ui_settings(self) -> UiSettings:
        return self.settings

    def publish(self, kind: str, **data) -> None:
        self.bus.publish(kind, 0.0, **{"desk": "counter", **data})

    def read(self, read: str, state: DeskState) -> None:
        self.state = state
        self.publish("counter_read", read=read, state=state)

    async def counter_enter(self, text: str, *, field: CounterField, desk: str = "counter") -> CounterAnswer:
        self.calls.append(("counter_enter", field))   # never the text: it may be a secret
        if field == "secret" and isinstance(self.answers.get("counter_verify"), BaseException):
            return self._answer("counter_verify")
        if field == "secret":
            ticket = self._answer("counter_verify")
            self.state = dataclasses.replace(self.state, verified=ticket.trade_number, missing=())
            return CounterAnswer(self.state, None, ticket)
        return self._answer("counter_enter")

    async def counter_collect_card(self, clerk_id: str):
        self.calls.append(("counter_collect_card", clerk_id))
        return self._answer("counter_collect_card")

    async def counter_verify_finger(self, *, desk: str = "counter") -> CounterTicket:
        self.calls.append(("counter_verify_finger",))
        return self._answer("counter_verify")

    async def counter_verify_card(self, pin: str, *, desk: str = "counter") -> CounterTicket:
        self.calls.append(("counter_verify_card",))   # never the PIN
        return self._answer("counter_verify")

    async def counter_verify(self, secret=None, *, trade_number=None, desk: str = "counter") -> CounterTicket:
        self.calls.append(("counter_verify",))   # never the secret
        return self._answer("counter_verify")

    async def counter_confirm(self, clerk_id: str, ticket: str, *, desk: str = "counter",
                              cash_received: int | None = None) -> str:
        self.calls.append(("counter_confirm", clerk_id, ticket))
        return self._answer("counter_confirm")

    async def counter_cancel(self, *, desk: str = "counter") -> DeskState:
        self.calls.append(("counter_cancel",))
        return DeskState(desk)

    async def counter_desk(self, *, desk: str = "counter") -> DeskState:
        return DeskState(desk)

    async def counter_receive(self, clerk_id: str, trade_number: str) -> None:
        self.calls.append(("counter_receive", clerk_id, trade_number))
