"""The payment slot's live state beside the books (kiosk.service.payment): kept on the Site."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class Payments:
    """The payment slot's live state beside the books: how each open payment's recipient was
    verified (for the door's audit entry) and the tasks it started."""

    def __init__(self) -> None:
        self.verified: dict[str, tuple[str, str]] = {}  # payment id -> (how, source)
        self.escrow: int | None = None
        self.tasks: set[asyncio.Task] = set()
        self.closing: set[str] = set()  # payments a refund task is already closing

    def spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("payment task failed", exc_info=task.exception())

    async def stop(self) -> None:
        """Cancel what is still running (the controller is stopping)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
