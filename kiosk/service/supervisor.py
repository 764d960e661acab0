"""Background tasks that never die: each runs under a supervisor that logs what went
wrong, waits (exponential backoff, capped) and starts it again, and keeps its health for
status. A full disk, a driver bug or a store that answers nonsense must not leave a
receipt notice unsent or a door's evidence unread for the rest of the day.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kiosk.clock import Clock
from kiosk.sync.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass
class TaskHealth:
    name: str
    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    running: bool = False


class Supervisor:
    def __init__(self, clock: Clock, *, initial_s: float = 0.1, cap_s: float = 30.0,
                 rng: random.Random | None = None) -> None:
        self.clock = clock
        self.backoff = Backoff(initial_s, cap_s, rng or random.Random())
        self.health: dict[str, TaskHealth] = {}
        self._tasks: list[asyncio.Task] = []

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task:
        """Run ``run()`` as task ``name``, again after any exception; it ends only when
        ``run`` returns or the supervisor stops."""
        health = self.health[name] = TaskHealth(name)
        task = asyncio.create_task(self._keep_running(health, run), name=name)
        self._tasks.append(task)
        return task

    async def _keep_running(self, health: TaskHealth, run: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while True:
            health.running = True
            try:
                await run()
                health.running = False
                return
            except asyncio.CancelledError:
                health.running = False
                raise
            except Exception as err:
                failures += 1
                health.restarts += 1
                health.running = False
                health.last_error, health.last_error_at = f"{type(err).__name__}: {err}", self.clock.now()
                log.exception("task %s failed (restart %d)", health.name, health.restarts)
            await asyncio.sleep(self.backoff.delay(failures))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
