"""What every step of the recipient flow has in common.

A ``KioskScreen`` lays out its own content (``compose_main``) beside the app's optional
side panel (the simulator's doors in the demo), says how long it may sit untouched before
the app goes back to the start (``idle_after``), and reaches the service through the app.

Screens decide nothing about where the flow goes next: they post their outcome as a
message (``PickupScreen.DoorOpened``, ``DoorOpenScreen.Closed`` ...) and the app, which
holds the map of the flow, switches to the next screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen

from kiosk.service.api import LockerScreenService
from kiosk.ui.app_base import beside_side_panel
from kiosk.ui.widgets import IdleWarning

if TYPE_CHECKING:
    from kiosk.ui.app import RecipientApp


class KioskScreen(Screen):
    """One step of the flow; subclasses implement ``compose_main``."""

    WARNS_BEFORE_IDLE = True
    """Count down across the bottom before going back to the start (not on a "thank you")."""

    @property
    def kiosk(self) -> "RecipientApp":
        return cast("RecipientApp", self.app)

    @property
    def service(self) -> LockerScreenService:
        return self.kiosk.service

    def idle_after(self) -> float | None:
        """Seconds without a touch or key press before the app returns to the start;
        None for never. By default the configured inactivity timeout."""
        return self.kiosk.inactivity_s

    def can_go_idle(self) -> bool:
        """False while something is under way that must not be abandoned (a command sent)."""
        return True

    def holds_keys_after(self, key: events.Key) -> bool:
        """True when ``key`` will change this screen (another screen, another field after a
        check): the app then holds the keys typed after it until this screen, or the one it
        switches to, calls ``keys_ready``. Asked before the key is handed on."""
        return False

    def on_screen_resume(self) -> None:
        # After compose and mount (where the screen asked for its focus): keys may come.
        self.app.call_later(self.kiosk.keys_ready, self)
        if self.kiosk.speaking:      # once asked for, every screen that follows is read out
            self.call_after_refresh(self.kiosk.action_read_aloud)

    def warn_idle(self, seconds: float | None) -> None:
        """Count down the ``seconds`` left before the app goes back to the start; None hides it."""
        if not self.is_mounted or not self.query(IdleWarning):
            return
        warning = self.query_one(IdleWarning)
        if seconds is None:
            warning.stop()
        else:
            warning.start(seconds)

    def compose(self) -> ComposeResult:
        yield IdleWarning()
        yield from beside_side_panel(self.kiosk, self.compose_main())

    def compose_main(self) -> ComposeResult:
        """The screen's own part, beside the optional side panel. Every screen overrides it."""
        yield from ()
