"""Waiting on the injected clock: until a deadline passes or somebody pokes.

The sync loops must keep time with the controller's ``Clock``, which in scenarios is a
ManualClock that only moves when told: a day of outage then takes no time at all. A
waiter therefore never trusts a single long sleep: it waits on an event with a short
real-time ceiling and looks at the clock again. ``poke()`` (new events queued, the clock
advanced by ``Controller.tick``, a pull asked for) ends the wait at once.
"""

from __future__ import annotations

import asyncio

from kiosk.clock import Clock


class Wakeup:
    def __init__(self, clock: Clock, max_wait_s: float = 0.5):
        self._clock = clock
        self._max_wait_s = max_wait_s
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def poke(self) -> None:
        """End the current (or next) wait. Safe from any thread; never raises."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
        else:
            try:
                loop.call_soon_threadsafe(self._event.set)
            except RuntimeError:
                pass  # the loop is shutting down: nobody is waiting any more

    async def until(self, deadline: float | None) -> None:
        """Return once the clock reaches ``deadline`` (None: no deadline) or on a poke."""
        while True:
            if self._event.is_set():
                self._event.clear()
                return
            now = self._clock.now()
            if deadline is not None and now >= deadline:
                return
            timeout = self._max_wait_s if deadline is None else min(self._max_wait_s, deadline - now)
            try:   # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation (cpython#86296)
                async with asyncio.timeout(timeout):
                    await self._event.wait()
            except TimeoutError:
                pass
