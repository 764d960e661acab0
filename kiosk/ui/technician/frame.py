"""What every technician screen shares: its own part beside the optional side panel (the
simulator's controls in the demo), like the recipient's and the counter's screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen

from kiosk.ui.app_base import beside_side_panel

if TYPE_CHECKING:
    from kiosk.ui.technician.app import TechnicianApp


class TechScreen(Screen):
    @property
    def tech(self) -> "TechnicianApp":
        return cast("TechnicianApp", self.app)

    def compose(self) -> ComposeResult:
        yield from beside_side_panel(self.tech, self.compose_main())

    def compose_main(self) -> ComposeResult:
        """The screen's own part. Every screen overrides it."""
        yield from ()
