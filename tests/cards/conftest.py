"""Fixtures for the IC card tests: a private pcscd with vpcd readers, and readers on it.

The PC/SC tests run the production driver (``drivers.cards.pcsc``) against the virtual
OpenPGP card through the real pcscd and vpcd (hwsim/cards/pcscd.py starts a private
daemon; no system service is used). They skip, saying why, only where pcscd or vpcd is
not installed or the private daemon cannot run (not root). Nothing sleeps: tests wait
for card events with a timeout that only a failing test reaches.
"""

from __future__ import annotations

import threading

import pytest

from kiosk.devices import registry
from kiosk.devices.roles import CardEvent, CardPresence

WAIT = 10.0


@pytest.fixture(scope="session")
def pcscd():
    from hwsim.cards import pcscd as private
    why = private.missing()
    if why:
        pytest.skip(f"PC/SC tests need a private pcscd: {why}")
    return private.shared_pcscd()


class Events:
    """A subscriber that keeps CardEvents; tests wait on it."""

    def __init__(self) -> None:
        self.events: list[CardEvent] = []
        self._cv = threading.Condition()

    def __call__(self, event: CardEvent) -> None:
        with self._cv:
            self.events.append(event)
            self._cv.notify_all()

    def wait(self, presence: CardPresence, count: int = 1) -> CardEvent:
        with self._cv:
            ok = self._cv.wait_for(lambda: sum(e.presence == presence for e in self.events) >= count, WAIT)
        assert ok, f"no {presence.value} event #{count} (events: {self.events})"
        return [e for e in self.events if e.presence == presence][count - 1]


@pytest.fixture
def open_reader(pcscd):
    """``open_reader(url)``: a sim+pcsc reader, opened, with its card seen by pcscd."""
    made = []

    def make(url: str = "sim+pcsc://", wait_card: bool = True):
        reader = registry.create("card", url)
        events = Events()
        reader.subscribe(events)
        made.append(reader)
        reader.open()
        if wait_card:
            events.wait(CardPresence.INSERTED)
        return reader, events

    yield make
    for reader in made:
        reader.close()
