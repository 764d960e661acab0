"""The controller's event stream: every UI and test subscribes and gets every event.

Events are small dicts meant for screens (``door_opened`` for locker 3, ...). They are
not the outbox (which is for the store backend and is durable); a subscriber that falls
behind by ``maxsize`` events loses the oldest, never blocks the controller.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    kind: str
    at: float
    data: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key]


class EventBus:
    def __init__(self, maxsize: int = 1000):
        self._queues: set[asyncio.Queue] = set()
        self._maxsize = maxsize
        self.published = 0

    def publish(self, kind: str, at: float, **data) -> Event:
        event = Event(kind, at, data)
        self.published += 1
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # drop the oldest: a slow screen must not stall the doors
            queue.put_nowait(event)
        return event

    def subscribe(self) -> "Subscription":
        queue: asyncio.Queue = asyncio.Queue(self._maxsize)
        self._queues.add(queue)
        return Subscription(self, queue)

    def _drop(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)


class Subscription:
    """An async iterator of events; also ``await sub.next(kind, timeout)`` for tests and scenarios."""

    def __init__(self, bus: EventBus, queue: asyncio.Queue):
        self._bus = bus
        self._queue = queue

    def __aiter__(self):
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    async def next(self, *kinds: str, timeout: float = 10.0, where=None) -> Event:
        """The next event of one of ``kinds`` (any kind if none given) matching ``where``."""
        async def wait():
            while True:
                event = await self._queue.get()
                if (not kinds or event.kind in kinds) and (where is None or where(event)):
                    return event
        return await asyncio.wait_for(wait(), timeout)

    def drain(self) -> list[Event]:
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    def close(self) -> None:
        self._bus._drop(self._queue)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
