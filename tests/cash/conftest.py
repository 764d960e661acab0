"""Fixtures for the cash devices: the real ccTalk driver on the emulated bus, and a recorder
that tests wait on (never sleep on)."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

import pytest

from kiosk.devices import registry
from kiosk.devices.roles import CashEvent, CashEventKind
from tests.support import strict_no_leaks

WAIT = 5.0  # seconds; only ever reached when a test is failing


@pytest.fixture(autouse=True)
def no_leaks():
    with strict_no_leaks():
        yield


class Events:
    """Subscriber keeping every CashEvent."""

    def __init__(self) -> None:
        self.items: list[CashEvent] = []
        self._cv = threading.Condition()

    def __call__(self, event: CashEvent) -> None:
        with self._cv:
            self.items.append(event)
            self._cv.notify_all()

    def of(self, kind: CashEventKind, device: str | None = None) -> list[CashEvent]:
        with self._cv:
            return [e for e in self.items if e.kind is kind and (device is None or e.device == device)]

    def wait_for(self, kind: CashEventKind, count: int = 1, device: str | None = None) -> list[CashEvent]:
        with self._cv:
            ok = self._cv.wait_for(lambda: len(self.of(kind, device)) >= count, WAIT)
        assert ok, f"expected {count} {kind.value} event(s); saw {self.items}"
        return self.of(kind, device)


def wait_until(predicate, what: str = "") -> None:
    """Poll ``predicate`` (emulator state, which nothing signals) until true."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(0.005)


@pytest.fixture
def make_cash():
    """Build, subscribe and open ``sim+cctalk://`` devices; close them all afterwards."""
    made = []

    def make(open_it: bool = True, **params):
        params = {"poll_ms": 10, **params}
        cash = registry.create("cash", "sim+cctalk://?" + urlencode(params))
        made.append(cash)
        events = Events()
        cash.subscribe(events)
        if open_it:
            cash.open()
        return cash, events

    yield make
    for cash in made:
        cash.close()
