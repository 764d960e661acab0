"""A real driver that owns the emulator it talks to (the ``sim+…://`` devices).

The driver is the project's real one, unchanged; the emulator is on ``.sim`` for tests,
scenarios and the technician's panel, and is stopped when the driver is closed, so a
``sim+…`` device is single-use and never leaves an emulator thread behind.
"""

from __future__ import annotations


class OwnsEmulator:
    """Mixin placed before the driver class: ``class X(OwnsEmulator, RealDriver)``."""

    sim = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.sim is not None:
                self.sim.stop()
