"""What every technician screen shares: its own part beside the optional side panel (the
simulator's controls in the demo), like the recipient's and the counter's screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

if TYPE_CHECKING:
    from kiosk.ui.technician.app import TechnicianApp


class TechScreen(Screen):
    @property
    def tech(self) -> "TechnicianApp":
        return cast("TechnicianApp", self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="kiosk-frame"):
            with Vertical(classes="kiosk-main"):
                yield from self.compose_main()
            panel = self.tech.make_side_panel()
            if panel is not None:
                panel.add_class("kiosk-side-panel")
                yield panel

    def compose_main(self) -> ComposeResult:
        """The screen's own part. Every screen overrides it."""
        yield from ()
