"""A scripted KioskService for the screen's snapshot and unit tests.

The flow tests drive the real controller on a simulated site; the snapshots use this so
that every pixel is decided by the test (no Argon2 timing, no emulator threads, no random
trade numbers). Each command answers with what the test put in ``answers`` (a value, or an
exception to raise); events are published on a real ``EventBus``.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from kiosk.service.api import DepositStarted, PickupStarted
from kiosk.service.events import EventBus


class FakeService:
    def __init__(self, *, languages=("en", "ja"), inactivity_s: float = 45.0):
        self.config = SimpleNamespace(ui_inactivity_s=inactivity_s, ui_languages=tuple(languages),
                                      devices={"locks": "sim+kerong://", "scanner": "sim+camera://"})
        self.bus = EventBus()
        self.calls: list[tuple] = []
        self.logged_out: list[str] = []
        self.gate: asyncio.Event | None = None  # when set, commands wait for it (a slow service)
        self.answers: dict[str, object] = {
            "submit_code": PickupStarted("1234-5678", 3, "op-1"),
            "courier_login": "token-1",
            "deposit": DepositStarted("1234-5678", 5, "op-2"),
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

    async def submit_code(self, trade_number: str, secret: str) -> PickupStarted:
        self.calls.append(("submit_code", trade_number))  # never the secret
        return await self._answer("submit_code")

    async def courier_login(self, code: str) -> str:
        self.calls.append(("courier_login",))
        return await self._answer("courier_login")

    async def deposit(self, token: str, trade_number: str) -> DepositStarted:
        self.calls.append(("deposit", token, trade_number))
        return await self._answer("deposit")

    def courier_logout(self, token: str) -> None:
        self.logged_out.append(token)

    def status(self) -> dict:
        return {}

    def publish(self, kind: str, **data) -> None:
        self.bus.publish(kind, 0.0, **data)


class FakeCounterService:
    """A scripted counter (the part of the service the counter terminal uses), for snapshots.

    ``read`` publishes a ``counter_read`` as the desk's scanner would; commands answer with
    what the test put in ``answers`` (a value, or an exception to raise)."""

    def __init__(self, *, languages=("en", "ja")):
        from kiosk.service.counter import Presented, Ready

        self.config = SimpleNamespace(ui_inactivity_s=45.0, ui_languages=tuple(languages))
        self.bus = EventBus()
        self.calls: list[tuple] = []
        self.answers: dict[str, object] = {
            "counter_present": Presented("label", None, "1234-5678", "1234-5678", False, ("secret",)),
            "counter_verify": Ready("ticket-1", "1234-5678", "f2_tag", "local", 0.0),
            "counter_confirm": "1234-5678",
        }

    def _answer(self, command: str):
        answer = self.answers[command]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def subscribe(self):
        return self.bus.subscribe()

    def publish(self, kind: str, **data) -> None:
        self.bus.publish(kind, 0.0, **{"desk": "counter", **data})

    def read(self, read: str, *, method: str | None, trade_number: str | None, mismatch: bool = False) -> None:
        self.publish("counter_read", read=read, method=method, trade_number=trade_number, mismatch=mismatch)

    async def counter_present(self, payload: bytes, *, desk: str = "counter", source: str = "scan"):
        self.calls.append(("counter_present", source))
        return self._answer("counter_present")

    async def counter_verify(self, secret=None, *, trade_number=None, desk: str = "counter"):
        self.calls.append(("counter_verify",))   # never the secret
        return self._answer("counter_verify")

    def counter_confirm(self, clerk_id: str, ticket: str, *, desk: str = "counter") -> str:
        self.calls.append(("counter_confirm", clerk_id, ticket))
        return self._answer("counter_confirm")

    def counter_cancel(self, *, desk: str = "counter") -> None:
        self.calls.append(("counter_cancel",))
