"""What every kiosk screen app shares (the recipient's and the counter's): the language
toggle's order, the side panel made afresh for each screen, and the size classes the
stylesheets lay out by.

Screens are drawn for 100x34 and up, and fit 80x24: below ``SHORT_BELOW`` rows the screen
has the class ``-short`` (tighter spacing, kiosk.tcss). A side panel (the simulator's
doors or scanner in the demo) sits beside the screen from ``SIDE_PANEL_WIDTH`` columns;
narrower, the screen has the class ``-narrow`` and the panel folds away: ``SIDE_PANEL_KEY``
swaps between the screen and the panel (the app's class ``-side-panel-shown``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, cast

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical

from kiosk.ui.texts import join
from textual.widget import Widget


class SpeakingApp(Protocol):
    """What the shared widgets and screens ask of the app they live in."""

    language: str
    languages: tuple[str, ...]

    @property
    def next_language(self) -> str: ...

    def action_go_idle(self) -> None: ...


SIDE_PANEL_WIDTH = 128
"""Columns from which a side panel (48) fits beside a screen (80)."""
SHORT_BELOW = 30
SIDE_PANEL_KEY = "f3"
CONTRAST_KEY = "f7"
READ_ALOUD_KEY = "f9"   # spoken guidance (kiosk.ui.read_aloud); a kiosk keypad maps its speech key to it


class KioskAppMixin:
    """Mixed into a Textual App (before it) that sets ``languages``, ``language`` and
    ``_side_panel``, and binds ``SIDE_PANEL_KEY`` to ``toggle_side_panel``."""

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (SIDE_PANEL_WIDTH, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (SHORT_BELOW, "-tall")]

    language: str
    languages: tuple[str, ...]
    _side_panel: Callable[[], Widget] | None
    _focus_before_panel: Widget | None = None

    @property
    def next_language(self) -> str:
        """The language the toggle switches to."""
        i = self.languages.index(self.language) if self.language in self.languages else -1
        return self.languages[(i + 1) % len(self.languages)]

    def action_toggle_contrast(self) -> None:
        """F7: the high-contrast theme, or the usual one again."""
        app = cast(App, self)
        app.theme = "kiosk" if app.theme == "kiosk-high-contrast" else "kiosk-high-contrast"

    def action_toggle_side_panel(self) -> None:
        """On a narrow terminal: show the side panel instead of the screen, or the screen again."""
        app = cast(App, self)
        screen = app.screen
        if self._side_panel is None or not screen.has_class("-narrow"):
            return   # nothing folded away
        app.toggle_class("-side-panel-shown")
        # The keys go where the eyes are: into the panel shown, then back where they were.
        if app.has_class("-side-panel-shown"):
            self._focus_before_panel = screen.focused
            panels = screen.query(".kiosk-side-panel")
            targets = [w for w in panels.first().query("*") if w.can_focus] if panels else []
            if targets:
                targets[0].focus()
        else:
            before = self._focus_before_panel
            screen.set_focus(before if before is not None and before.is_attached and before.screen is screen else None)
            self._focus_before_panel = None

    def _on_mount(self) -> None:
        # Textual calls each class's handler along the MRO: this one runs beside the app's own.
        app = cast(App, self)
        if self._side_panel is not None and app.size.width < SIDE_PANEL_WIDTH:
            app.notify(f"{SIDE_PANEL_KEY.upper()} shows the side panel (the terminal is narrower than "
                       f"{SIDE_PANEL_WIDTH} columns); {SIDE_PANEL_KEY.upper()} again, the screen", timeout=15)

    service_down: str | None = None   # why the service cannot serve now (reconnecting, storage), if it cannot

    def show_service_state(self, in_service: bool, reason: str) -> None:
        """A ``service_state`` event: while the controller cannot serve (the socket is
        reconnecting, or its storage failed), say so over every screen, in the app's
        language, until it can again. Requests made meanwhile wait and are sent once."""
        app = cast(App, self)
        if in_service:
            if self.service_down is not None:
                app.clear_notifications()
            self.service_down = None
            return
        self.service_down = reason
        texts = cast(Any, self).texts_for(self.language)
        # Out of service: where staff are, when the screen's words have it (the recipient's).
        text = texts.reconnecting if reason == "reconnecting" else join(texts.out_of_service, getattr(texts, "staff", ""))
        app.clear_notifications()
        app.notify(text, severity="warning", timeout=24 * 3600)

    def make_side_panel(self) -> Widget | None:
        """A new side panel for one screen (a widget can be mounted in only one place)."""
        return self._side_panel() if self._side_panel else None


def beside_side_panel(app: KioskAppMixin, main: ComposeResult) -> ComposeResult:
    """A screen's own part (``main``) with the app's side panel, if it has one, beside it:
    the layout every screen of every app shares (folded away on a narrow terminal)."""
    with Horizontal(classes="kiosk-frame"):
        with Vertical(classes="kiosk-main"):
            yield from main
        panel = app.make_side_panel()
        if panel is not None:
            panel.add_class("kiosk-side-panel")
            yield panel
