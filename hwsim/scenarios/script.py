"""Small pieces shared by the scripted days: asserting that a step is refused as planned.

A scenario never stops at the first surprise: each one is written down in its
``unexpected`` list, and the result reports them all.
"""

from __future__ import annotations

from kiosk.errors import KioskError


async def expect(unexpected: list[str], error: type[KioskError], coro) -> None:
    """Await ``coro``; note in ``unexpected`` anything but the project error ``error``."""
    try:
        await coro
    except error:
        return
    except KioskError as err:
        unexpected.append(f"expected {error.__name__}, got {type(err).__name__}: {err}")
        return
    unexpected.append(f"expected {error.__name__}, got success")
