"""Service events on their way to the screens.

The app reads ``service.subscribe()`` in one worker, numbers each event, keeps the last
few, and posts a ``ServiceEvent`` to the screen showing at that moment. A screen that
starts after the event it waits for (the door can open while the code screen is still
up) catches up with ``EventFeed.since``: it asks for everything after the number it was
given when the command was sent, and ignores numbers it has already handled.
"""

from __future__ import annotations

from collections import deque

from textual.message import Message

from kiosk.service.api import Event


class ServiceEvent(Message, bubble=False):
    """One event of the service's stream, numbered in order of arrival."""

    def __init__(self, seq: int, event: Event) -> None:
        super().__init__()
        self.seq = seq
        self.event = event

    @property
    def kind(self) -> str:
        return self.event.kind


class EventFeed:
    """Numbers events as they arrive and remembers the most recent ``keep`` of them."""

    def __init__(self, keep: int = 128) -> None:
        self._recent: deque[tuple[int, Event]] = deque(maxlen=keep)
        self._seq = 0

    @property
    def seq(self) -> int:
        """The number of the latest event (0 before the first)."""
        return self._seq

    def add(self, event: Event) -> ServiceEvent:
        self._seq += 1
        self._recent.append((self._seq, event))
        return ServiceEvent(self._seq, event)

    def since(self, seq: int) -> list[ServiceEvent]:
        """Fresh messages for the remembered events numbered after ``seq``, oldest first."""
        return [ServiceEvent(n, event) for n, event in self._recent if n > seq]
