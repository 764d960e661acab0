"""The payment slot's live state beside the books (kiosk.service.payment): kept on the Site."""

from __future__ import annotations

import asyncio


class Payments:
    """The payment slot's live state beside the books: how each open payment's recipient was
    verified (for the door's audit entry) and the tasks it started."""

    def __init__(self) -> None:
        self.verified: dict[str, tuple[str, str]] = {}  # payment id -> (how, source)
        self.escrow: int | None = None
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        """Cancel what is still running (the controller is stopping)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
